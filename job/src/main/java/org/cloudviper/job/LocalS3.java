package org.cloudviper.job;

import java.net.URI;

import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;

/**
 * An S3 server in this JVM (s3proxy, blobs in memory) on 127.0.0.1 and a free port, checking AWS
 * v2/v4 signatures against one key pair: the demo's bucket when no endpoint is given.
 */
final class LocalS3 implements AutoCloseable {
    static final String ACCESS_KEY = "cloudviper-demo";
    static final String SECRET_KEY = "cloudviper-demo-secret";

    private final S3Proxy proxy;
    private final BlobStore store;

    LocalS3() throws Exception {
        store = new TransientNio2BlobStore();
        proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
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

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    void createBucket(String bucket) {
        store.createContainer(bucket);
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
        store.close();
    }
}
