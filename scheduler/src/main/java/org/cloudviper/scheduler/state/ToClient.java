package org.cloudviper.scheduler.state;

/** Messages the scheduler state sends on a client's stream (distributed Client._stream_handlers). */
public sealed interface ToClient {
    /** {@code type} is the pickled result class, or null when unknown (scattered data). */
    record KeyInMemory(Object key, byte[] type) implements ToClient {
    }

    /** {@code exception}/{@code traceback}: the worker's Serialized values, or byte[] pickles, or strings. */
    record TaskErred(Object key, Object exception, Object traceback) implements ToClient {
    }

    record LostData(Object key) implements ToClient {
    }

    record CancelledKey(Object key) implements ToClient {
    }

    record TaskRetried(Object key) implements ToClient {
    }
}
