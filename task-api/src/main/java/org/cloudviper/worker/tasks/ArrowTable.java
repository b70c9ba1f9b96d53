package org.cloudviper.worker.tasks;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.Schema;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.Objects;

/**
 * A pyarrow {@code Table} or {@code RecordBatch} as a Java task sees it: an immutable Arrow IPC
 * stream (schema, then record batches), exactly the one frame distributed/protocol/arrow.py sends
 * for these types. A Python peer's Table arrives as one; a task returning one hands a pyarrow Table
 * (or RecordBatch, see {@link Kind}) back to Python.
 *
 * <p>The value itself lives on the heap, so it can be stored, spilled and sent like any other
 * result. Reading it ({@link #reader}) or building one ({@link #writer}) uses Arrow vectors in
 * off-heap memory from a {@link BufferAllocator} that the caller owns and closes: get one from
 * {@link #newAllocator}. Every such allocator is a child of one process-wide root owned by this
 * class; closing a child whose buffers are still open throws (Arrow's leak check), and
 * {@link #allocatedBytes()} is what tests assert to be 0 afterwards.
 */
public final class ArrowTable {
    /** Which pyarrow class the stream stands for. */
    public enum Kind {
        /** {@code pyarrow.Table}: any number of batches; Python reads it with {@code read_all()}. */
        TABLE("Table"),
        /** {@code pyarrow.RecordBatch}: exactly one batch; Python reads it with {@code read_next_batch()}. */
        RECORD_BATCH("RecordBatch");

        private final String pythonName;

        Kind(String pythonName) {
            this.pythonName = pythonName;
        }

        /** The class name in module {@code pyarrow.lib}, e.g. {@code "Table"}. */
        public String pythonName() {
            return pythonName;
        }
    }

    private final Kind kind;
    private final byte[] stream;
    private final Schema schema;
    private final long numRows;
    private final int numBatches;

    private ArrowTable(Kind kind, byte[] stream, Schema schema, long numRows, int numBatches) {
        this.kind = kind;
        this.stream = stream;
        this.schema = schema;
        this.numRows = numRows;
        this.numBatches = numBatches;
    }

    /** Created on first use only: Arrow's memory needs add-opens java.nio, which a JVM without Arrow data need not have. */
    private static final class Root {
        static final RootAllocator ROOT = checked(new RootAllocator());

        /**
         * Without add-opens, Arrow fails only when it first wraps its memory as a ByteBuffer (IPC
         * reads and writes do): fail here, once, instead.
         */
        private static RootAllocator checked(RootAllocator root) {
            try (org.apache.arrow.memory.ArrowBuf b = root.buffer(8)) {
                b.nioBuffer(0, 8);
                return root;
            } catch (RuntimeException e) {
                root.close();
                throw e;
            }
        }
    }

    /**
     * A new allocator for Arrow vectors, a child of the process-wide root; the caller owns it and
     * must close it after every buffer taken from it (closing it earlier throws).
     */
    public static BufferAllocator newAllocator(String name) {
        return root().newChildAllocator(name, 0, Long.MAX_VALUE);
    }

    /** The root; a JVM started without the add-opens Arrow needs gets an error that says so. */
    private static RootAllocator root() {
        try {
            return Root.ROOT;
        } catch (ExceptionInInitializerError | NoClassDefFoundError e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("Arrow memory is unavailable in this JVM: start it with"
                    + " --add-opens=java.base/java.nio=ALL-UNNAMED (" + cause + ")", e);
        }
    }

    /** Bytes held by all allocators from {@link #newAllocator}: 0 when nothing is open. */
    public static long allocatedBytes() {
        return root().getAllocatedMemory();
    }

    /**
     * The table an Arrow IPC stream holds, checked by reading it whole: a malformed stream, or a
     * RecordBatch stream without exactly one batch, is an {@link IllegalArgumentException} saying
     * why. Keeps {@code stream} (the caller must not change it).
     */
    public static ArrowTable fromStream(Kind kind, byte[] stream) {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(stream, "stream");
        long rows = 0;
        int batches = 0;
        Schema schema;
        try (BufferAllocator a = newAllocator("arrow-table-check")) {
            try (ArrowStreamReader r = new ArrowStreamReader(new ByteArrayInputStream(stream), a)) {
                schema = r.getVectorSchemaRoot().getSchema();
                while (r.loadNextBatch()) {
                    rows += r.getVectorSchemaRoot().getRowCount();
                    batches++;
                }
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("not a readable Arrow IPC stream (" + stream.length + " bytes): "
                        + e, e);
            }
        }
        if (kind == Kind.RECORD_BATCH && batches != 1) {
            throw new IllegalArgumentException("a RecordBatch stream must hold exactly 1 batch, this one holds "
                    + batches);
        }
        return new ArrowTable(kind, stream, schema, rows, batches);
    }

    /** A Table of {@code root}'s current rows (one batch). */
    public static ArrowTable of(VectorSchemaRoot root) throws IOException {
        try (Writer w = writer(Kind.TABLE, root, null)) {
            w.writeBatch();
            return w.finish();
        }
    }

    /** A RecordBatch of {@code root}'s current rows. */
    public static ArrowTable recordBatchOf(VectorSchemaRoot root) throws IOException {
        try (Writer w = writer(Kind.RECORD_BATCH, root, null)) {
            w.writeBatch();
            return w.finish();
        }
    }

    /**
     * A writer of batches from {@code root}: fill root, {@link Writer#writeBatch()}, repeat, then
     * {@link Writer#finish()}. {@code dictionaries} is needed only for dictionary-encoded columns
     * (an {@link ArrowStreamReader} is one), else null.
     */
    public static Writer writer(Kind kind, VectorSchemaRoot root, DictionaryProvider dictionaries) throws IOException {
        return new Writer(kind, root, dictionaries);
    }

    /** Builds an {@link ArrowTable} batch by batch; close it if {@link #finish()} was not reached. */
    public static final class Writer implements AutoCloseable {
        private final Kind kind;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ArrowStreamWriter writer;
        private boolean finished;

        private Writer(Kind kind, VectorSchemaRoot root, DictionaryProvider dictionaries) throws IOException {
            this.kind = Objects.requireNonNull(kind, "kind");
            this.writer = new ArrowStreamWriter(Objects.requireNonNull(root, "root"), dictionaries,
                    Channels.newChannel(out));
            writer.start();
        }

        /** Appends the root's current rows as one batch. */
        public void writeBatch() throws IOException {
            if (finished) {
                throw new IllegalStateException("writer already finished");
            }
            writer.writeBatch();
        }

        /** The table written so far; the writer is closed afterwards. */
        public ArrowTable finish() throws IOException {
            if (finished) {
                throw new IllegalStateException("writer already finished");
            }
            writer.end();
            finished = true;
            writer.close();
            return fromStream(kind, out.toByteArray());
        }

        @Override
        public void close() {
            if (!finished) {
                finished = true;
                writer.close();
            }
        }
    }

    /**
     * A reader of the batches, its vectors allocated from {@code allocator}: {@code while
     * (r.loadNextBatch()) { r.getVectorSchemaRoot() ... }}. The caller closes it (before the allocator).
     */
    public ArrowStreamReader reader(BufferAllocator allocator) {
        return new ArrowStreamReader(new ByteArrayInputStream(stream), allocator);
    }

    public Kind kind() {
        return kind;
    }

    public Schema schema() {
        return schema;
    }

    public long numRows() {
        return numRows;
    }

    public int numBatches() {
        return numBatches;
    }

    /** The Arrow IPC stream, read-only: the frame Dask sends. */
    public java.nio.ByteBuffer stream() {
        return java.nio.ByteBuffer.wrap(stream).asReadOnlyBuffer();
    }

    /** Size of the IPC stream in bytes. */
    public long nbytes() {
        return stream.length;
    }

    @Override
    public String toString() {
        return "ArrowTable(" + kind.pythonName + ", " + numRows + " rows in " + numBatches + " batches, " + schema + ")";
    }
}
