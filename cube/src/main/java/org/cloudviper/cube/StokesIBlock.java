package org.cloudviper.cube;

import java.util.Arrays;

/**
 * Stokes I of one or more record batches of a chunk, in plain arrays for the gridder: per row the baseline
 * (u, v, w) in metres, per (row, channel) the complex visibility and its weight, a weight of 0 where
 * the sample was dropped (both products flagged). Arrays may be longer than the content; row
 * {@code r}, channel {@code c} (of this chunk, dataset channel {@link #chanStart()} + c) is at
 * {@code vis[2 * (r * nchan + c)]} (re), {@code + 1} (im), and {@code weight[r * nchan + c]}.
 *
 * <p>From products a (XX or RR) and b (YY or LL) with weights wa, wb: I = (a + b) / 2 with weight
 * wa + wb; with one product flagged, the other with its weight; with both flagged, weight 0 and
 * I = 0. A product also counts as flagged where its weight is not positive or its value not finite.
 * A block is reused from batch to batch ({@link ChunkReader#stokesI(StokesIBlock)}, or {@link
 * ChunkReader#appendStokesI(StokesIBlock)} to gather several batches into one): its arrays grow and
 * are then kept, so that a task touches fresh memory once.
 */
public final class StokesIBlock {
    private int rows;
    private int nchan;
    private int chanStart;
    private double[] freqHz = new double[0];
    private double[] u = new double[0];
    private double[] v = new double[0];
    private double[] w = new double[0];
    private float[] vis = new float[0];
    private float[] weight = new float[0];
    private long dropped;
    /** One row of products and flags, scratch of the formation, kept with the block. */
    private float[] rowVis = new float[0];
    private byte[] rowFlags = new byte[0];

    /** An empty block, to be filled by {@link ChunkReader#stokesI(StokesIBlock)}. */
    public StokesIBlock() {
    }

    /** Rows in this block. */
    public int rows() {
        return rows;
    }

    /** Channels per row: the chunk's channels. */
    public int nchan() {
        return nchan;
    }

    /** The dataset channel of this block's channel 0. */
    public int chanStart() {
        return chanStart;
    }

    /** The frequency of this block's channel {@code c}, Hz. */
    public double freqHz(int c) {
        return freqHz[c];
    }

    /** Baseline u of each row, metres ({@code rows()} values used). */
    public double[] u() {
        return u;
    }

    public double[] v() {
        return v;
    }

    public double[] w() {
        return w;
    }

    /** Stokes I, [row][chan][re, im] ({@code 2 * rows() * nchan()} values used). */
    public float[] vis() {
        return vis;
    }

    /** The weight of each (row, channel), 0 where dropped ({@code rows() * nchan()} values used). */
    public float[] weight() {
        return weight;
    }

    /** Samples ((row, channel) pairs) in this block. */
    public long samples() {
        return (long) rows * nchan;
    }

    /** Samples dropped because both products were flagged. */
    public long dropped() {
        return dropped;
    }

    /**
     * Makes room for {@code more} rows after the current ones, which are kept (same channels required
     * when there are any); returns the index of the first new row.
     */
    int extend(int more, int nchan, int chanStart, double[] freqHz) {
        if (this.rows > 0 && (nchan != this.nchan || chanStart != this.chanStart)) {
            throw new IllegalArgumentException("rows of channels " + chanStart + " +" + nchan + " after rows of "
                    + this.chanStart + " +" + this.nchan + " (expected: the same channels)");
        }
        int first = this.rows;
        long rows = (long) first + more;
        long samples = rows * nchan;
        if (2 * samples > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("a batch of " + rows + " rows x " + nchan
                    + " channels is too large for one block: write smaller record batches");
        }
        this.rows = (int) rows;
        this.nchan = nchan;
        this.chanStart = chanStart;
        this.freqHz = freqHz;
        if (u.length < rows) {
            int n = (int) Math.min(Integer.MAX_VALUE - 16, Math.max(rows, first == 0 ? rows : 2L * u.length));
            u = Arrays.copyOf(u, n);
            v = Arrays.copyOf(v, n);
            w = Arrays.copyOf(w, n);
        }
        if (weight.length < samples) {
            long n = Math.min((Integer.MAX_VALUE - 16) / 2, Math.max(samples, first == 0 ? samples : 2L * weight.length));
            weight = Arrays.copyOf(weight, (int) n);
            vis = Arrays.copyOf(vis, (int) (2 * n));
        }
        return first;
    }

    /** Empties the block (its arrays kept for the next rows). */
    public void clear() {
        rows = 0;
        dropped = 0;
    }

    float[] rowVis(int floats) {
        if (rowVis.length < floats) {
            rowVis = new float[floats];
        }
        return rowVis;
    }

    byte[] rowFlags(int bytes) {
        if (rowFlags.length < bytes) {
            rowFlags = new byte[bytes];
        }
        return rowFlags;
    }

    void addDropped(long n) {
        dropped += n;
    }

    @Override
    public String toString() {
        return "StokesIBlock[rows=" + rows + ", nchan=" + nchan + ", chanStart=" + chanStart + ", dropped=" + dropped
                + ", freqHz=" + Arrays.toString(Arrays.copyOf(freqHz, Math.min(freqHz.length, 3))) + "...]";
    }
}
