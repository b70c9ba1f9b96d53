package org.cloudviper.cube;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.arrow.memory.BufferAllocator;

/**
 * A dataset to read: its description ({@code _dataset.json}) and its chunks, from a folder or an
 * S3 prefix. Opening reads only the description; chunks are streamed when asked for, each
 * with its own allocator under the caller's ({@link #chunk}). Thread-safe: tasks read different
 * chunks of one dataset at once.
 */
public final class Dataset implements AutoCloseable {
    /** _dataset.json larger than this is refused. */
    static final int MAX_DESCRIPTION_BYTES = 64 << 20;

    private final ObjectStore store;
    private final boolean ownsStore;
    private final DatasetInfo info;

    private Dataset(ObjectStore store, boolean ownsStore, DatasetInfo info) {
        this.store = store;
        this.ownsStore = ownsStore;
        this.info = info;
    }

    /** Opens the dataset at {@code location} ({@code s3://bucket/prefix} or a folder); closing closes its store. */
    public static Dataset open(String location, StoreOptions options) throws DatasetException {
        ObjectStore store = ObjectStore.open(location, options);
        try {
            return new Dataset(store, true, describe(store));
        } catch (DatasetException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /** Opens the dataset at the root of {@code store}, which stays the caller's to close. */
    public static Dataset open(ObjectStore store) throws DatasetException {
        return new Dataset(store, false, describe(store));
    }

    /**
     * The dataset at the root of {@code store} as {@code described} (its {@code _dataset.json} read
     * before, by a plan), without reading the description again; the store stays the caller's.
     */
    public static Dataset of(ObjectStore store, DatasetInfo described) {
        return new Dataset(store, false, described);
    }

    private static DatasetInfo describe(ObjectStore store) throws DatasetException {
        return DatasetInfo.fromJson(store.readAll(DatasetInfo.FILE_NAME, MAX_DESCRIPTION_BYTES),
                store.uri(DatasetInfo.FILE_NAME));
    }

    public DatasetInfo info() {
        return info;
    }

    public ObjectStore store() {
        return store;
    }

    /** Opens chunk {@code key} (one of {@code info().chunks()}), checked against the description. */
    public ChunkReader chunk(String key, BufferAllocator allocator) throws DatasetException {
        return ChunkReader.open(store, key, info, allocator);
    }

    /** Schemas that {@link #channels} reads at once: requests in flight, 64 KiB each. */
    static final int PARALLEL_SCHEMA_READS = 16;

    /**
     * The channels of each chunk of {@code keys}, in order, each chunk's schema checked against the
     * description: from the first bytes of each object ({@link ChunkReader#channels}), up to
     * {@value #PARALLEL_SCHEMA_READS} objects at once, so that a plan of many chunks costs about the
     * latency of one request per {@value #PARALLEL_SCHEMA_READS} chunks and streams none of their
     * batches. The first failure in the order of {@code keys} is thrown.
     */
    public List<ChunkReader.ChannelRange> channels(List<String> keys) throws DatasetException {
        int threads = Math.min(PARALLEL_SCHEMA_READS, keys.size());
        List<ChunkReader.ChannelRange> out = new ArrayList<>(keys.size());
        if (threads <= 1) {
            for (String key : keys) {
                out.add(ChunkReader.channels(store, key, info));
            }
            return out;
        }
        ExecutorService readers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "schema reads of " + store.location());
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<ChunkReader.ChannelRange>> reads = new ArrayList<>(keys.size());
            for (String key : keys) {
                reads.add(readers.submit(() -> ChunkReader.channels(store, key, info)));
            }
            for (Future<ChunkReader.ChannelRange> f : reads) {
                out.add(f.get());
            }
            return out;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DatasetException d) {
                throw d;
            }
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatasetException(DatasetException.Kind.IO, store.location(), "interrupted while reading schemas", e);
        } finally {
            readers.shutdownNow();
        }
    }

    @Override
    public void close() {
        if (ownsStore) {
            store.close();
        }
    }
}
