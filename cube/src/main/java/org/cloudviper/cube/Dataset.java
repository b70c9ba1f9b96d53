package org.cloudviper.cube;

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

    @Override
    public void close() {
        if (ownsStore) {
            store.close();
        }
    }
}
