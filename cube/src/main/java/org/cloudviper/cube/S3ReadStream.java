package org.cloudviper.cube;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ThreadLocalRandom;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * One object's bytes as they arrive from S3. The native client fetches the object in parallel ranged
 * GETs and hands the bytes over in order, holding about the read window (and the parts in flight) ahead of this stream. A
 * transfer that breaks off (a reset connection, a stream ending short of the object's length) resumes
 * from the byte where it stopped, pinned to the same object version by its ETag, after a backoff that
 * doubles with each failure in a row; {@link StoreOptions#maxAttempts()} failures in a row without
 * progress give up.
 */
final class S3ReadStream extends InputStream {
    private static final Logger LOG = LoggerFactory.getLogger(S3ReadStream.class);

    private final S3ObjectStore store;
    private final String key;
    private final String uri;
    private final long length;
    private final String etag;
    private ResponseInputStream<GetObjectResponse> in;
    private long position;
    private int failuresInRow;
    private boolean closed;

    private S3ReadStream(S3ObjectStore store, String key, ResponseInputStream<GetObjectResponse> first) {
        this.store = store;
        this.key = key;
        this.uri = store.uri(key);
        this.in = first;
        this.length = first.response().contentLength();
        this.etag = first.response().eTag();
    }

    static S3ReadStream open(S3ObjectStore store, String key) throws DatasetException {
        String uri = store.uri(key);
        int failures = 0;
        while (true) {
            try {
                return new S3ReadStream(store, key, get(store, key, 0, null, uri));
            } catch (DatasetException e) {
                failures++;
                if (e.kind() == DatasetException.Kind.NOT_FOUND) {
                    throw store.bucketMissing(e);
                }
                if (!S3Errors.retryable(e) || failures >= store.options().maxAttempts()) {
                    throw e;
                }
                backoff(store.options(), failures, uri, e);
            }
        }
    }

    private static ResponseInputStream<GetObjectResponse> get(S3ObjectStore store, String key, long from, String etag,
            String uri) throws DatasetException {
        GetObjectRequest.Builder r = GetObjectRequest.builder().bucket(store.bucket()).key(store.fullKey(key));
        if (from > 0) {
            r.range("bytes=" + from + "-");
        }
        if (etag != null) {
            r.ifMatch(etag);
        }
        return S3Errors.join(uri, "cannot open", store.client().getObject(r.build(),
                AsyncResponseTransformer.toBlockingInputStream()));
    }

    private static void backoff(StoreOptions options, int failures, String uri, Exception cause) throws DatasetException {
        long base = options.retryBaseDelay().toMillis() << Math.min(failures - 1, 16);
        long delay = Math.min(base, 20_000);
        try {
            // jitter: readers that failed together do not come back together
            long sleep = ThreadLocalRandom.current().nextLong(delay / 2, delay + 1);
            LOG.warn("{}: attempt {} failed ({}); trying again in {} ms", uri, failures, cause.getMessage(), sleep);
            Thread.sleep(sleep);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatasetException(DatasetException.Kind.IO, uri, "interrupted while retrying after: " + cause, e);
        }
    }

    /** The object's length in bytes. */
    long length() {
        return length;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException(uri + ": stream closed");
        }
        if (len == 0) {
            return 0;
        }
        while (true) {
            try {
                int n = in.read(b, off, len);
                if (n < 0) {
                    if (position < length) {
                        throw new IOException("the transfer ended at byte " + position + " of " + length);
                    }
                    return -1;
                }
                position += n;
                failuresInRow = 0;
                return n;
            } catch (IOException | RuntimeException e) {
                abortCurrent();
                resume(e);
            }
        }
    }

    /** Opens the object again from {@link #position} after {@code cause}, or throws why not. */
    private void resume(Exception cause) throws DatasetException {
        Exception last = cause;
        while (true) {
            failuresInRow++;
            if (!S3Errors.retryable(last) || failuresInRow >= store.options().maxAttempts()) {
                throw S3Errors.of(uri, "cannot read at byte " + position + " after " + failuresInRow + " attempt(s)", last);
            }
            backoff(store.options(), failuresInRow, uri, last);
            try {
                in = get(store, key, position, etag, uri);
                return;
            } catch (DatasetException again) {
                last = again;
            }
        }
    }

    private void abortCurrent() {
        try {
            in.abort();
            in.close();
        } catch (IOException | RuntimeException ignored) {
            // the stream is being abandoned; its failure was the reason
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (position < length) {
                // stop the transfer rather than draining the rest of the object
                abortCurrent();
            } else {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // everything was read
                }
            }
        }
    }
}
