package org.cloudviper.imaging;

/**
 * What to image: an npix x npix image of square cells of {@code cellRad} radians centred on the
 * phase centre, to a relative accuracy {@code epsilon} (the largest error of any pixel relative to
 * the image's peak, against the direct Fourier sum). {@code sigma} imposes the grid oversampling (0:
 * chosen with the support from epsilon and the expected work); {@code visPerImage} is the number of
 * visibilities expected per channel image (0: unknown), which steers that choice.
 */
public record ImageSpec(int npix, double cellRad, double epsilon, Precision precision, double sigma,
        long visPerImage) {

    public ImageSpec {
        if (npix < 8 || (npix & 1) != 0 || npix > 16384) {
            throw new IllegalArgumentException("npix: " + npix + " (expected: even, 8..16384)");
        }
        if (!(cellRad > 0 && cellRad < 0.1)) {
            throw new IllegalArgumentException("cellRad: " + cellRad + " (expected: > 0, < 0.1)");
        }
        if (precision == null) {
            throw new IllegalArgumentException("precision: null");
        }
        double floor = precision == Precision.FLOAT32 ? 1e-5 : 1e-12;
        if (!(epsilon >= floor && epsilon <= 0.1)) {
            throw new IllegalArgumentException("epsilon: " + epsilon + " (expected: " + floor + "..0.1 for " + precision
                    + ")");
        }
        if (visPerImage < 0) {
            throw new IllegalArgumentException("visPerImage: " + visPerImage + " (expected: >= 0)");
        }
    }

    public static ImageSpec of(int npix, double cellRad, double epsilon, Precision precision) {
        return new ImageSpec(npix, cellRad, epsilon, precision, 0, 0);
    }

    public ImageSpec withSigma(double s) {
        return new ImageSpec(npix, cellRad, epsilon, precision, s, visPerImage);
    }

    public ImageSpec withVisibilitiesPerImage(long n) {
        return new ImageSpec(npix, cellRad, epsilon, precision, sigma, n);
    }
}
