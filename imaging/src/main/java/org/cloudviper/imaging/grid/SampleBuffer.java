package org.cloudviper.imaging.grid;

import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * A block's samples rearranged for gridding: rows in {@link RowOrder} (by grid tile), each channel's
 * visibilities and weights contiguous. The gridders then read their input sequentially and write the
 * grid where they wrote a moment ago, one plane at a time. On the benchmark's data this copy and the
 * gridding after it beat gridding in the block's own order, and beat copying a few hundred rows at a
 * time (which keeps the copy in the L2 cache but moves between 32 planes every few hundred rows).
 * It holds 12 bytes per sample of the block: reused between blocks (it grows to the largest), one
 * per thread.
 */
public final class SampleBuffer {
    private double[] u = new double[0];
    private double[] v = new double[0];
    private float[] vis = new float[0];
    private float[] weight = new float[0];
    private int count;

    private int[] order = new int[0];
    private int nrow;
    private int chans;

    /**
     * Sorts the rows of a block laid out [row][chan] (vis [row][chan][re, im]) by grid tile at
     * {@code refScale} grid cells per metre, and copies their u and v in that order; then
     * {@link #load} copies the visibilities of a range of them.
     */
    public void sort(KernelPlan kp, double refScale, double[] bu, double[] bv, int nrow) {
        this.order = RowOrder.byTile(kp, refScale, bu, bv, nrow);
        this.nrow = nrow;
        if (u.length < nrow) {
            u = new double[nrow];
            v = new double[nrow];
        }
        for (int k = 0; k < nrow; k++) {
            u[k] = bu[order[k]];
            v[k] = bv[order[k]];
        }
    }

    /**
     * Copies channels [cFrom, cTo) of sorted rows [from, to) into the buffer, each channel contiguous:
     * sample k of channel cFrom + c is at vis[2 (offset(c) + k)], weight[offset(c) + k], and its u and
     * v at u()[from + k], v()[from + k].
     */
    public void load(float[] bvis, float[] bweight, int nchan, int cFrom, int cTo, int from, int to) {
        chans = cTo - cFrom;
        count = to - from;
        long samples = (long) count * chans;
        if (2 * samples > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(count + " rows x " + chans + " channels is too large");
        }
        if (weight.length < samples) {
            weight = new float[(int) samples];
            vis = new float[(int) (2 * samples)];
        }
        float[] vs = vis;
        float[] ws = weight;
        for (int k = 0; k < count; k++) {
            int src = order[from + k] * nchan + cFrom;
            for (int c = 0; c < chans; c++) {
                int dst = c * count + k;
                ws[dst] = bweight[src + c];
                if (bvis != null) {
                    vs[2 * dst] = bvis[2 * (src + c)];
                    vs[2 * dst + 1] = bvis[2 * (src + c) + 1];
                }
            }
        }
    }

    /** Rows of the block sorted. */
    public int rows() {
        return nrow;
    }

    public double[] u() {
        return u;
    }

    public double[] v() {
        return v;
    }

    public float[] vis() {
        return vis;
    }

    public float[] weight() {
        return weight;
    }

    /** Rows per channel loaded. */
    public int count() {
        return count;
    }

    /** Where channel {@code cFrom + c} starts in {@link #vis} (times 2) and {@link #weight}. */
    public int offset(int c) {
        return c * count;
    }
}
