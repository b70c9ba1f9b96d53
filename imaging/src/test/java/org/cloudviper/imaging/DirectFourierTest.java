package org.cloudviper.imaging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.cloudviper.imaging.grid.Gridders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Gridding + FFT + correction against the direct Fourier sum of the same visibilities (128 x 128,
 * 3,000 rows x 2 channels), and degridding against the direct prediction: the peak-normalised largest
 * error stays below the requested accuracy, for each precision over its range of accuracies.
 */
class DirectFourierTest {
    static final int NPIX = 128;
    static final double CELL = 0.2 / 3600 * Math.PI / 180;

    static Stream<Arguments> accuracies() {
        return Stream.of(true, false).flatMap(simd -> precisions().map(a -> Arguments.of(a.get()[0], a.get()[1], simd)));
    }

    static Stream<Arguments> precisions() {
        return Stream.of(
                Arguments.of(Precision.FLOAT32, 1e-2),
                Arguments.of(Precision.FLOAT32, 1e-3),
                Arguments.of(Precision.FLOAT32, 1e-4),
                Arguments.of(Precision.FLOAT32, 1e-5),
                Arguments.of(Precision.FLOAT64, 1e-3),
                Arguments.of(Precision.FLOAT64, 1e-5),
                Arguments.of(Precision.FLOAT64, 1e-7),
                Arguments.of(Precision.FLOAT64, 1e-9),
                Arguments.of(Precision.FLOAT64, 1e-11),
                Arguments.of(Precision.FLOAT64, 1e-12));
    }

    @Test
    void theSimdGriddersAreTestedToo() {
        assertTrue(Gridders.simdAvailable(), Gridders.describe());
    }

    @ParameterizedTest(name = "{0} epsilon {1} simd {2}")
    @MethodSource("accuracies")
    void dirtyAndPsfMatchTheDirectSum(Precision precision, double epsilon, boolean simd) {
        VisBlock block = Direct.randomBlock(42, 3000, 2, CELL);
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, epsilon, precision), simd);
        ChannelGrids dirty = imager.newGrids(2);
        ChannelGrids psf = imager.newGrids(2);
        imager.grid(block, block.weight(), dirty, psf);
        for (int c = 0; c < 2; c++) {
            double[] img = new double[NPIX * NPIX];
            double[] beam = new double[NPIX * NPIX];
            image(imager, dirty, c, img);
            image(imager, psf, c, beam);
            double errImage = Direct.peakNormalisedError(img, Direct.dirty(block, block.weight(), c, NPIX, CELL, false));
            double errPsf = Direct.peakNormalisedError(beam, Direct.dirty(block, block.weight(), c, NPIX, CELL, true));
            String what = imager.kernel() + " channel " + c + ": dirty " + errImage + ", psf " + errPsf;
            System.out.println(what);
            assertTrue(errImage < epsilon, what);
            assertTrue(errPsf < epsilon, what);
            int centre = NPIX / 2 * NPIX + NPIX / 2;
            assertEquals(1.0, beam[centre], epsilon, "PSF peak");
            for (double p : beam) {
                assertTrue(p <= beam[centre] + epsilon, "PSF peak at the centre pixel");
            }
        }
    }

    /** Grid sizes of every kind JTransforms treats apart: powers of two (256), mixed radix (160, 180, 192). */
    @ParameterizedTest(name = "sigma {0}")
    @org.junit.jupiter.params.provider.ValueSource(doubles = {1.25, 1.4, 1.5, 2.0})
    void everyGridSizeGivesTheDirectSum(double sigma) {
        VisBlock block = Direct.randomBlock(5, 1000, 1, CELL);
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, 1e-7, Precision.FLOAT64).withSigma(sigma));
        ChannelGrids dirty = imager.newGrids(1);
        imager.grid(block, block.weight(), dirty, null);
        double[] img = new double[NPIX * NPIX];
        imager.image(dirty, 0, img);
        double err = Direct.peakNormalisedError(img, Direct.dirty(block, block.weight(), 0, NPIX, CELL, false));
        assertTrue(err < 1e-7, imager.kernel() + ": " + err);
    }

    private static void image(Imager imager, ChannelGrids grids, int c, double[] out) {
        if (grids.precision() == Precision.FLOAT64) {
            imager.image(grids, c, out);
        } else {
            float[] f = new float[out.length];
            imager.image(grids, c, f);
            for (int i = 0; i < f.length; i++) {
                out[i] = f[i];
            }
        }
    }

    @ParameterizedTest(name = "{0} epsilon {1} simd {2}")
    @MethodSource("accuracies")
    void degriddingMatchesTheDirectPrediction(Precision precision, double epsilon, boolean simd) {
        VisBlock block = Direct.randomBlock(7, 500, 2, CELL);
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, epsilon, precision), simd);
        java.util.Random rnd = new java.util.Random(3);
        double[][] models = new double[2][NPIX * NPIX];
        ModelGrid[] grids = new ModelGrid[2];
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < models[c].length; i++) {
                models[c][i] = rnd.nextInt(200) == 0 ? 1 + rnd.nextDouble() : 0;
            }
            if (precision == Precision.FLOAT64) {
                grids[c] = imager.modelGrid(models[c]);
            } else {
                float[] f = new float[models[c].length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) models[c][i];
                }
                grids[c] = imager.modelGrid(f);
            }
        }
        double[] predicted = new double[2 * block.nrow() * 2];
        if (precision == Precision.FLOAT64) {
            imager.degrid(block, grids, predicted);
        } else {
            float[] f = new float[predicted.length];
            imager.degrid(block, grids, f);
            for (int i = 0; i < f.length; i++) {
                predicted[i] = f[i];
            }
        }
        double[] direct = Direct.predict(block, models, NPIX, CELL);
        double err = Direct.peakNormalisedError(predicted, direct);
        String what = imager.kernel() + ": degrid " + err;
        System.out.println(what);
        assertTrue(err < epsilon, what);
    }
}
