package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.ProtocolException;

/**
 * A pickle cloudviper will not read: malformed or truncated input, an opcode outside the supported
 * set, a limit exceeded, or a graph of an unexpected shape. Never anything else escapes the reader
 * and the slicer for any input (no {@code IndexOutOfBounds}, no {@code StackOverflowError}).
 */
public class PickleException extends ProtocolException {
    public PickleException(String message) {
        super(message);
    }

    public PickleException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code "pickle values: 1000001 (expected: <= 1000000)"}, the form of every limit message. */
    static PickleException limitExceeded(String what, long actual, long max) {
        return new PickleException(what + ": " + Long.toUnsignedString(actual) + " (expected: <= " + max + ")");
    }
}
