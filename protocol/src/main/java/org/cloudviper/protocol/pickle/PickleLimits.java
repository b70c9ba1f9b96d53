package org.cloudviper.protocol.pickle;

/**
 * Bounds on one pickle, all checked before the reader allocates for them: a hostile pickle costs
 * at most O(maxPickleBytes + maxValues) memory and time, whatever lengths it declares.
 *
 * @param maxPickleBytes bytes of the pickle itself (frame 0 of graph_frames)
 * @param maxDepth       nesting of values (containers, calls, BUILD states) and of MARKs
 * @param maxValues      symbolic values the reader may create (each opcode makes at most one)
 * @param maxMemo        highest memo index + 1 (MEMOIZE, PUT, BINPUT, LONG_BINPUT)
 * @param maxStringBytes bytes of one str/bytes/bytearray/int literal (also bounded by the input left)
 * @param maxBuffers     out-of-band buffers (NEXT_BUFFER) one pickle may consume
 */
public record PickleLimits(int maxPickleBytes, int maxDepth, int maxValues, int maxMemo, int maxStringBytes,
                           int maxBuffers) {

    /**
     * Generous for real task graphs: a 2 GiB pickle, 100 million values, nesting 10,000 deep (beyond
     * what CPython 3.13's pickler can write: it fails between 3,000 and 10,000 nested lists).
     */
    public static final PickleLimits DEFAULT =
            new PickleLimits(Integer.MAX_VALUE - 8, 10_000, 100_000_000, 100_000_000, Integer.MAX_VALUE - 8, 1_000_000);

    public PickleLimits {
        positive("maxPickleBytes", maxPickleBytes);
        positive("maxDepth", maxDepth);
        positive("maxValues", maxValues);
        positive("maxMemo", maxMemo);
        positive("maxStringBytes", maxStringBytes);
        if (maxBuffers < 0) {
            throw new IllegalArgumentException("maxBuffers: " + maxBuffers + " (expected: >= 0)");
        }
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + ": " + v + " (expected: >= 1)");
        }
    }

    public PickleLimits withMaxPickleBytes(int v) {
        return new PickleLimits(v, maxDepth, maxValues, maxMemo, maxStringBytes, maxBuffers);
    }

    public PickleLimits withMaxDepth(int v) {
        return new PickleLimits(maxPickleBytes, v, maxValues, maxMemo, maxStringBytes, maxBuffers);
    }

    public PickleLimits withMaxValues(int v) {
        return new PickleLimits(maxPickleBytes, maxDepth, v, maxMemo, maxStringBytes, maxBuffers);
    }

    public PickleLimits withMaxMemo(int v) {
        return new PickleLimits(maxPickleBytes, maxDepth, maxValues, v, maxStringBytes, maxBuffers);
    }

    public PickleLimits withMaxStringBytes(int v) {
        return new PickleLimits(maxPickleBytes, maxDepth, maxValues, maxMemo, v, maxBuffers);
    }

    public PickleLimits withMaxBuffers(int v) {
        return new PickleLimits(maxPickleBytes, maxDepth, maxValues, maxMemo, maxStringBytes, v);
    }
}
