package org.cloudviper.imaging;

import java.util.Arrays;
import org.cloudviper.imaging.grid.PlaneStats;
import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * The uv grids of a channel block: one plane of gridSize x gridSize complex cells per channel
 * (interleaved re, im; float32 or float64 as the spec says), with each plane's {@link PlaneStats}.
 * A 4096^2-pixel image at sigma 1.25 has 5120^2 cells: 200 MiB per channel in float32, so planes are
 * allocated once and reused: {@link #clear} zeroes only the rows that were written, and
 * {@link GridPool} bounds how many a worker holds. Partial grids of the same channel block, made by
 * separate tasks, are summed with {@link #add}. Not thread-safe, except that different channels may
 * be gridded by different threads at once.
 */
public final class ChannelGrids {
    private final Precision precision;
    private final int gridSize;
    private final float[][] floats;
    private final double[][] doubles;
    private final PlaneStats[] stats;

    ChannelGrids(Precision precision, KernelPlan kernel, int nchan) {
        if (nchan < 1) {
            throw new IllegalArgumentException("nchan: " + nchan + " (expected: >= 1)");
        }
        int gridSize = kernel.gridSize();
        long cells = 2L * gridSize * gridSize;
        if (cells > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("gridSize: " + gridSize + " (expected: <= 32767)");
        }
        cells = kernel.planeLength();
        this.precision = precision;
        this.gridSize = gridSize;
        this.floats = precision == Precision.FLOAT32 ? new float[nchan][(int) cells] : null;
        this.doubles = precision == Precision.FLOAT64 ? new double[nchan][(int) cells] : null;
        this.stats = new PlaneStats[nchan];
        for (int c = 0; c < nchan; c++) {
            stats[c] = new PlaneStats();
        }
    }

    public Precision precision() {
        return precision;
    }

    public int nchan() {
        return stats.length;
    }

    public int gridSize() {
        return gridSize;
    }

    /** Bytes held by the planes. */
    public long bytes() {
        return (long) stats.length * 2 * gridSize * gridSize * (precision == Precision.FLOAT32 ? 4 : 8);
    }

    public PlaneStats stats(int c) {
        return stats[c];
    }

    /**
     * Channel c's plane (FLOAT32), shared, not copied: to send a partial grid between tasks. Cell
     * (row, col) is at [2 (row gridSize + col)], re then im; rows stats(c).rowMin()..rowMax() hold
     * all that is non-zero, and a small margin follows the last row.
     */
    public float[] floatPlane(int c) {
        if (floats == null) {
            throw new IllegalStateException("grids are " + precision);
        }
        return floats[c];
    }

    /** Channel c's plane (FLOAT64), shared, not copied. */
    public double[] doublePlane(int c) {
        if (doubles == null) {
            throw new IllegalStateException("grids are " + precision);
        }
        return doubles[c];
    }

    /** Adds the planes of another partial grid of the same channels (only its written rows). */
    public void add(ChannelGrids other) {
        if (other.precision != precision || other.gridSize != gridSize || other.nchan() != nchan()) {
            throw new IllegalArgumentException("grids " + other.nchan() + " x " + other.gridSize + "^2 " + other.precision
                    + " (expected: " + nchan() + " x " + gridSize + "^2 " + precision + ")");
        }
        for (int c = 0; c < nchan(); c++) {
            PlaneStats s = other.stats[c];
            if (s.isEmpty()) {
                stats[c].add(s);
                continue;
            }
            int from = 2 * s.rowMin() * gridSize;
            int to = 2 * (s.rowMax() + 1) * gridSize;
            if (floats != null) {
                float[] a = floats[c];
                float[] b = other.floats[c];
                for (int i = from; i < to; i++) {
                    a[i] += b[i];
                }
            } else {
                double[] a = doubles[c];
                double[] b = other.doubles[c];
                for (int i = from; i < to; i++) {
                    a[i] += b[i];
                }
            }
            stats[c].add(s);
        }
    }

    /** Zeroes the rows written since the last clear and the statistics: ready for the next block. */
    public void clear() {
        for (int c = 0; c < nchan(); c++) {
            PlaneStats s = stats[c];
            if (!s.isEmpty()) {
                int from = 2 * s.rowMin() * gridSize;
                int to = 2 * (s.rowMax() + 1) * gridSize;
                if (floats != null) {
                    Arrays.fill(floats[c], from, to, 0f);
                } else {
                    Arrays.fill(doubles[c], from, to, 0.0);
                }
            }
            s.clear();
        }
    }
}
