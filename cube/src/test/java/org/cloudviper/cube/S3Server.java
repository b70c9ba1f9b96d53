package org.cloudviper.cube;

import java.net.URI;
import java.nio.file.Path;

import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;

/**
 * A real S3 server (s3proxy) in the test JVM on 127.0.0.1 and a free port, with AWS v2/v4
 * signatures checked against one key pair. Its blobs live in memory, or in a folder for data larger
 * than the test heap.
 */
public final class S3Server implements AutoCloseable {
    public static final String ACCESS_KEY = "cube-test-key";
    public static final String SECRET_KEY = "cube-test-secret";

    private final S3Proxy proxy;
    private final BlobStore store;

    private S3Server(BlobStore store) throws Exception {
        this.store = store;
        this.proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                proxy.stop();
                throw new IllegalStateException("s3proxy did not start: " + proxy.getState());
            }
            Thread.sleep(10);
        }
    }

    /** A server keeping its blobs in memory. */
    public static S3Server inMemory() throws Exception {
        return new S3Server(new TransientNio2BlobStore());
    }

    /** A server keeping its blobs under {@code folder}. */
    public static S3Server inFolder(Path folder) throws Exception {
        return new S3Server(new FilesystemNio2BlobStore(folder.toString()));
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    public void createBucket(String bucket) {
        store.createContainer(bucket);
    }

    /** Options that reach this server with its key pair, path-style. */
    public StoreOptions options() {
        return StoreOptions.builder().endpoint(endpoint()).region("us-east-1")
                .staticCredentials(ACCESS_KEY, SECRET_KEY).pathStyle(true).build();
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
        store.close();
    }
}
