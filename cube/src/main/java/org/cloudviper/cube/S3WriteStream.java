package org.cloudviper.cube;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * Bytes written become one S3 object at {@link #close()}. Up to one part they go up in one PUT; past
 * that, as a multipart upload whose parts leave while the caller goes on writing, at most
 * {@link #IN_FLIGHT} parts in flight, so memory stays below {@code (IN_FLIGHT + 1) x part size}
 * whatever the object's size. A failure, or {@link #abort()}, aborts the upload: no partial object
 * is left behind.
 */
final class S3WriteStream extends UploadStream {
    static final int IN_FLIGHT = 3;

    private enum State { OPEN, DONE, ABORTED }

    private final S3ObjectStore store;
    private final String key;
    private final String uri;
    private final int partSize;
    private byte[] buffer;
    private int filled;
    private String uploadId;
    private final ArrayDeque<CompletableFuture<CompletedPart>> inFlight = new ArrayDeque<>();
    private final List<CompletedPart> done = new ArrayList<>();
    private State state = State.OPEN;

    S3WriteStream(S3ObjectStore store, String key) {
        this.store = store;
        this.key = key;
        this.uri = store.uri(key);
        this.partSize = (int) Math.min(store.options().partSizeBytes(), Integer.MAX_VALUE - 64);
        this.buffer = new byte[Math.min(partSize, 1 << 16)];
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (state != State.OPEN) {
            throw new IOException(uri + ": upload " + state.name().toLowerCase(java.util.Locale.ROOT));
        }
        while (len > 0) {
            if (filled == buffer.length) {
                if (buffer.length < partSize) {
                    buffer = Arrays.copyOf(buffer, (int) Math.min(partSize, 2L * buffer.length));
                } else {
                    sendPart();
                }
            }
            int n = Math.min(len, buffer.length - filled);
            System.arraycopy(b, off, buffer, filled, n);
            filled += n;
            off += n;
            len -= n;
        }
    }

    private void sendPart() throws DatasetException {
        try {
            if (uploadId == null) {
                uploadId = S3Errors.join(uri, "cannot start a multipart upload", store.client().createMultipartUpload(
                        r -> r.bucket(store.bucket()).key(store.fullKey(key)))).uploadId();
            }
            while (inFlight.size() >= IN_FLIGHT) {
                done.add(S3Errors.join(uri, "cannot upload a part", inFlight.removeFirst()));
            }
            int partNumber = done.size() + inFlight.size() + 1;
            byte[] part = filled == buffer.length ? buffer : Arrays.copyOf(buffer, filled);
            inFlight.addLast(store.client()
                    .uploadPart(r -> r.bucket(store.bucket()).key(store.fullKey(key)).uploadId(uploadId)
                            .partNumber(partNumber).contentLength((long) part.length),
                            AsyncRequestBody.fromBytesUnsafe(part))
                    .thenApply(resp -> CompletedPart.builder().partNumber(partNumber).eTag(resp.eTag())
                            .checksumCRC32(resp.checksumCRC32()).checksumCRC32C(resp.checksumCRC32C())
                            .checksumCRC64NVME(resp.checksumCRC64NVME()).checksumSHA1(resp.checksumSHA1())
                            .checksumSHA256(resp.checksumSHA256()).build()));
            buffer = new byte[partSize];
            filled = 0;
        } catch (DatasetException e) {
            abort();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        if (state != State.OPEN) {
            return;
        }
        if (uploadId == null) {
            byte[] bytes = Arrays.copyOf(buffer, filled);
            state = State.DONE;
            buffer = null;
            store.put(key, bytes);
            return;
        }
        if (filled > 0) {
            sendPart();
        }
        try {
            while (!inFlight.isEmpty()) {
                done.add(S3Errors.join(uri, "cannot upload a part", inFlight.removeFirst()));
            }
            done.sort(Comparator.comparingInt(CompletedPart::partNumber));
            S3Errors.join(uri, "cannot complete the multipart upload", store.client().completeMultipartUpload(
                    r -> r.bucket(store.bucket()).key(store.fullKey(key)).uploadId(uploadId)
                            .multipartUpload(m -> m.parts(done))));
            state = State.DONE;
            buffer = null;
        } catch (DatasetException e) {
            abort();
            throw e;
        }
    }

    @Override
    public void abort() {
        if (state != State.OPEN) {
            return;
        }
        state = State.ABORTED;
        buffer = null;
        for (CompletableFuture<CompletedPart> f : inFlight) {
            f.cancel(true);
        }
        inFlight.clear();
        if (uploadId != null) {
            // best effort: the error that led here is the one the caller gets
            store.client().abortMultipartUpload(r -> r.bucket(store.bucket()).key(store.fullKey(key)).uploadId(uploadId))
                    .exceptionally(t -> null).join();
        }
    }
}
