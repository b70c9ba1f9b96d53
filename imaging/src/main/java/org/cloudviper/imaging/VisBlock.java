package org.cloudviper.imaging;

/**
 * A block of visibilities: {@code nrow} rows (one baseline at one time each) by the channels of
 * {@code freqHz}. The arrays are borrowed, never copied or kept: the caller may reuse them once a call
 * returns.
 *
 * @param u      metres, nrow values (and v, w likewise); converted to wavelengths per channel
 * @param freqHz the block's channel frequencies
 * @param vis    Stokes I, [row][chan][re, im]: 2 * nrow * nchan floats
 * @param weight data weights, [row][chan]: nrow * nchan floats; 0 for a flagged sample
 */
public record VisBlock(int nrow, double[] u, double[] v, double[] w, double[] freqHz, float[] vis, float[] weight) {

    public VisBlock {
        if (nrow < 0) {
            throw new IllegalArgumentException("nrow: " + nrow + " (expected: >= 0)");
        }
        if (freqHz == null || freqHz.length == 0) {
            throw new IllegalArgumentException("freqHz: no channels");
        }
        for (double f : freqHz) {
            if (!(f > 0)) {
                throw new IllegalArgumentException("freqHz: " + f + " (expected: > 0)");
            }
        }
        check("u", u == null ? -1 : u.length, nrow);
        check("v", v == null ? -1 : v.length, nrow);
        check("w", w == null ? -1 : w.length, nrow);
        long samples = (long) nrow * freqHz.length;
        if (vis != null) {
            check("vis", vis.length, 2 * samples);
        }
        check("weight", weight == null ? -1 : weight.length, samples);
    }

    private static void check(String name, long length, long expected) {
        if (length < expected) {
            throw new IllegalArgumentException(name + ": " + (length < 0 ? "null" : length + " values") + " (expected: >= "
                    + expected + ")");
        }
    }

    /**
     * A block over the first {@code nchan} values of {@code freqHz}, for buffers reused from block to
     * block that are longer than their content (the frequencies are copied, nothing else).
     */
    public static VisBlock of(int nrow, int nchan, double[] u, double[] v, double[] w, double[] freqHz, float[] vis,
            float[] weight) {
        if (nchan < 1 || nchan > freqHz.length) {
            throw new IllegalArgumentException("nchan: " + nchan + " (expected: 1.." + freqHz.length + ")");
        }
        return new VisBlock(nrow, u, v, w, java.util.Arrays.copyOf(freqHz, nchan), vis, weight);
    }

    public int nchan() {
        return freqHz.length;
    }
}
