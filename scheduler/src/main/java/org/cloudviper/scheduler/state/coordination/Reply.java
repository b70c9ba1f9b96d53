package org.cloudviper.scheduler.state.coordination;

/**
 * The answer to one request of a coordination primitive, given at once or later (an acquire, get
 * or wait that waits). The server's implementation writes it to the requesting connection; tests
 * record it. Each request is answered at most once.
 */
public interface Reply {
    /**
     * Answers with {@code value} (a msgpack value tree), encoded before this returns: the caller may
     * then release sub-objects of the value it held.
     */
    void send(Object value);

    /** Answers with an error that the Python peer raises as {@code pythonType(text)} (a builtins exception). */
    void fail(String pythonType, String text);

    /**
     * False once the requesting connection closed: a waiter that went away is passed over, so that
     * a lock or a queue item is never handed to nobody.
     */
    boolean isOpen();
}
