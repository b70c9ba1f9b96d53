package org.cloudviper.cube.synth;

/**
 * A source of the synthetic sky, at direction cosines (l, m) from the phase centre (l east, m
 * north), with flux density {@code fluxJy} at {@code refFreqHz} and spectral index {@code alpha}
 * (S(f) = fluxJy (f / refFreqHz)^alpha). A Gaussian has full widths at half maximum along its major
 * and minor axes and a position angle of its major axis from north through east; a point source
 * has widths 0.
 */
public record Source(double fluxJy, double l, double m, double majorFwhmRad, double minorFwhmRad, double paRad,
        double refFreqHz, double alpha) {

    public Source {
        if (!(l * l + m * m < 1)) {
            throw new IllegalArgumentException("(l, m) = (" + l + ", " + m + ") (expected: l^2 + m^2 < 1)");
        }
        if (majorFwhmRad < 0 || minorFwhmRad < 0 || minorFwhmRad > majorFwhmRad) {
            throw new IllegalArgumentException("widths " + majorFwhmRad + ", " + minorFwhmRad
                    + " (expected: 0 <= minor <= major)");
        }
    }

    /** A point source with a flat spectrum. */
    public static Source point(double fluxJy, double l, double m) {
        return new Source(fluxJy, l, m, 0, 0, 0, 1, 0);
    }

    /** A Gaussian with a flat spectrum. */
    public static Source gaussian(double fluxJy, double l, double m, double majorFwhmRad, double minorFwhmRad,
            double paRad) {
        return new Source(fluxJy, l, m, majorFwhmRad, minorFwhmRad, paRad, 1, 0);
    }

    /** The same source with a spectral index about {@code refFreqHz}. */
    public Source withSpectrum(double refFreqHz, double alpha) {
        return new Source(fluxJy, l, m, majorFwhmRad, minorFwhmRad, paRad, refFreqHz, alpha);
    }

    /** n - 1, where n = sqrt(1 - l^2 - m^2). */
    public double nMinusOne() {
        double r2 = l * l + m * m;
        // 1 - sqrt(1 - r2) without cancellation
        return -r2 / (1 + Math.sqrt(1 - r2));
    }

    public boolean isPoint() {
        return majorFwhmRad == 0;
    }

    public double fluxAt(double freqHz) {
        return alpha == 0 ? fluxJy : fluxJy * Math.pow(freqHz / refFreqHz, alpha);
    }

    /**
     * The source's visibility at (u, v, w) in wavelengths, into {@code out[0]} (re), {@code out[1]}
     * (im), added to what is there: S exp(-2 pi i (u l + v m + w (n - 1))), times, for a Gaussian,
     * its Fourier transform exp(-2 pi^2 (sa^2 ua^2 + sb^2 ub^2)) on the axes (ua along the major
     * axis); the w-term is taken at the Gaussian's centre, exact for a point source and, for a
     * Gaussian, to the order of (width x offset) across it.
     */
    public void addVisibility(double u, double v, double w, double freqHz, double[] out) {
        double s = fluxAt(freqHz);
        if (!isPoint()) {
            double sa = majorFwhmRad / FWHM_PER_SIGMA;
            double sb = minorFwhmRad / FWHM_PER_SIGMA;
            double sinPa = Math.sin(paRad);
            double cosPa = Math.cos(paRad);
            double ua = u * sinPa + v * cosPa;
            double ub = u * cosPa - v * sinPa;
            s *= Math.exp(-2 * Math.PI * Math.PI * (sa * sa * ua * ua + sb * sb * ub * ub));
        }
        double phase = -2 * Math.PI * (u * l + v * m + w * nMinusOne());
        out[0] += s * Math.cos(phase);
        out[1] += s * Math.sin(phase);
    }

    /** FWHM / sigma of a Gaussian: 2 sqrt(2 ln 2). */
    static final double FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.log(2));
}
