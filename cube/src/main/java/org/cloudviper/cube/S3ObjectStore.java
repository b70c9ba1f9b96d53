package org.cloudviper.cube;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CompletableFuture;

import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3CrtAsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

/**
 * {@link ObjectStore} over a prefix of an S3 bucket, through the AWS SDK's CRT-based client: a GET of
 * a large object becomes parallel ranged GETs of {@link StoreOptions#partSizeBytes()} whose bytes are
 * handed over in order as they arrive, a large PUT a multipart upload; the native client retries
 * failed requests with exponential backoff. The store owns its client.
 */
final class S3ObjectStore implements ObjectStore {
    private final S3AsyncClient client;
    private final StoreOptions options;
    private final String bucket;
    private final String prefix;

    private S3ObjectStore(S3AsyncClient client, StoreOptions options, String bucket, String prefix) {
        this.client = client;
        this.options = options;
        this.bucket = bucket;
        this.prefix = prefix;
    }

    static S3ObjectStore open(String location, StoreOptions options) throws DatasetException {
        String rest = location.substring("s3://".length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String prefix = slash < 0 ? "" : rest.substring(slash + 1);
        if (bucket.isEmpty()) {
            throw new DatasetException(DatasetException.Kind.NOT_FOUND, location, "no bucket in the location");
        }
        if (!prefix.isEmpty() && !prefix.endsWith("/")) {
            prefix += "/";
        }
        return new S3ObjectStore(client(options), options, bucket, prefix);
    }

    private static S3AsyncClient client(StoreOptions options) {
        S3CrtAsyncClientBuilder b = S3AsyncClient.crtBuilder()
                .credentialsProvider(credentials(options))
                .region(region(options))
                .forcePathStyle(options.pathStyle())
                .minimumPartSizeInBytes(options.partSizeBytes())
                .thresholdInBytes(options.partSizeBytes())
                .maxConcurrency(options.maxConcurrency())
                .initialReadBufferSizeInBytes(options.readWindowBytes())
                .retryConfiguration(r -> r.numRetries(options.maxAttempts() - 1));
        if (options.endpoint() != null) {
            b.endpointOverride(options.endpoint());
        }
        return b.build();
    }

    private static AwsCredentialsProvider credentials(StoreOptions options) {
        if (options.anonymous()) {
            return AnonymousCredentialsProvider.create();
        }
        if (options.accessKey() != null) {
            return StaticCredentialsProvider.create(options.sessionToken() == null
                    ? AwsBasicCredentials.create(options.accessKey(), options.secretKey())
                    : AwsSessionCredentials.create(options.accessKey(), options.secretKey(), options.sessionToken()));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    private static Region region(StoreOptions options) {
        if (options.region() != null) {
            return Region.of(options.region());
        }
        try {
            return DefaultAwsRegionProviderChain.builder().build().getRegion();
        } catch (RuntimeException none) {
            // no region configured anywhere: any region signs for S3-compatible servers
            return Region.US_EAST_1;
        }
    }

    @Override
    public String location() {
        return "s3://" + bucket + "/" + prefix;
    }

    @Override
    public String uri(String key) {
        return "s3://" + bucket + "/" + prefix + key;
    }

    String bucket() {
        return bucket;
    }

    String fullKey(String key) {
        return prefix + key;
    }

    S3AsyncClient client() {
        return client;
    }

    StoreOptions options() {
        return options;
    }

    /**
     * {@code notFound} as it was, or, when the bucket itself is missing, an error saying so (a GET
     * through the native client reports a 404 without S3's error code).
     */
    DatasetException bucketMissing(DatasetException notFound) {
        try {
            client.headBucket(r -> r.bucket(bucket)).join();
            return notFound;
        } catch (RuntimeException e) {
            DatasetException head = S3Errors.of("s3://" + bucket, "cannot check the bucket", e);
            if (head.kind() == DatasetException.Kind.NOT_FOUND) {
                return new DatasetException(DatasetException.Kind.NOT_FOUND, notFound.object(),
                        "no such bucket " + bucket, notFound);
            }
            return notFound;
        }
    }

    @Override
    public InputStream read(String key) throws DatasetException {
        return S3ReadStream.open(this, key);
    }

    @Override
    public byte[] readHead(String key, int maxBytes) throws DatasetException {
        if (maxBytes <= 0) {
            return new byte[0];
        }
        CompletableFuture<ResponseBytes<GetObjectResponse>> f = client.getObject(
                r -> r.bucket(bucket).key(fullKey(key)).range("bytes=0-" + (maxBytes - 1)),
                AsyncResponseTransformer.toBytes());
        try {
            return S3Errors.join(uri(key), "cannot read", f).asByteArrayUnsafe();
        } catch (DatasetException e) {
            if (e.getCause() instanceof AwsServiceException s && s.statusCode() == 416) {
                return new byte[0]; // a range of an empty object
            }
            throw e.kind() == DatasetException.Kind.NOT_FOUND ? bucketMissing(e) : e;
        }
    }

    @Override
    public byte[] readAll(String key, int maxBytes) throws DatasetException {
        try (InputStream in = read(key)) {
            byte[] bytes = in.readNBytes(maxBytes + 1);
            if (bytes.length > maxBytes) {
                throw new DatasetException(DatasetException.Kind.FORMAT, uri(key), "more than " + maxBytes + " bytes");
            }
            return bytes;
        } catch (DatasetException e) {
            throw e;
        } catch (IOException e) {
            throw S3Errors.of(uri(key), "cannot read", e);
        }
    }

    @Override
    public long size(String key) throws DatasetException {
        return S3Errors.join(uri(key), "cannot stat",
                client.headObject(r -> r.bucket(bucket).key(fullKey(key)))).contentLength();
    }

    @Override
    public UploadStream write(String key) throws DatasetException {
        return new S3WriteStream(this, key);
    }

    @Override
    public void put(String key, byte[] bytes) throws DatasetException {
        CompletableFuture<?> f = client.putObject(r -> r.bucket(bucket).key(fullKey(key)).contentLength((long) bytes.length),
                AsyncRequestBody.fromBytes(bytes));
        S3Errors.join(uri(key), "cannot write", f);
    }

    @Override
    public void close() {
        client.close();
    }
}
