package org.cloudviper.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Point sources, visibilities made here with the w term (V = sum S exp(-2 pi i (u l + v m + w (n - 1)))),
 * appear at their pixels with their flux, under every weighting: the peak of a normalised dirty image
 * is the flux, since the PSF's is 1.
 */
class PointSourceTest {
    static final int NPIX = 256;
    static final double CELL = 0.05 / 3600 * Math.PI / 180;
    /** (pixel i, pixel j, flux): l = (i - npix/2) cell, m = (j - npix/2) cell. */
    static final double[][] SOURCES = {{128, 128, 1.0}, {160, 100, 0.6}, {60, 200, 0.3}, {220, 40, 0.2}};

    static Stream<Weighting> weightings() {
        return Stream.of(Weighting.NATURAL, Weighting.UNIFORM, Weighting.briggs(0), Weighting.briggs(-1),
                Weighting.briggs(2));
    }

    /** 4,000 rows over a uv disc reaching 0.4 / cell, two channels, w about 5 % of |uv|. */
    static VisBlock sky(long seed) {
        Random rnd = new Random(seed);
        int nrow = 4000;
        int nchan = 2;
        double[] freq = {230e9, 231e9};
        double maxMetres = 0.4 / CELL * Direct.C / freq[1];
        double[] u = new double[nrow];
        double[] v = new double[nrow];
        double[] w = new double[nrow];
        for (int r = 0; r < nrow; r++) {
            double rad = maxMetres * Math.sqrt(rnd.nextDouble());
            double a = 2 * Math.PI * rnd.nextDouble();
            u[r] = rad * Math.cos(a);
            v[r] = rad * Math.sin(a);
            w[r] = 0.05 * rad * rnd.nextGaussian();
        }
        float[] vis = new float[2 * nrow * nchan];
        float[] wt = new float[nrow * nchan];
        for (int r = 0; r < nrow; r++) {
            for (int c = 0; c < nchan; c++) {
                double k = freq[c] / Direct.C;
                double re = 0;
                double im = 0;
                for (double[] s : SOURCES) {
                    double l = (s[0] - NPIX / 2) * CELL;
                    double m = (s[1] - NPIX / 2) * CELL;
                    double n1 = Math.sqrt(1 - l * l - m * m) - 1;
                    double ph = -2 * Math.PI * k * (u[r] * l + v[r] * m + w[r] * n1);
                    re += s[2] * Math.cos(ph);
                    im += s[2] * Math.sin(ph);
                }
                int i = r * nchan + c;
                vis[2 * i] = (float) re;
                vis[2 * i + 1] = (float) im;
                wt[i] = 0.5f + rnd.nextFloat();
            }
        }
        return new VisBlock(nrow, u, v, w, freq, vis, wt);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("weightings")
    void sourcesAtTheirPixelsWithTheirFlux(Weighting weighting) {
        VisBlock block = sky(11);
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, 1e-5, Precision.FLOAT32));
        WeightDensity density = null;
        if (weighting.needsDensity()) {
            density = imager.newDensity(block.nchan());
            density.accumulate(block);
        }
        ImagingWeights iw = imager.weights(weighting, density);
        float[] w = new float[block.nrow() * block.nchan()];
        iw.apply(block, w);
        ChannelGrids grids = imager.newGrids(block.nchan());
        imager.grid(block, w, grids, null);
        double maxW = 0;
        for (double x : block.w()) {
            maxW = Math.max(maxW, Math.abs(x) * block.freqHz()[1] / Direct.C);
        }
        double wBound = 1 - Math.cos(imager.wPhaseBound(maxW));
        for (int c = 0; c < block.nchan(); c++) {
            float[] img = new float[NPIX * NPIX];
            imager.image(grids, c, img);
            for (double[] s : SOURCES) {
                int i = (int) s[0];
                int j = (int) s[1];
                float peak = img[j * NPIX + i];
                // sidelobes of the others (about 1 / sqrt(samples) of their flux) and the w term
                assertEquals(s[2], peak, 0.03 + wBound, weighting + " channel " + c + " source at " + i + "," + j);
                for (int dj = -2; dj <= 2; dj++) {
                    for (int di = -2; di <= 2; di++) {
                        if (di != 0 || dj != 0) {
                            assertTrue(img[(j + dj) * NPIX + i + di] < peak, "peak at the source's own pixel");
                        }
                    }
                }
            }
            float brightest = Float.NEGATIVE_INFINITY;
            int at = -1;
            for (int p = 0; p < img.length; p++) {
                if (img[p] > brightest) {
                    brightest = img[p];
                    at = p;
                }
            }
            assertEquals(NPIX / 2 * NPIX + NPIX / 2, at, "the brightest pixel is the 1 Jy source at the centre");
        }
    }
}
