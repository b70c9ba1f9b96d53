package org.cloudviper.protocol.pickle;

/**
 * An upper bound of {@code dask.sizeof.sizeof(value)} (CPython 3.13, 64-bit), for the one decision
 * that depends on it: {@code _MapLayer._construct_graph} moves a client.map keyword argument with
 * {@code sizeof(v) > 1e5} into its own DataNode task. dask samples 10 items of larger collections
 * at random, so only a bound that holds for every sample decides the case; values whose size
 * cannot be bounded without Python (arbitrary objects) report {@link Long#MAX_VALUE}.
 */
final class Sizeof {
    static final long DATANODE_THRESHOLD = 100_000;
    private static final long UNKNOWN = Long.MAX_VALUE;
    private static final int BUDGET = 100_000;

    private Sizeof() {
    }

    static long upperBound(PickleValue v) {
        return bound(v, 0, new int[]{BUDGET});
    }

    private static long bound(PickleValue v, int depth, int[] budget) {
        if (depth > PickleValues.WALK_DEPTH || --budget[0] < 0) {
            return UNKNOWN;
        }
        v = v.resolve();
        if (v instanceof PickleValue.None || v instanceof PickleValue.Bool || v instanceof PickleValue.Float) {
            return 32;
        } else if (v instanceof PickleValue.Int i) {
            return 32 + 4L * (i.big().bitLength() / 30 + 1);
        } else if (v instanceof PickleValue.Str s) {
            return 64 + 4L * s.utf8Length();
        } else if (v instanceof PickleValue.Bytes b) {
            return 64 + (long) b.length();
        } else if (v instanceof PickleValue.Tuple t) {
            return collection(48 + 8L * t.size(), t.items(), depth, budget);
        } else if (v instanceof PickleValue.PyList l) {
            return collection(64 + 16L * l.size(), l.items(), depth, budget);
        } else if (v instanceof PickleValue.PySet s) {
            return collection(256 + 128L * s.size(), s.items(), depth, budget);
        } else if (v instanceof PickleValue.PyDict d) {
            // sizeof(dict) = getsizeof(d) + sizeof(list(keys)) + sizeof(list(values)) - 2 * sizeof([])
            java.util.List<PickleValue> ks = new java.util.ArrayList<>();
            java.util.List<PickleValue> vs = new java.util.ArrayList<>();
            for (int i = 0; i < d.size(); i++) {
                ks.add(d.key(i));
                vs.add(d.value(i));
            }
            long keys = collection(64 + 16L * d.size(), ks, depth, budget);
            long values = collection(64 + 16L * d.size(), vs, depth, budget);
            return add(add(512 + 96L * d.size(), keys), values);
        }
        TaskSpec.Obj o = TaskSpec.object(v);
        if (o != null && !o.reduced() && o.is(TaskSpec.TASK_SPEC, "Alias") && o.attr("target") != null) {
            // GraphNode.__sizeof__: sizes of the slots plus sys.getsizeof(type(self)) (~1 kB)
            return add(8192, 2 * Math.min(UNKNOWN / 4, bound(o.attr("target"), depth + 1, budget)));
        }
        return UNKNOWN;
    }

    private static long collection(long own, java.util.List<PickleValue> items, int depth, int[] budget) {
        long max = 0;
        for (PickleValue x : items) {
            max = Math.max(max, bound(x, depth + 1, budget));
            if (max == UNKNOWN || max > DATANODE_THRESHOLD) {
                return UNKNOWN;
            }
        }
        return add(own, mul(max, items.size()));
    }

    private static long add(long a, long b) {
        long r = a + b;
        return (r < 0 || a == UNKNOWN || b == UNKNOWN) ? UNKNOWN : r;
    }

    private static long mul(long a, long n) {
        if (a == 0 || n == 0) {
            return 0;
        }
        return a > UNKNOWN / n ? UNKNOWN : a * n;
    }
}
