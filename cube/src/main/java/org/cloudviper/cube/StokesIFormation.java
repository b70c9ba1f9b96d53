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

    static void fill(VectorSchemaRoot root, ChunkSchema.Metadata m, int[] pair, StokesIBlock out) {
        int rows = root.getRowCount();
        int nchan = m.nchan();
        int npol = m.pols().size();
        out.reshape(rows, nchan, m.chanStart(), m.freqHz());
        doubles((Float8Vector) root.getVector("u"), rows).get(out.u(), 0, rows);
        doubles((Float8Vector) root.getVector("v"), rows).get(out.v(), 0, rows);
        doubles((Float8Vector) root.getVector("w"), rows).get(out.w(), 0, rows);
        FloatBuffer vis = floats(child(root, "vis"), (long) rows * nchan * npol * 2);
        FloatBuffer wts = floats(child(root, "weight"), (long) rows * npol);
        BitVector flagVector = (BitVector) ((FixedSizeListVector) root.getVector("flag")).getDataVector();
        ByteBuffer flags = view(flagVector.getDataBuffer(), ((long) rows * nchan * npol + 7) / 8);
        float[] ov = out.vis();
        float[] ow = out.weight();
        int a = pair[0];
        int b = pair[1];
        long dropped = 0;
        for (int r = 0; r < rows; r++) {
            float wa = wts.get(r * npol + a);
            float wb = wts.get(r * npol + b);
            boolean weightA = wa > 0 && wa < Float.POSITIVE_INFINITY;
            boolean weightB = wb > 0 && wb < Float.POSITIVE_INFINITY;
            for (int c = 0; c < nchan; c++) {
                int base = (r * nchan + c) * npol;
                int ia = 2 * (base + a);
                int ib = 2 * (base + b);
                float ar = vis.get(ia);
                float ai = vis.get(ia + 1);
                float br = vis.get(ib);
                float bi = vis.get(ib + 1);
                boolean okA = weightA && !flag(flags, base + a) && Float.isFinite(ar) && Float.isFinite(ai);
                boolean okB = weightB && !flag(flags, base + b) && Float.isFinite(br) && Float.isFinite(bi);
                int s = r * nchan + c;
                if (a == b) {
                    okB = false;
                }
                if (okA && okB) {
                    ov[2 * s] = 0.5f * (ar + br);
                    ov[2 * s + 1] = 0.5f * (ai + bi);
                    ow[s] = wa + wb;
                } else if (okA) {
                    ov[2 * s] = ar;
                    ov[2 * s + 1] = ai;
                    ow[s] = wa;
                } else if (okB) {
                    ov[2 * s] = br;
                    ov[2 * s + 1] = bi;
                    ow[s] = wb;
                } else {
                    ov[2 * s] = 0;
                    ov[2 * s + 1] = 0;
                    ow[s] = 0;
                    dropped++;
                }
            }
        }
        out.addDropped(dropped);
    }

    private static boolean flag(ByteBuffer bits, int i) {
        return (bits.get(i >>> 3) & (1 << (i & 7))) != 0;
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
