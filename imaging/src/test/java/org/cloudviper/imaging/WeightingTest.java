package org.cloudviper.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Uniform and Briggs weights against CASA's formulas computed here directly (casacore msvis
 * VisImagingWeight: density on npix x npix cells of 1 / (npix cell), cell = int(u npix cell + npix / 2)
 * kept if 0 < cell < npix, every sample added at its cell and at its conjugate's; uniform W = w / D;
 * Briggs W = w / (1 + f2 D), f2 = (5 10^-R)^2 / (sum D^2 / sum w)); and the density summed from
 * partial blocks equals the density of the whole.
 */
class WeightingTest {
    static final int NPIX = 64;
    static final double CELL = 0.5 / 3600 * Math.PI / 180;

    @Test
    void uniformAndBriggsFollowCasa() {
        VisBlock block = Direct.randomBlock(9, 600, 3, CELL);
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, 1e-4, Precision.FLOAT32));
        WeightDensity density = imager.newDensity(3);
        density.accumulate(block);
        for (Weighting weighting : new Weighting[] {Weighting.UNIFORM, Weighting.briggs(0.5), Weighting.briggs(-2),
                Weighting.briggs(2)}) {
            float[] got = new float[600 * 3];
            imager.weights(weighting, density).apply(block, got);
            for (int c = 0; c < 3; c++) {
                double[] expected = casa(block, c, weighting);
                for (int r = 0; r < 600; r++) {
                    assertEquals(expected[r], got[r * 3 + c], 1e-6 * Math.max(1, Math.abs(expected[r])),
                            weighting + " row " + r + " channel " + c);
                }
            }
        }
        float[] natural = new float[600 * 3];
        imager.weights(Weighting.NATURAL, null).apply(block, natural);
        for (int i = 0; i < natural.length; i++) {
            assertEquals(block.weight()[i], natural[i]);
        }
    }

    /** CASA's weights for channel c, written out from the definitions with a map of cells. */
    static double[] casa(VisBlock b, int c, Weighting weighting) {
        double uscale = NPIX * CELL;
        int origin = NPIX / 2;
        Map<Long, Double> gwt = new HashMap<>();
        double sumwt = 0;
        for (int r = 0; r < b.nrow(); r++) {
            double w = b.weight()[r * b.nchan() + c];
            if (w == 0) {
                continue;
            }
            double f = b.freqHz()[c] / Direct.C;
            double u = b.u()[r] * f;
            double v = b.v()[r] * f;
            for (int sign : new int[] {1, -1}) {
                int ucell = (int) (sign * uscale * u + origin);
                int vcell = (int) (sign * uscale * v + origin);
                if (ucell > 0 && ucell < NPIX && vcell > 0 && vcell < NPIX) {
                    gwt.merge((long) ucell * NPIX + vcell, w, Double::sum);
                    sumwt += w;
                }
            }
        }
        double f2 = 1;
        double d2 = 0;
        if (weighting instanceof Weighting.Briggs briggs) {
            double sumlocwt = 0;
            for (double d : gwt.values()) {
                sumlocwt += d * d;
            }
            f2 = Math.pow(5 * Math.pow(10, -briggs.robust()), 2) / (sumlocwt / sumwt);
            d2 = 1;
        }
        double[] out = new double[b.nrow()];
        for (int r = 0; r < b.nrow(); r++) {
            double w = b.weight()[r * b.nchan() + c];
            double f = b.freqHz()[c] / Direct.C;
            int ucell = (int) (uscale * b.u()[r] * f + origin);
            int vcell = (int) (uscale * b.v()[r] * f + origin);
            Double d = gwt.get((long) ucell * NPIX + vcell);
            boolean in = ucell > 0 && ucell < NPIX && vcell > 0 && vcell < NPIX && d != null && d > 0;
            out[r] = w != 0 && in ? w / (d * f2 + d2) : 0;
        }
        return out;
    }

    @Test
    void partialDensitiesSumToTheWhole() {
        VisBlock block = Direct.randomBlock(4, 500, 2, CELL);
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, 1e-4, Precision.FLOAT32));
        WeightDensity whole = imager.newDensity(2);
        whole.accumulate(block);
        WeightDensity a = imager.newDensity(2);
        WeightDensity b = imager.newDensity(2);
        a.accumulate(Blocks.rows(block, 0, 200));
        b.accumulate(Blocks.rows(block, 200, 500));
        a.add(b);
        for (int c = 0; c < 2; c++) {
            assertEquals(whole.sumWeights(c), a.sumWeights(c), 1e-9);
            float[] p = whole.plane(c);
            float[] q = a.plane(c);
            for (int i = 0; i < p.length; i++) {
                assertEquals(p[i], q[i], 1e-5f * Math.max(1, p[i]));
            }
        }
        float[] fromWhole = new float[1000];
        float[] fromParts = new float[1000];
        imager.weights(Weighting.briggs(0), whole).apply(block, fromWhole);
        imager.weights(Weighting.briggs(0), a).apply(block, fromParts);
        for (int i = 0; i < 1000; i++) {
            assertEquals(fromWhole[i], fromParts[i], 1e-6f * Math.max(1, fromWhole[i]));
        }
    }

    @Test
    void badInputIsRefusedClearly() {
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, 1e-4, Precision.FLOAT32));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> imager.weights(Weighting.UNIFORM, null));
        assertTrue(e.getMessage().contains("density"), e.getMessage());
        WeightDensity d = imager.newDensity(3);
        e = assertThrows(IllegalArgumentException.class, () -> d.accumulate(Direct.randomBlock(1, 10, 2, CELL)));
        assertTrue(e.getMessage().contains("channels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Weighting.parse("superuniform", 0));
        assertTrue(e.getMessage().contains("superuniform"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new VisBlock(10, new double[10], new double[10], new double[10], new double[] {1e9}, new float[5],
                        new float[10]));
        assertTrue(e.getMessage().startsWith("vis: 5 values"), e.getMessage());
        VisBlock longer = VisBlock.of(10, 1, new double[16], new double[16], new double[16], new double[] {1e9, 2e9},
                new float[40], new float[20]);
        assertEquals(1, longer.nchan(), "buffers longer than their content");
        e = assertThrows(IllegalArgumentException.class, () -> ImageSpec.of(64, CELL, 1e-6, Precision.FLOAT32));
        assertTrue(e.getMessage().contains("FLOAT32"), e.getMessage());
    }
}
