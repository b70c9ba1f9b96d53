package org.cloudviper.protocol;

/**
 * A peer broke the Dask wire protocol (bad framing, limits exceeded, malformed msgpack, a message
 * of the wrong shape). The connection that produced it is closed; nothing else is affected.
 */
public class ProtocolException extends RuntimeException {
    public ProtocolException(String message) {
        super(message);
    }

    public ProtocolException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The message form used for every limit: {@code "frame size: 3000000000 (expected: <= 2147483647)"}. */
    public static ProtocolException limit(String what, long actual, long max) {
        return new ProtocolException(what + ": " + Long.toUnsignedString(actual) + " (expected: <= " + max + ")");
    }
}
