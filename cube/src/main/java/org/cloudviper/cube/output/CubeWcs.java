package org.cloudviper.cube.output;

/**
 * Where a cube's pixels lie on the sky and in frequency, by the image convention of
 * docs/data-format.md: pixel [c, j, i] (0-based) lies at l = (i - npix/2) cell, m = (j - npix/2) cell
 * (l east, m north; direction cosines of the SIN projection about the phase centre) and at channel
 * frequency {@code freqHz[c]}.
 *
 * @param npix           pixels along each side
 * @param cellRad        the pixel size, radians
 * @param phaseCentreRad [ra, dec] of the phase centre, radians
 * @param freqHz         the frequency of each channel, Hz, evenly spaced (a FITS FREQ axis is linear)
 */
public record CubeWcs(int npix, double cellRad, double[] phaseCentreRad, double[] freqHz) {

    public CubeWcs {
        if (npix < 2 || !(cellRad > 0) || phaseCentreRad.length != 2 || freqHz.length < 1) {
            throw new IllegalArgumentException("npix " + npix + ", cell " + cellRad + ", " + phaseCentreRad.length
                    + " phase centre values, " + freqHz.length + " channels (expected: >= 2, > 0, 2, >= 1)");
        }
        phaseCentreRad = phaseCentreRad.clone();
        freqHz = freqHz.clone();
        double step = channelWidthHz(freqHz);
        for (int c = 1; c < freqHz.length; c++) {
            double expected = freqHz[0] + c * step;
            if (Math.abs(freqHz[c] - expected) > 1e-6 * Math.abs(step) + 1e-3) {
                throw new IllegalArgumentException("channel " + c + " at " + freqHz[c] + " Hz, not " + expected
                        + " Hz: the channels of a FITS cube must be evenly spaced");
            }
        }
    }

    private static double channelWidthHz(double[] f) {
        return f.length == 1 ? 1.0 : (f[f.length - 1] - f[0]) / (f.length - 1);
    }

    public int nchan() {
        return freqHz.length;
    }

    /** The channel spacing, Hz (1 for a single channel, whose width the cube does not know). */
    public double channelWidthHz() {
        return channelWidthHz(freqHz);
    }

    /** The FITS reference pixel (1-based) of both sky axes: the pixel at l = m = 0. */
    public double crpix() {
        return npix / 2 + 1;
    }

    @Override
    public double[] phaseCentreRad() {
        return phaseCentreRad.clone();
    }

    @Override
    public double[] freqHz() {
        return freqHz.clone();
    }
}
