package org.cloudviper.cube;

import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.VectorLoader;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.compression.CompressionCodec;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.MessageChannelReader;
import org.apache.arrow.vector.ipc.message.MessageResult;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The record batches of an IPC stream (after its schema) read ahead and decoded off the consumer's
 * thread: a read-ahead task takes each batch's message and body from the stream as they arrive and
 * hands them to the shared decode threads (one per available processor), which decompress the
 * buffers into a {@link VectorSchemaRoot} of the batch's own; {@link #next} gives them back in stream
 * order. So a compressed stream is decompressed on several threads while the bytes of the next
 * batches arrive, and the consumer's work on one batch overlaps the reading of the next.
 *
 * <p>Memory: at most {@code depth} batches wait decoded or decoding, one more is being read, and the
 * consumer holds one; all come from the caller's allocator, and {@link #close} releases every one of
 * them, whatever state the read-ahead is in.
 */
final class BatchReadAhead implements AutoCloseable {
    private static final ExecutorService READERS = Executors.newCachedThreadPool(daemons("arrow-read-ahead-"));
    private static final ExecutorService DECODERS = Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(), daemons("arrow-decode-"));
    /** Queued after the last batch. */
    private static final Future<VectorSchemaRoot> END = CompletableFuture.completedFuture(null);

    private final MessageChannelReader messages;
    private final Schema schema;
    private final BufferAllocator allocator;
    private final CompressionCodec.Factory codecs;
    private final BlockingQueue<Future<VectorSchemaRoot>> ready;
    private final Future<?> reading;
    private volatile boolean closed;
    private boolean ended;

    /** Starts reading the batches of {@code messages} (positioned after the schema) of {@code schema}. */
    BatchReadAhead(MessageChannelReader messages, Schema schema, BufferAllocator allocator,
            CompressionCodec.Factory codecs, int depth) {
        this.messages = messages;
        this.schema = schema;
        this.allocator = allocator;
        this.codecs = codecs;
        this.ready = new ArrayBlockingQueue<>(Math.max(1, depth));
        this.reading = READERS.submit(this::readAll);
    }

    /**
     * The next batch, decoded, or null after the last; the caller owns it (and closes it). Throws what
     * reading or decoding it threw.
     */
    VectorSchemaRoot next() throws IOException {
        if (ended) {
            return null;
        }
        Future<VectorSchemaRoot> f;
        try {
            f = ready.take();
            VectorSchemaRoot root = f.get();
            if (root == null) {
                ended = true;
            }
            return root;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for a record batch", e);
        } catch (ExecutionException e) {
            ended = true;
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IOException(c);
        }
    }

    private void readAll() {
        try {
            while (!closed) {
                MessageResult m = messages.readNext();
                if (m == null) {
                    put(END);
                    return;
                }
                Message message = m.getMessage();
                ArrowBuf body = m.getBodyBuffer() == null ? allocator.getEmpty() : m.getBodyBuffer();
                if (message.headerType() != MessageHeader.RecordBatch) {
                    body.close();
                    throw new IOException("a message of type " + MessageHeader.name(message.headerType())
                            + " (expected: record batches; dictionaries are not part of the format)");
                }
                put(CompletableFuture.supplyAsync(() -> decode(message, body), DECODERS));
            }
        } catch (Throwable e) {
            put(CompletableFuture.failedFuture(e));
        }
    }

    /** Queues {@code f}, waiting for room; after {@link #close}, releases what it holds instead. */
    private void put(Future<VectorSchemaRoot> f) {
        try {
            while (!closed) {
                if (ready.offer(f, 10, TimeUnit.MILLISECONDS)) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        release(f);
    }

    private VectorSchemaRoot decode(Message message, ArrowBuf body) {
        ArrowRecordBatch batch;
        try {
            batch = MessageSerializer.deserializeRecordBatch(message, body);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        VectorSchemaRoot root = VectorSchemaRoot.create(schema, allocator);
        try {
            new VectorLoader(root, codecs).load(batch);
            return root;
        } catch (RuntimeException | Error e) {
            root.close();
            throw e;
        } finally {
            batch.close();
        }
    }

    /**
     * Stops the read-ahead and releases every batch it read or decoded; a read under way is waited for
     * (the rest of one batch's bytes at most), so that the caller closes the stream after this, never
     * under a read.
     */
    @Override
    public void close() {
        closed = true;
        while (true) {
            for (Future<VectorSchemaRoot> f = ready.poll(); f != null; f = ready.poll()) {
                release(f);
            }
            try {
                reading.get(10, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                // still reading or queuing: drain again
            } catch (ExecutionException e) {
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (Future<VectorSchemaRoot> f = ready.poll(); f != null; f = ready.poll()) {
            release(f);
        }
    }

    /** Waits for a batch being decoded and closes it. */
    private static void release(Future<VectorSchemaRoot> f) {
        boolean interrupted = false;
        while (true) {
            try {
                VectorSchemaRoot root = f.get();
                if (root != null) {
                    root.close();
                }
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory daemons(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
