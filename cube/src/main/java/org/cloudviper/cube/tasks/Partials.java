package org.cloudviper.cube.tasks;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.cloudviper.imaging.ChannelGrids;
import org.cloudviper.imaging.ImageSpec;
import org.cloudviper.imaging.Precision;
import org.cloudviper.imaging.WeightDensity;
import org.cloudviper.imaging.grid.PlaneStats;
import org.cloudviper.worker.tasks.NdArray;

/**
 * Partial grids and weight densities as task results: one flat {@code uint8} numpy array each, so a
 * worker can keep, spill and send them like any array. A partial grid carries only the rows each
 * plane had written ({@link PlaneStats#rowMin()}..{@link PlaneStats#rowMax()}): for compact
 * configurations a small part of the grid.
 *
 * <p>Layout, little-endian: a header (magic {@code CVGR} for grids, {@code CVWD} for densities;
 * version; npix; cell; grid size; bytes per value; first dataset channel; channels; plane sets: 1 =
 * dirty, 2 = dirty and PSF), per set and channel its statistics (sum of weights, gridded, dropped,
 * first and last row; densities: the sum of weights), then the rows themselves. A partial of another
 * image geometry is refused: every task of a cube must image with the same parameters.
 */
final class Partials {
    static final int GRID_MAGIC = 0x52475643; // "CVGR"
    static final int DENSITY_MAGIC = 0x44575643; // "CVWD"
    private static final int VERSION = 1;
    private static final int HEADER = 4 + 4 + 4 + 8 + 4 + 4 + 4 + 4 + 4;
    private static final int GRID_STATS = 8 + 8 + 8 + 4 + 4;

    private Partials() {
    }

    /** The header every partial starts with. */
    record Header(int magic, int npix, double cellRad, int gridSize, int valueBytes, int chanStart, int nchan,
            int sets) {
    }

    /** Per channel of a partial grid: what was gridded into its dirty plane. */
    record ChannelStats(double sumWeights, long gridded, long dropped) {
    }

    /** Grids {@code dirty} (and {@code psf}, or null) of dataset channels chanStart.. as one array. */
    static NdArray encodeGrids(ImageSpec spec, int chanStart, ChannelGrids dirty, ChannelGrids psf) {
        ChannelGrids[] sets = psf == null ? new ChannelGrids[] {dirty} : new ChannelGrids[] {dirty, psf};
        int nchan = dirty.nchan();
        int g = dirty.gridSize();
        int vb = dirty.precision() == Precision.FLOAT32 ? 4 : 8;
        long bytes = HEADER + (long) sets.length * nchan * GRID_STATS;
        for (ChannelGrids s : sets) {
            for (int c = 0; c < nchan; c++) {
                PlaneStats st = s.stats(c);
                bytes += st.isEmpty() ? 0 : (long) (st.rowMax() - st.rowMin() + 1) * 2 * g * vb;
            }
        }
        ByteBuffer b = allocate(bytes, nchan + " channels of " + g + "^2 cells");
        header(b, GRID_MAGIC, spec, g, vb, chanStart, nchan, sets.length);
        for (ChannelGrids s : sets) {
            for (int c = 0; c < nchan; c++) {
                PlaneStats st = s.stats(c);
                b.putDouble(st.sumWeights()).putLong(st.gridded()).putLong(st.dropped()).putInt(st.rowMin())
                        .putInt(st.rowMax());
            }
        }
        for (ChannelGrids s : sets) {
            for (int c = 0; c < nchan; c++) {
                PlaneStats st = s.stats(c);
                if (st.isEmpty()) {
                    continue;
                }
                int from = 2 * st.rowMin() * g;
                int len = 2 * (st.rowMax() - st.rowMin() + 1) * g;
                if (vb == 4) {
                    b.asFloatBuffer().put(s.floatPlane(c), from, len);
                } else {
                    b.asDoubleBuffer().put(s.doublePlane(c), from, len);
                }
                b.position(b.position() + len * vb);
            }
        }
        return NdArray.wrap(NdArray.DType.U1, new long[] {bytes}, b.flip());
    }

    /**
     * Adds the partial grid {@code a} into {@code dirty} (and {@code psf}; a partial with a PSF set
     * needs one here); returns its header.
     */
    static Header addGrids(NdArray a, ImageSpec spec, ChannelGrids dirty, ChannelGrids psf) {
        ByteBuffer b = buffer(a);
        Header h = header(b, GRID_MAGIC, spec, "partial grid");
        int vb = dirty.precision() == Precision.FLOAT32 ? 4 : 8;
        if (h.gridSize() != dirty.gridSize() || h.valueBytes() != vb || h.nchan() != dirty.nchan()) {
            throw new IllegalArgumentException("partial grid of " + h.nchan() + " x " + h.gridSize() + "^2 cells of "
                    + h.valueBytes() + " bytes (expected: " + dirty.nchan() + " x " + dirty.gridSize() + "^2 of " + vb
                    + ")");
        }
        if (h.sets() == 2 && psf == null) {
            throw new IllegalArgumentException("partial grid with a PSF (expected: dirty only)");
        }
        if (h.sets() == 1 && psf != null) {
            throw new IllegalArgumentException("partial grid without a PSF (expected: dirty and PSF)");
        }
        ChannelGrids[] sets = psf == null ? new ChannelGrids[] {dirty} : new ChannelGrids[] {dirty, psf};
        int[][] rows = new int[sets.length * h.nchan()][];
        PlaneStats travelled = new PlaneStats();
        for (int s = 0; s < sets.length; s++) {
            for (int c = 0; c < h.nchan(); c++) {
                double sum = b.getDouble();
                long gridded = b.getLong();
                long dropped = b.getLong();
                int rowMin = b.getInt();
                int rowMax = b.getInt();
                travelled.set(sum, gridded, dropped, rowMin, rowMax);
                sets[s].stats(c).add(travelled);
                rows[s * h.nchan() + c] = new int[] {rowMin, rowMax};
            }
        }
        int g = h.gridSize();
        for (int s = 0; s < sets.length; s++) {
            for (int c = 0; c < h.nchan(); c++) {
                int[] r = rows[s * h.nchan() + c];
                if (r[1] < 0) {
                    continue;
                }
                int from = 2 * r[0] * g;
                int len = 2 * (r[1] - r[0] + 1) * g;
                if (vb == 4) {
                    float[] plane = sets[s].floatPlane(c);
                    java.nio.FloatBuffer in = b.asFloatBuffer();
                    for (int i = 0; i < len; i++) {
                        plane[from + i] += in.get(i);
                    }
                } else {
                    double[] plane = sets[s].doublePlane(c);
                    java.nio.DoubleBuffer in = b.asDoubleBuffer();
                    for (int i = 0; i < len; i++) {
                        plane[from + i] += in.get(i);
                    }
                }
                b.position(b.position() + len * vb);
            }
        }
        return h;
    }

    /** The header of a partial grid and the statistics of its dirty planes, without reading the planes. */
    static List<ChannelStats> gridStats(NdArray a, ImageSpec spec) {
        ByteBuffer b = buffer(a);
        Header h = header(b, GRID_MAGIC, spec, "partial grid");
        List<ChannelStats> out = new ArrayList<>(h.nchan());
        for (int c = 0; c < h.nchan(); c++) {
            ChannelStats s = new ChannelStats(b.getDouble(), b.getLong(), b.getLong());
            b.getLong(); // the rows
            out.add(s);
        }
        return out;
    }

    /** The header alone, checked against {@code spec}. */
    static Header header(NdArray a, ImageSpec spec) {
        ByteBuffer b = buffer(a);
        int magic = b.getInt(0);
        return header(b, magic == DENSITY_MAGIC ? DENSITY_MAGIC : GRID_MAGIC, spec, "partial");
    }

    /** A weight density of dataset channels chanStart.. as one array. */
    static NdArray encodeDensity(ImageSpec spec, int chanStart, WeightDensity d) {
        int n = d.npix();
        long bytes = HEADER + 8L * d.nchan() + 4L * d.nchan() * n * n;
        ByteBuffer b = allocate(bytes, d.nchan() + " densities of " + n + "^2 cells");
        header(b, DENSITY_MAGIC, spec, n, 4, chanStart, d.nchan(), 1);
        for (int c = 0; c < d.nchan(); c++) {
            b.putDouble(d.sumWeights(c));
        }
        for (int c = 0; c < d.nchan(); c++) {
            b.asFloatBuffer().put(d.plane(c));
            b.position(b.position() + 4 * n * n);
        }
        return NdArray.wrap(NdArray.DType.U1, new long[] {bytes}, b.flip());
    }

    /** Adds the density {@code a} into {@code d}; returns its header. */
    static Header addDensity(NdArray a, ImageSpec spec, WeightDensity d) {
        ByteBuffer b = buffer(a);
        Header h = header(b, DENSITY_MAGIC, spec, "partial density");
        if (h.nchan() != d.nchan() || h.gridSize() != d.npix()) {
            throw new IllegalArgumentException("density of " + h.nchan() + " x " + h.gridSize() + "^2 (expected: "
                    + d.nchan() + " x " + d.npix() + "^2)");
        }
        for (int c = 0; c < h.nchan(); c++) {
            d.setSumWeights(c, d.sumWeights(c) + b.getDouble());
        }
        int cells = h.gridSize() * h.gridSize();
        for (int c = 0; c < h.nchan(); c++) {
            float[] plane = d.plane(c);
            java.nio.FloatBuffer in = b.asFloatBuffer();
            for (int i = 0; i < cells; i++) {
                plane[i] += in.get(i);
            }
            b.position(b.position() + 4 * cells);
        }
        return h;
    }

    private static ByteBuffer allocate(long bytes, String what) {
        if (bytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("a partial of " + what + " takes " + bytes + " bytes (expected: < 2 GiB;"
                    + " write chunks of fewer channels, or image fewer pixels)");
        }
        return ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void header(ByteBuffer b, int magic, ImageSpec spec, int gridSize, int valueBytes, int chanStart,
            int nchan, int sets) {
        b.putInt(magic).putInt(VERSION).putInt(spec.npix()).putDouble(spec.cellRad()).putInt(gridSize)
                .putInt(valueBytes).putInt(chanStart).putInt(nchan).putInt(sets);
    }

    private static ByteBuffer buffer(NdArray a) {
        if (a.dtype() != NdArray.DType.U1 || a.ndim() != 1) {
            throw new IllegalArgumentException("partial: " + a.dtype().str() + " array of " + a.ndim()
                    + " dimensions (expected: the 1-D uint8 array an imaging task returned)");
        }
        return a.data();
    }

    private static Header header(ByteBuffer b, int magic, ImageSpec spec, String what) {
        if (b.remaining() < HEADER || b.getInt() != magic || b.getInt() != VERSION) {
            throw new IllegalArgumentException(what + ": not one that this version of the imaging tasks wrote");
        }
        Header h = new Header(magic, b.getInt(), b.getDouble(), b.getInt(), b.getInt(), b.getInt(), b.getInt(),
                b.getInt());
        if (h.npix() != spec.npix() || h.cellRad() != spec.cellRad()) {
            throw new IllegalArgumentException(what + " of a " + h.npix() + "^2 image of " + h.cellRad()
                    + " rad cells (expected: " + spec.npix() + "^2 of " + spec.cellRad()
                    + "): every task of a cube takes the same image parameters");
        }
        return h;
    }
}
