package org.cloudviper.cube;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach an S3 bucket, and how hard to pull on it. Immutable; {@link #builder()} starts from
 * the defaults, {@link #fromStorageOptions} takes the names Python users pass as fsspec/s3fs
 * {@code storage_options}.
 *
 * <p>Credentials: static keys when given, anonymous when asked, otherwise the SDK's default chain
 * (environment, system properties, profile files, container and instance roles). Region: the one
 * given, otherwise the SDK's default chain, otherwise {@code us-east-1} (any region signs for an
 * S3-compatible server that ignores it). Reads fetch objects in parts of {@link #partSizeBytes()}
 * with up to {@link #maxConcurrency()} ranged GETs at once, and the native client holds about
 * {@link #readWindowBytes()} of an object (plus the parts in flight) ahead of its reader; writes upload parts of the same size.
 */
public final class StoreOptions {
    private static final long MIB = 1024 * 1024;

    private final URI endpoint;
    private final String region;
    private final String accessKey;
    private final String secretKey;
    private final String sessionToken;
    private final boolean anonymous;
    private final boolean pathStyle;
    private final long partSizeBytes;
    private final int maxConcurrency;
    private final long readWindowBytes;
    private final int maxAttempts;
    private final Duration retryBaseDelay;

    private StoreOptions(Builder b) {
        this.endpoint = b.endpoint;
        this.region = b.region;
        this.accessKey = b.accessKey;
        this.secretKey = b.secretKey;
        this.sessionToken = b.sessionToken;
        this.anonymous = b.anonymous;
        this.pathStyle = b.pathStyle;
        this.partSizeBytes = b.partSizeBytes;
        this.maxConcurrency = b.maxConcurrency;
        this.readWindowBytes = b.readWindowBytes == 0 ? b.partSizeBytes * Math.max(2, b.maxConcurrency) : b.readWindowBytes;
        this.maxAttempts = b.maxAttempts;
        this.retryBaseDelay = b.retryBaseDelay;
        if (partSizeBytes < 5 * MIB) {
            // S3 refuses multipart parts below 5 MiB (all but the last)
            throw new IllegalArgumentException("partSizeBytes: " + partSizeBytes + " (expected: >= " + 5 * MIB + ")");
        }
        if (readWindowBytes < partSizeBytes) {
            throw new IllegalArgumentException("readWindowBytes: " + readWindowBytes + " (expected: >= partSizeBytes "
                    + partSizeBytes + ")");
        }
        if (maxConcurrency < 1 || maxAttempts < 1) {
            throw new IllegalArgumentException("maxConcurrency: " + maxConcurrency + ", maxAttempts: " + maxAttempts
                    + " (expected: >= 1)");
        }
        if ((accessKey == null) != (secretKey == null)) {
            throw new IllegalArgumentException("static credentials need both an access key and a secret key");
        }
    }

    /** The defaults: AWS's own endpoint, default region and credential chains, 8 MiB parts, 8 at once. */
    public static StoreOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Options from fsspec/s3fs-style {@code storage_options}: {@code endpoint_url}, {@code key},
     * {@code secret}, {@code token}, {@code region} (or {@code region_name}), {@code anon}, and
     * cloudviper's {@code path_style} (default: true when an endpoint is given, as S3-compatible
     * servers expect), {@code part_size}, {@code max_concurrency}. Other keys are refused, so that a
     * misspelt option does not pass unnoticed.
     */
    public static StoreOptions fromStorageOptions(Map<String, ?> options) {
        Builder b = builder();
        Boolean pathStyle = null;
        for (Map.Entry<String, ?> e : options.entrySet()) {
            Object v = e.getValue();
            if (v == null) {
                continue;
            }
            String s = String.valueOf(v);
            switch (e.getKey()) {
                case "endpoint_url" -> b.endpoint(URI.create(s));
                case "key" -> b.accessKey = s;
                case "secret" -> b.secretKey = s;
                case "token" -> b.sessionToken = s;
                case "region", "region_name" -> b.region(s);
                case "anon" -> b.anonymous(parseBoolean(e.getKey(), v));
                case "path_style" -> pathStyle = parseBoolean(e.getKey(), v);
                case "part_size" -> b.partSizeBytes(parseLong(e.getKey(), v));
                case "max_concurrency" -> b.maxConcurrency((int) parseLong(e.getKey(), v));
                default -> throw new IllegalArgumentException("storage option " + e.getKey()
                        + ": unknown (expected: endpoint_url, key, secret, token, region, anon, path_style, part_size,"
                        + " max_concurrency)");
            }
        }
        b.pathStyle(pathStyle != null ? pathStyle : b.endpoint != null);
        return b.build();
    }

    private static long parseLong(String name, Object v) {
        if (v instanceof Number n) {
            return n.longValue();
        }
        try {
            return Long.parseLong(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("storage option " + name + ": " + v + " (expected: an integer)");
        }
    }

    private static boolean parseBoolean(String name, Object v) {
        if (v instanceof Boolean bool) {
            return bool;
        }
        String s = String.valueOf(v).toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("1")) {
            return true;
        }
        if (s.equals("false") || s.equals("0")) {
            return false;
        }
        throw new IllegalArgumentException("storage option " + name + ": " + v + " (expected: true or false)");
    }

    /** The S3 endpoint, or null for AWS's own. */
    public URI endpoint() {
        return endpoint;
    }

    /** The region, or null for the SDK's default region chain. */
    public String region() {
        return region;
    }

    /** The static access key, or null for the default credential chain (or anonymous access). */
    public String accessKey() {
        return accessKey;
    }

    public String secretKey() {
        return secretKey;
    }

    public String sessionToken() {
        return sessionToken;
    }

    public boolean anonymous() {
        return anonymous;
    }

    /** Path-style addressing ({@code endpoint/bucket/key}) instead of virtual hosts. */
    public boolean pathStyle() {
        return pathStyle;
    }

    public long partSizeBytes() {
        return partSizeBytes;
    }

    public int maxConcurrency() {
        return maxConcurrency;
    }

    /**
     * Bytes of one object the native client may buffer ahead of the reader (its flow-control window;
     * the parts in flight come on top): what bounds a read's memory.
     */
    public long readWindowBytes() {
        return readWindowBytes;
    }

    /** Attempts per request and per interrupted stream (the first included). */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** The first retry's delay; each further one doubles it, with jitter. */
    public Duration retryBaseDelay() {
        return retryBaseDelay;
    }

    @Override
    public String toString() {
        // never the secret
        return "StoreOptions[endpoint=" + (endpoint == null ? "aws" : endpoint) + ", region="
                + Objects.requireNonNullElse(region, "default") + ", credentials="
                + (anonymous ? "anonymous" : accessKey != null ? "static " + accessKey : "default chain")
                + ", pathStyle=" + pathStyle + ", partSize=" + partSizeBytes + ", maxConcurrency=" + maxConcurrency
                + ", readWindow=" + readWindowBytes + ", maxAttempts=" + maxAttempts + "]";
    }

    public static final class Builder {
        private URI endpoint;
        private String region;
        private String accessKey;
        private String secretKey;
        private String sessionToken;
        private boolean anonymous;
        private boolean pathStyle;
        private long partSizeBytes = 8 * MIB;
        private int maxConcurrency = 8;
        private long readWindowBytes;
        private int maxAttempts = 5;
        private Duration retryBaseDelay = Duration.ofMillis(100);

        private Builder() {
        }

        public Builder endpoint(URI endpoint) {
            this.endpoint = endpoint;
            return this;
        }

        public Builder region(String region) {
            this.region = region;
            return this;
        }

        public Builder staticCredentials(String accessKey, String secretKey) {
            this.accessKey = Objects.requireNonNull(accessKey, "accessKey");
            this.secretKey = Objects.requireNonNull(secretKey, "secretKey");
            return this;
        }

        public Builder sessionToken(String sessionToken) {
            this.sessionToken = sessionToken;
            return this;
        }

        public Builder anonymous(boolean anonymous) {
            this.anonymous = anonymous;
            return this;
        }

        public Builder pathStyle(boolean pathStyle) {
            this.pathStyle = pathStyle;
            return this;
        }

        public Builder partSizeBytes(long partSizeBytes) {
            this.partSizeBytes = partSizeBytes;
            return this;
        }

        public Builder maxConcurrency(int maxConcurrency) {
            this.maxConcurrency = maxConcurrency;
            return this;
        }

        /** 0 (the default): {@code partSizeBytes * max(2, maxConcurrency)}. */
        public Builder readWindowBytes(long readWindowBytes) {
            this.readWindowBytes = readWindowBytes;
            return this;
        }

        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = maxAttempts;
            return this;
        }

        public Builder retryBaseDelay(Duration retryBaseDelay) {
            this.retryBaseDelay = Objects.requireNonNull(retryBaseDelay);
            return this;
        }

        public StoreOptions build() {
            return new StoreOptions(this);
        }
    }
}
