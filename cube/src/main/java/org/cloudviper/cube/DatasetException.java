package org.cloudviper.cube;

import java.io.IOException;

/**
 * A dataset, a chunk or an output object could not be read or written. The message starts with the
 * object ({@code s3://bucket/key} or a file path) and says what went wrong; {@link #kind()} says it to
 * code.
 */
public final class DatasetException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The object (or the bucket) does not exist. */
        NOT_FOUND,
        /** The server refused the credentials or the access (HTTP 403, file permissions). */
        ACCESS_DENIED,
        /** The object ends before its Arrow stream does. */
        TRUNCATED,
        /** The content is not what the format specifies: schema, schema metadata, _dataset.json, values. */
        FORMAT,
        /** Anything else: the network, the server, the disk (after the retries). */
        IO
    }

    private final transient Kind kind;
    private final String object;

    public DatasetException(Kind kind, String object, String message, Throwable cause) {
        super(object + ": " + message, cause);
        this.kind = kind;
        this.object = object;
    }

    public DatasetException(Kind kind, String object, String message) {
        this(kind, object, message, null);
    }

    public Kind kind() {
        return kind;
    }

    /** The object concerned: {@code s3://bucket/key} or a file path. */
    public String object() {
        return object;
    }
}
