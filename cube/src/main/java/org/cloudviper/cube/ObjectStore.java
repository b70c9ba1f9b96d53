package org.cloudviper.cube;

import java.io.InputStream;
import java.nio.file.Path;

/**
 * Objects under one prefix of a bucket, or files under one local folder: where a dataset is read
 * from and where results are written to. Keys are relative to that root ({@code t000_c0000.arrows},
 * {@code cube.fits}). Every failure is a {@link DatasetException} naming the object.
 *
 * <p>Reads stream: {@link #read} returns as soon as the first bytes are there and never holds a
 * whole object (S3: ranged GETs in parallel, about {@link StoreOptions#readWindowBytes()} ahead of
 * the reader; an interrupted transfer resumes where it stopped, with backoff). Writes stream too:
 * {@link #write} uploads parts while the caller writes (S3 multipart upload for objects larger than
 * one part), and the object appears whole at {@code close()}, or not at all.
 */
public interface ObjectStore extends AutoCloseable {

    /**
     * Opens {@code location}: {@code s3://bucket/prefix} (reached with {@code options}), or a local
     * folder ({@code /path}, {@code file:///path}), created on the first write if missing.
     */
    static ObjectStore open(String location, StoreOptions options) throws DatasetException {
        if (location.startsWith("s3://")) {
            return S3ObjectStore.open(location, options);
        }
        if (location.contains("://") && !location.startsWith("file:")) {
            throw new DatasetException(DatasetException.Kind.NOT_FOUND, location,
                    "unsupported location (expected: s3://bucket/prefix or a local folder)");
        }
        return new LocalObjectStore(location.startsWith("file:") ? Path.of(java.net.URI.create(location)) : Path.of(location));
    }

    /** The root: {@code s3://bucket/prefix} or the folder's path. */
    String location();

    /** The object's full name for messages and logs: {@code s3://bucket/prefix/key} or a file path. */
    String uri(String key);

    /** A stream of the object's bytes; its read errors are {@link DatasetException}s naming the object. */
    InputStream read(String key) throws DatasetException;

    /**
     * The object's first {@code maxBytes} bytes, or all of it when it is shorter: one ranged GET, for a
     * reader that needs only a chunk's schema. Thread-safe: a caller may read the heads of many objects at once.
     */
    byte[] readHead(String key, int maxBytes) throws DatasetException;

    /** The whole of a small object (such as {@code _dataset.json}); refuses one above {@code maxBytes}. */
    byte[] readAll(String key, int maxBytes) throws DatasetException;

    /** The object's size in bytes. */
    long size(String key) throws DatasetException;

    /** A stream that becomes the object at {@code close()} (replacing one of that key), or nothing at {@code abort()}. */
    UploadStream write(String key) throws DatasetException;

    /** Writes a whole object. */
    void put(String key, byte[] bytes) throws DatasetException;

    @Override
    void close();
}
