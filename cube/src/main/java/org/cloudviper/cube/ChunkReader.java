package org.cloudviper.cube;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import org.apache.arrow.compression.CommonsCompressionFactory;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ReadChannel;
import org.apache.arrow.vector.ipc.message.MessageChannelReader;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The record batches of one chunk, decoded as its bytes arrive. Each {@link #next()} reads one
 * batch into the reader's {@link VectorSchemaRoot} (replacing the previous one) from an allocator
 * of its own, a child of the caller's: the chunk's off-heap memory is bounded by the caller's limit
 * and all of it is released by {@link #close()}, which fails loudly if anything was leaked.
 *
 * <p>The schema and its metadata are checked when the chunk is opened (against the dataset's
 * description when there is one), every batch for nulls in the six columns. Failures are
 * {@link DatasetException}s naming the object: {@code FORMAT} for a wrong schema or content,
 * {@code TRUNCATED} for an object ending inside a message or without the end-of-stream marker, and
 * the store's own kinds ({@code NOT_FOUND}, {@code ACCESS_DENIED}, {@code IO}). Not thread-safe.
 *
 * <p>With {@code -Dcloudviper.arrow.readAhead=N} (N > 0), the next N batches are read ahead and
 * decoded (decompressed) on other threads ({@link BatchReadAhead}): for a node with idle cores. By
 * default (0) each batch is read and decoded on the caller's thread when it asks for it: on a machine
 * whose cores are busy, handing batches between threads costs more CPU than it saves (see
 * docs/benchmarks.md, "S3 to Arrow batches").
 */
public final class ChunkReader implements AutoCloseable {
    private final String object;
    private final BufferAllocator allocator;
    private final TrackingInputStream in;
    private final ArrowStreamReader reader;
    private final ChunkSchema.Metadata meta;
    private final int[] pair;
    private final MessageChannelReader messages;
    private final int readAhead = Integer.getInteger(READ_AHEAD, 0);
    private BatchReadAhead ahead;
    private VectorSchemaRoot root;
    private boolean loaded;
    private boolean ended;
    private long batches;
    private long rows;
    private boolean closed;

    /** Batches read and decoded ahead of the caller, on other threads; 0: none. */
    public static final String READ_AHEAD = "cloudviper.arrow.readAhead";

    private ChunkReader(String object, BufferAllocator allocator, TrackingInputStream in, MessageChannelReader messages,
            ArrowStreamReader reader, ChunkSchema.Metadata meta) {
        this.object = object;
        this.messages = messages;
        this.allocator = allocator;
        this.in = in;
        this.reader = reader;
        this.meta = meta;
        this.pair = Polarizations.stokesIPair(meta.pols());
    }

    /**
     * Opens chunk {@code key} of {@code store} and checks its schema, against {@code dataset} when
     * not null. Buffers come from a child of {@code parent}.
     */
    public static ChunkReader open(ObjectStore store, String key, DatasetInfo dataset, BufferAllocator parent)
            throws DatasetException {
        String object = store.uri(key);
        BufferAllocator allocator = parent.newChildAllocator("chunk " + object, 0, parent.getLimit());
        TrackingInputStream in = null;
        ArrowStreamReader reader = null;
        try {
            in = new TrackingInputStream(checkStart(store.read(key), object));
            MessageChannelReader messages = new MessageChannelReader(
                    new ReadChannel(java.nio.channels.Channels.newChannel(in)), allocator);
            reader = new ArrowStreamReader(messages, allocator, CommonsCompressionFactory.INSTANCE);
            ChunkSchema.Metadata meta;
            try {
                meta = ChunkSchema.check(reader.getVectorSchemaRoot().getSchema(), dataset, object);
            } catch (IOException | RuntimeException e) {
                throw streamFailure(object, in, "cannot read the schema", e);
            }
            return new ChunkReader(object, allocator, in, messages, reader, meta);
        } catch (DatasetException | RuntimeException e) {
            closeAll(reader, in, allocator, e);
            throw e;
        }
    }

    /** Largest schema message accepted: the metadata of thousands of channels is far below. */
    private static final int MAX_SCHEMA_BYTES = 16 << 20;

    /**
     * {@code in} positioned at its start, after checking that it starts as an IPC stream does: Arrow's
     * reader would otherwise take the first bytes of anything else for a message length and allocate
     * that much heap (an Arrow file's magic makes 1.3 GB).
     */
    private static InputStream checkStart(InputStream raw, String object) throws DatasetException {
        PushbackInputStream in = new PushbackInputStream(raw, 8);
        try {
            byte[] first = in.readNBytes(8);
            in.unread(first);
            schemaLength(first, object);
            return in;
        } catch (IOException e) {
            try {
                in.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e instanceof DatasetException d ? d
                    : new DatasetException(DatasetException.Kind.IO, object, "cannot read: " + e, e);
        }
    }

    /** The length of the schema message that {@code first} (an object's first 8 bytes or more) starts, checked. */
    private static int schemaLength(byte[] first, String object) throws DatasetException {
        if (first.length >= 8 && new String(first, 0, 6, StandardCharsets.ISO_8859_1).equals("ARROW1")) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object,
                    "this is an Arrow IPC file; chunks are IPC streams (pyarrow.ipc.new_stream)");
        }
        if (first.length < 8) {
            throw new DatasetException(DatasetException.Kind.TRUNCATED, object, "the object ends after "
                    + first.length + " bytes, before its schema");
        }
        ByteBuffer b = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN);
        // the continuation marker and the length, or (before Arrow 0.15) the length alone
        long length = b.getInt(0) == -1 ? b.getInt(4) : b.getInt(0);
        if (length <= 0 || length > MAX_SCHEMA_BYTES) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object, "not an Arrow IPC stream: it starts with "
                    + HexFormat.of().formatHex(first, 0, 8) + " (expected: ffffffff and the schema message's length)");
        }
        return (int) length;
    }

    /** A chunk's channels, as its schema says. */
    public record ChannelRange(String object, int chanStart, int nchan) {
    }

    /** Bytes of an object read for its schema alone: the metadata of thousands of channels fits. */
    static final int SCHEMA_HEAD_BYTES = 64 << 10;

    /**
     * The channels of chunk {@code key}, its schema checked as {@link #open} checks it (against
     * {@code dataset} when not null), from the object's first bytes alone: one ranged read (two for a
     * schema longer than {@value #SCHEMA_HEAD_BYTES} bytes), none of its record batches. Thread-safe.
     */
    public static ChannelRange channels(ObjectStore store, String key, DatasetInfo dataset) throws DatasetException {
        String object = store.uri(key);
        int want = SCHEMA_HEAD_BYTES;
        byte[] head = store.readHead(key, want);
        int need = 8 + schemaLength(head, object);
        if (need > head.length && head.length == want) {
            head = store.readHead(key, need);
        }
        Schema schema;
        try {
            schema = MessageSerializer.deserializeSchema(
                    new ReadChannel(java.nio.channels.Channels.newChannel(new ByteArrayInputStream(head))));
        } catch (IOException | RuntimeException e) {
            if (need > head.length) {
                throw new DatasetException(DatasetException.Kind.TRUNCATED, object, "cannot read the schema: the "
                        + "object ends inside it after " + head.length + " bytes (" + e.getMessage() + ")", e);
            }
            throw new DatasetException(DatasetException.Kind.FORMAT, object, "cannot read the schema: not an Arrow IPC "
                    + "stream (" + e + ")", e);
        }
        ChunkSchema.Metadata meta = ChunkSchema.check(schema, dataset, object);
        return new ChannelRange(object, meta.chanStart(), meta.nchan());
    }

    private static void closeAll(ArrowStreamReader reader, TrackingInputStream in, BufferAllocator allocator,
            Exception failure) {
        try {
            if (reader != null) {
                reader.close();
            } else if (in != null) {
                in.close();
            }
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
        try {
            allocator.close();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** {@code s3://bucket/key} or the file's path. */
    public String object() {
        return object;
    }

    /** The dataset channel of this chunk's first channel. */
    public int chanStart() {
        return meta.chanStart();
    }

    /** Channels in this chunk. */
    public int nchan() {
        return meta.nchan();
    }

    /** This chunk's channel frequencies, Hz. */
    public double[] freqHz() {
        return meta.freqHz().clone();
    }

    public List<String> pols() {
        return meta.pols();
    }

    public double[] phaseCentreRad() {
        return meta.phaseCentreRad().clone();
    }

    /**
     * Reads the next record batch; false at the end of the chunk. The batch is valid until the next
     * call or {@link #close()}.
     */
    public boolean next() throws DatasetException {
        if (closed) {
            throw new IllegalStateException(object + ": reader closed");
        }
        if (ended) {
            return false;
        }
        boolean more;
        try {
            if (readAhead > 0) {
                if (ahead == null) {
                    ahead = new BatchReadAhead(messages, reader.getVectorSchemaRoot().getSchema(), allocator,
                            CommonsCompressionFactory.INSTANCE, readAhead);
                } else if (root != null) {
                    root.close();
                    root = null;
                }
                root = ahead.next();
                more = root != null;
            } else {
                more = reader.loadNextBatch();
                root = reader.getVectorSchemaRoot();
            }
        } catch (OutOfMemoryException e) {
            throw new DatasetException(DatasetException.Kind.IO, object, "batch " + batches + " does not fit in the "
                    + allocator.getLimit() + "-byte allocator limit (" + allocator.getAllocatedMemory()
                    + " held): write smaller record batches or give the reader more memory", e);
        } catch (IOException | RuntimeException e) {
            throw streamFailure(object, in, "cannot read batch " + batches, e);
        }
        if (!more) {
            ended = true;
            if (!in.endsWithEos()) {
                throw new DatasetException(DatasetException.Kind.TRUNCATED, object, "the stream ends after " + batches
                        + " batch(es) and " + in.count() + " bytes without the end-of-stream marker");
            }
            return false;
        }
        checkBatch();
        batches++;
        rows += root.getRowCount();
        loaded = true;
        return true;
    }

    private void checkBatch() throws DatasetException {
        for (String name : new String[] {"u", "v", "w", "vis", "weight", "flag"}) {
            FieldVector v = root.getVector(name);
            if (v.getNullCount() != 0 || (!v.getChildrenFromFields().isEmpty()
                    && v.getChildrenFromFields().get(0).getNullCount() != 0)) {
                throw new DatasetException(DatasetException.Kind.FORMAT, object, "batch " + batches + ": column " + name
                        + " has nulls (expected: none; flag samples instead)");
            }
        }
        long visBytes = 4L * root.getRowCount() * meta.nchan() * meta.pols().size() * 2;
        if (visBytes > Integer.MAX_VALUE) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object, "batch " + batches + " has " + visBytes
                    + " bytes of vis (expected: < 2 GiB per record batch)");
        }
    }

    /** The current batch as Arrow vectors. */
    public VectorSchemaRoot batch() {
        if (!loaded || ended) {
            throw new IllegalStateException(object + ": no current batch (call next() first)");
        }
        return root;
    }

    /** Stokes I of the current batch, into {@code block} (its rows replaced, its arrays reused); returns it. */
    public StokesIBlock stokesI(StokesIBlock block) {
        block.clear();
        return appendStokesI(block);
    }

    /** Stokes I of the current batch after the rows {@code block} holds (of this chunk's channels); returns it. */
    public StokesIBlock appendStokesI(StokesIBlock block) {
        StokesIFormation.append(batch(), meta, pair, block);
        return block;
    }

    /** Batches read so far. */
    public long batches() {
        return batches;
    }

    /** Rows read so far. */
    public long rows() {
        return rows;
    }

    /** Bytes of the object read so far. */
    public long bytesRead() {
        return in.count();
    }

    /**
     * Releases the batch and the stream (stopping a transfer under way) and closes the allocator;
     * throws {@link IllegalStateException} if buffers of this chunk are still held.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (ahead != null) {
                ahead.close();
                if (root != null) {
                    root.close();
                }
            }
            reader.close();
        } catch (IOException e) {
            // the object's bytes are no longer wanted; a failure to stop its transfer changes nothing
        } finally {
            allocator.close();
        }
    }

    private static DatasetException streamFailure(String object, TrackingInputStream in, String doing, Exception e) {
        if (e instanceof DatasetException d) {
            return d;
        }
        if (e.getCause() instanceof DatasetException d) {
            return d;
        }
        if (in.sawEnd()) {
            return new DatasetException(DatasetException.Kind.TRUNCATED, object, doing + ": the object ends inside a "
                    + "message after " + in.count() + " bytes (" + e.getMessage() + ")", e);
        }
        return new DatasetException(DatasetException.Kind.FORMAT, object, doing + ": not an Arrow IPC stream ("
                + e + ")", e);
    }
}
