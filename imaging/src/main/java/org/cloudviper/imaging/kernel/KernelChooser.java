package org.cloudviper.imaging.kernel;

/**
 * Chooses the kernel support W and the grid oversampling sigma for a requested accuracy: for every
 * candidate sigma the smallest W whose estimated error (aliasing along both axes) is below epsilon,
 * then the pair with the lowest estimated cost of gridding the expected number of visibilities plus
 * transforming the grid once. The cost constants are this module's measured costs per kernel lane and
 * per FFT butterfly (docs/imaging.md, "Choosing the kernel").
 */
public final class KernelChooser {
    /** Oversampling factors tried when none is imposed. */
    private static final double[] SIGMAS = {1.2, 1.25, 1.3, 1.4, 1.5, 1.6, 1.75, 2.0, 2.25, 2.5};
    /** Nanoseconds per sample outside the footprint (sorting, copying, placing, the kernel), one core. */
    static final double NS_PER_SAMPLE = 12;
    /** Nanoseconds per footprint row per 512-bit vector (8 complex64 or 4 complex128 cells), one core. */
    static final double NS_PER_ROW_VECTOR = 1.75;
    /** Nanoseconds per point per log2 of a 1-D FFT of a power-of-two length, and of other lengths. */
    static final double NS_PER_FFT_POINT_LOG_POW2 = 0.40;
    static final double NS_PER_FFT_POINT_LOG_MIXED = 0.58;
    /** The share of the error budget spent on aliasing; the kernel table gets the rest. */
    private static final double ALIASING_SHARE = 1.0;

    private KernelChooser() {
    }

    /**
     * @param npix         image side (even)
     * @param epsilon      requested error relative to the image peak
     * @param sigma        grid oversampling to impose, or 0 to choose
     * @param visPerImage  expected visibilities gridded per image (one channel), or 0 if unknown
     *                     (then npix^2 / 4 is assumed)
     * @param doubles      whether the grid is complex128 (twice the vectors per footprint row)
     */
    public static KernelPlan choose(int npix, double epsilon, double sigma, long visPerImage, boolean doubles) {
        if (npix < 8 || (npix & 1) != 0) {
            throw new IllegalArgumentException("npix: " + npix + " (expected: even, >= 8)");
        }
        if (!(epsilon >= 1e-13 && epsilon <= 0.1)) {
            throw new IllegalArgumentException("epsilon: " + epsilon + " (expected: 1e-13..0.1)");
        }
        if (sigma != 0 && !(sigma >= 1.15 && sigma <= 4)) {
            throw new IllegalArgumentException("sigma: " + sigma + " (expected: 0 to choose, or 1.15..4)");
        }
        double nvis = visPerImage > 0 ? visPerImage : (double) npix * npix / 4;
        double[] sigmas = sigma == 0 ? SIGMAS : new double[] {sigma};
        EsKernel best = null;
        int bestGrid = 0;
        double bestCost = Double.POSITIVE_INFINITY;
        double bestError = 0;
        for (double s : sigmas) {
            int n = goodSize((int) Math.ceil(s * npix));
            double actualSigma = (double) n / npix;
            for (int w = 2; w <= 16; w++) {
                EsKernel k = EsKernel.forOversampling(w, actualSigma);
                double err = 2 * k.aliasingError(actualSigma);
                if (err <= ALIASING_SHARE * epsilon) {
                    double cost = cost(npix, n, w, nvis, doubles);
                    if (cost < bestCost) {
                        best = k;
                        bestGrid = n;
                        bestCost = cost;
                        bestError = err;
                    }
                    break;
                }
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("epsilon: " + epsilon + " is out of reach with support <= 16"
                    + (sigma == 0 ? "" : " at sigma " + sigma));
        }
        return new KernelPlan(npix, bestGrid, best, epsilon, bestError);
    }

    /**
     * Estimated nanoseconds to grid nvis visibilities and transform one grid (see FloatGridTransform),
     * as measured by bench/ImagingBenchMain on one core; the grid's 512-bit vectors per footprint row
     * count the padded support, 8 complex cells per vector in float32 and 4 in float64.
     */
    static double cost(int npix, int n, int w, double nvis, boolean doubles) {
        int padded = (w + 7) & ~7;
        int vectors = padded / (doubles ? 4 : 8);
        double grid = nvis * (NS_PER_SAMPLE + w * vectors * NS_PER_ROW_VECTOR);
        double log = Math.log(n) / Math.log(2);
        boolean pow2 = (n & (n - 1)) == 0;
        // half the rows through complex FFTs, npix columns through real ones (half a complex each)
        double fft = (n / 2.0 + npix / 2.0) * n * log * (pow2 ? NS_PER_FFT_POINT_LOG_POW2 : NS_PER_FFT_POINT_LOG_MIXED);
        return grid + fft;
    }

    /** The smallest even n' >= n whose prime factors are 2, 3 and 5. */
    public static int goodSize(int n) {
        for (int m = Math.max(n, 2); ; m++) {
            if ((m & 1) != 0) {
                continue;
            }
            int r = m;
            for (int p : new int[] {2, 3, 5}) {
                while (r % p == 0) {
                    r /= p;
                }
            }
            if (r == 1) {
                return m;
            }
        }
    }
}
