package org.cloudviper.cube;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;

/**
 * Stokes I of a checked batch (see {@link StokesIBlock} for the rule), read straight from the Arrow
 * buffers: little-endian views of the data buffers, flags one bit each (LSB first, as Arrow lays out
 * booleans).
 */
final class StokesIFormation {
    private StokesIFormation() {
    }

    /** Stokes I of the batch in {@code root} after the rows {@code out} holds ({@code out} cleared before to replace them). */
    static void append(VectorSchemaRoot root, ChunkSchema.Metadata m, int[] pair, StokesIBlock out) {
        int rows = root.getRowCount();
        int nchan = m.nchan();
        int npol = m.pols().size();
        int first = out.extend(rows, nchan, m.chanStart(), m.freqHz());
        doubles((Float8Vector) root.getVector("u"), rows).get(out.u(), first, rows);
        doubles((Float8Vector) root.getVector("v"), rows).get(out.v(), first, rows);
        doubles((Float8Vector) root.getVector("w"), rows).get(out.w(), first, rows);
        FloatBuffer vis = floats(child(root, "vis"), (long) rows * nchan * npol * 2);
        FloatBuffer wts = floats(child(root, "weight"), (long) rows * npol);
        BitVector flagVector = (BitVector) ((FixedSizeListVector) root.getVector("flag")).getDataVector();
        ByteBuffer flags = view(flagVector.getDataBuffer(), ((long) rows * nchan * npol + 7) / 8);
        float[] ov = out.vis();
        float[] ow = out.weight();
        // one row at a time through heap scratch: bulk copies out of Arrow's buffers, then plain array
        // loops the JIT compiles without per-element buffer checks
        float[] rv = out.rowVis(nchan * npol * 2);
        byte[] rf = out.rowFlags((nchan * npol + 7) / 8 + 1);
        int a = pair[0];
        int b = a == pair[1] ? -1 : pair[1];
        long dropped = 0;
        int rowFloats = nchan * npol * 2;
        for (int r = 0; r < rows; r++) {
            vis.get(r * rowFloats, rv, 0, rowFloats);
            long firstBit = (long) r * nchan * npol;
            int firstByte = (int) (firstBit >>> 3);
            int shift = (int) (firstBit & 7);
            int bytes = (int) ((firstBit + nchan * npol + 7) / 8) - firstByte;
            flags.get(firstByte, rf, 0, bytes);
            float wa = wts.get(r * npol + a);
            float wb = b < 0 ? 0 : wts.get(r * npol + b);
            boolean weightA = wa > 0 && wa < Float.POSITIVE_INFINITY;
            boolean weightB = wb > 0 && wb < Float.POSITIVE_INFINITY;
            int o = (first + r) * nchan;
            for (int c = 0; c < nchan; c++) {
                int base = c * npol;
                float ar = rv[2 * (base + a)];
                float ai = rv[2 * (base + a) + 1];
                boolean okA = weightA && !bit(rf, shift + base + a) && Float.isFinite(ar) && Float.isFinite(ai);
                float br = 0;
                float bi = 0;
                boolean okB = false;
                if (b >= 0) {
                    br = rv[2 * (base + b)];
                    bi = rv[2 * (base + b) + 1];
                    okB = weightB && !bit(rf, shift + base + b) && Float.isFinite(br) && Float.isFinite(bi);
                }
                int k = o + c;
                if (okA && okB) {
                    ov[2 * k] = 0.5f * (ar + br);
                    ov[2 * k + 1] = 0.5f * (ai + bi);
                    ow[k] = wa + wb;
                } else if (okA) {
                    ov[2 * k] = ar;
                    ov[2 * k + 1] = ai;
                    ow[k] = wa;
                } else if (okB) {
                    ov[2 * k] = br;
                    ov[2 * k + 1] = bi;
                    ow[k] = wb;
                } else {
                    ov[2 * k] = 0;
                    ov[2 * k + 1] = 0;
                    ow[k] = 0;
                    dropped++;
                }
            }
        }
        out.addDropped(dropped);
    }

    private static boolean bit(byte[] bits, int i) {
        return (bits[i >>> 3] & (1 << (i & 7))) != 0;
    }

    private static Float4Vector child(VectorSchemaRoot root, String name) {
        return (Float4Vector) ((FixedSizeListVector) root.getVector(name)).getDataVector();
    }

    private static DoubleBuffer doubles(Float8Vector v, int n) {
        return view(v.getDataBuffer(), 8L * n).asDoubleBuffer();
    }

    private static FloatBuffer floats(Float4Vector v, long n) {
        return view(v.getDataBuffer(), 4L * n).asFloatBuffer();
    }

    private static ByteBuffer view(ArrowBuf buf, long bytes) {
        if (bytes > buf.capacity()) {
            // the batch's buffers are checked against its row count before this (ChunkReader)
            throw new IllegalStateException("buffer of " + buf.capacity() + " bytes, " + bytes + " needed");
        }
        return buf.nioBuffer(0, (int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
