package org.cloudviper.cube;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.util.List;

import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.compression.NoCompressionCodec;
import org.apache.arrow.vector.ipc.message.IpcOption;

/**
 * Writes one chunk: each {@link #write} call becomes one record batch of the stream, which goes to
 * the store as it is written; {@link #close()} ends the stream and makes the object appear. Buffers
 * come from a child of the caller's allocator, released at close.
 */
public final class ChunkWriter implements AutoCloseable {
    private final String object;
    private final ChunkSchema.Metadata meta;
    private final BufferAllocator allocator;
    private final VectorSchemaRoot root;
    private final UploadStream out;
    private final ArrowStreamWriter writer;
    private final Runnable onClose;
    private long rows;
    private boolean failed;
    private boolean closed;

    ChunkWriter(ObjectStore store, String key, ChunkSchema.Metadata meta, Compression compression,
            BufferAllocator parent, Runnable onClose) throws DatasetException {
        this.object = store.uri(key);
        this.meta = meta;
        this.onClose = onClose;
        this.allocator = parent.newChildAllocator("chunk writer " + object, 0, parent.getLimit());
        VectorSchemaRoot r = null;
        UploadStream o = null;
        try {
            r = VectorSchemaRoot.create(ChunkSchema.of(meta), allocator);
            o = store.write(key);
            this.writer = new ArrowStreamWriter(r, null, Channels.newChannel(o), IpcOption.DEFAULT,
                    compression == Compression.NONE ? NoCompressionCodec.Factory.INSTANCE
                            : CommonsCompressionFactory.INSTANCE, compression.codec);
            writer.start();
        } catch (IOException | RuntimeException e) {
            if (o != null) {
                o.abort();
            }
            if (r != null) {
                r.close();
            }
            allocator.close();
            throw e instanceof DatasetException d ? d
                    : new DatasetException(DatasetException.Kind.IO, object, "cannot start the stream: " + e, e);
        }
        this.root = r;
        this.out = o;
    }

    /** {@code s3://bucket/key} or the file's path. */
    public String object() {
        return object;
    }

    /**
     * Writes rows [0, rows) as one record batch. {@code vis} is [row][chan][pol][re, im] of this
     * chunk's channels, {@code weight} [row][pol], {@code flag} [row][chan][pol].
     */
    public void write(int rows, double[] u, double[] v, double[] w, float[] vis, float[] weight, boolean[] flag)
            throws DatasetException {
        if (closed) {
            throw new IllegalStateException(object + ": writer closed");
        }
        int nchan = meta.nchan();
        int npol = meta.pols().size();
        long nvis = (long) rows * nchan * npol * 2;
        if (u.length < rows || v.length < rows || w.length < rows || vis.length < nvis
                || weight.length < (long) rows * npol || flag.length < (long) rows * nchan * npol) {
            throw new IllegalArgumentException("arrays shorter than " + rows + " rows of " + nchan + " channels x "
                    + npol + " products");
        }
        if (4 * nvis > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(rows + " rows make more than 2 GiB of vis: write smaller batches");
        }
        root.allocateNew();
        doubles((Float8Vector) root.getVector("u"), u, rows);
        doubles((Float8Vector) root.getVector("v"), v, rows);
        doubles((Float8Vector) root.getVector("w"), w, rows);
        floats(root.getVector("vis"), vis, rows, nchan * npol * 2);
        floats(root.getVector("weight"), weight, rows, npol);
        flags(root.getVector("flag"), flag, rows, nchan * npol);
        root.setRowCount(rows);
        try {
            writer.writeBatch();
        } catch (IOException | RuntimeException e) {
            failed = true;
            throw failure("cannot write a batch", e);
        }
        this.rows += rows;
    }

    private static void doubles(Float8Vector vec, double[] values, int rows) {
        vec.setValueCount(rows);
        setAllValid(vec, rows);
        vec.getDataBuffer().nioBuffer(0, 8 * rows).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(values, 0, rows);
    }

    private static void floats(FieldVector list, float[] values, int rows, int size) {
        FixedSizeListVector l = (FixedSizeListVector) list;
        Float4Vector child = (Float4Vector) l.getDataVector();
        int n = rows * size;
        child.setValueCount(n);
        setAllValid(child, n);
        child.getDataBuffer().nioBuffer(0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values, 0, n);
        l.setValueCount(rows);
        setAllValid(l, rows);
    }

    private static void flags(FieldVector list, boolean[] values, int rows, int size) {
        FixedSizeListVector l = (FixedSizeListVector) list;
        BitVector child = (BitVector) l.getDataVector();
        int n = rows * size;
        child.setValueCount(n);
        setAllValid(child, n);
        ArrowBuf data = child.getDataBuffer();
        data.setZero(0, (n + 7) / 8);
        for (int i = 0; i < n; i++) {
            if (values[i]) {
                data.setByte(i >>> 3, data.getByte(i >>> 3) | (1 << (i & 7)));
            }
        }
        l.setValueCount(rows);
        setAllValid(l, rows);
    }

    private static void setAllValid(FieldVector vec, int n) {
        ArrowBuf validity = vec.getValidityBuffer();
        validity.setOne(0, (n + 7) / 8);
    }

    /** Rows written so far. */
    public long rows() {
        return rows;
    }

    /**
     * Ends the stream (the end-of-stream marker) and completes the object; after a failed
     * {@link #write}, drops the object instead ({@link #abort()}).
     */
    @Override
    public void close() throws DatasetException {
        if (closed) {
            return;
        }
        if (failed) {
            abort();
            return;
        }
        closed = true;
        try {
            writer.end();
            out.close();
        } catch (IOException | RuntimeException e) {
            out.abort();
            throw failure("cannot complete the object", e);
        } finally {
            root.close();
            allocator.close();
        }
        onClose.run();
    }

    /** Drops the chunk: no object is created, and the dataset will not list it. */
    public void abort() {
        if (closed) {
            return;
        }
        closed = true;
        out.abort();
        root.close();
        allocator.close();
    }

    private DatasetException failure(String doing, Exception e) {
        return e instanceof DatasetException d ? d
                : new DatasetException(DatasetException.Kind.IO, object, doing + ": " + e, e);
    }

    List<String> pols() {
        return meta.pols();
    }
}
