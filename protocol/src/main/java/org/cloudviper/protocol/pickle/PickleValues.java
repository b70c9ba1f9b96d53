package org.cloudviper.protocol.pickle;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plain Python values of a parsed pickle as Java values, and Dask keys with Python's equality.
 *
 * <p>Java forms (as {@code MessageCodec} uses them): None {@code null}, bool {@code Boolean}, int
 * {@code Long} (or {@code BigInteger} beyond 64 bits), float {@code Double}, str {@code String},
 * bytes/bytearray {@code byte[]}, tuple and list an unmodifiable {@code List}, set/frozenset an
 * unmodifiable {@code Set}, dict an unmodifiable insertion-ordered {@code Map}. Anything else
 * (GLOBAL, REDUCE, NEWOBJ, BUILD, out-of-band buffers) is not plain.
 */
public final class PickleValues {
    /** Python's recursion limit: plain values nested deeper are refused. */
    static final int WALK_DEPTH = 1_000;

    private PickleValues() {
    }

    /**
     * A value that is not plain data where plain data was required: {@link #value()} is the first
     * such part met (a global, a call, an object, a buffer; a set where sets are refused).
     */
    public static final class NotPlainException extends PickleException {
        private final transient PickleValue value;

        public NotPlainException(String message, PickleValue value) {
            super(message);
            this.value = value;
        }

        public PickleValue value() {
            return value;
        }
    }

    /** True if {@code v} (memo references resolved) is plain data all the way down. */
    public static boolean isPlain(PickleValue v) {
        try {
            toJava(v);
            return true;
        } catch (PickleException e) {
            return false;
        }
    }

    /**
     * The Java form of a plain value; a {@link NotPlainException} names the first non-plain part, a
     * {@link PickleException} a limit exceeded.
     */
    public static Object toJava(PickleValue v) {
        return toJava(v.p, v.id, 0, new int[]{0}, true);
    }

    /**
     * As {@link #toJava}, with every set and frozenset refused like a non-plain value: for consumers
     * whose values have no set form (arguments of Java tasks, which return what they get).
     */
    public static Object toJavaWithoutSets(PickleValue v) {
        return toJava(v.p, v.id, 0, new int[]{0}, false);
    }

    /**
     * The module-level name that makes {@code v}, for messages that say what a pickle would
     * construct: a global itself, the callee of a REDUCE, the class of a NEWOBJ, for a BUILD that of
     * its object (memo references followed); null for plain values and buffers.
     */
    public static PickleValue.Global madeBy(PickleValue v) {
        for (int i = 0; i <= WALK_DEPTH && v != null; i++) {
            if (v instanceof PickleValue.Global g) {
                return g;
            } else if (v instanceof PickleValue.Reduce r) {
                v = r.callee();
            } else if (v instanceof PickleValue.NewObj o) {
                v = o.cls();
            } else if (v instanceof PickleValue.Build b) {
                v = b.obj();
            } else if (v instanceof PickleValue.Ref r) {
                v = r.target();
            } else {
                return null;
            }
        }
        return null;
    }

    private static Object toJava(ParsedPickle p, int id, int depth, int[] budget, boolean sets) {
        if (depth > WALK_DEPTH) {
            throw PickleException.limitExceeded("plain value nesting", depth, WALK_DEPTH);
        }
        // Memo references can share one value many times: bound the work, not just the depth.
        if (++budget[0] > 10_000_000) {
            throw PickleException.limitExceeded("plain value size", budget[0], 10_000_000);
        }
        int v = p.resolve(id);
        switch (p.kind(v)) {
            case ParsedPickle.K_NONE:
                return null;
            case ParsedPickle.K_BOOL:
                return p.a[v] != 0;
            case ParsedPickle.K_INT:
            case ParsedPickle.K_BIGINT:
            case ParsedPickle.K_FLOAT:
            case ParsedPickle.K_STR:
            case ParsedPickle.K_BYTES:
            case ParsedPickle.K_BYTEARRAY:
                return scalar(p, v);
            case ParsedPickle.K_TUPLE:
            case ParsedPickle.K_LIST: {
                List<Object> out = new ArrayList<>(p.childCount(v));
                for (int i = 0; i < p.childCount(v); i++) {
                    out.add(toJava(p, p.child(v, i), depth + 1, budget, sets));
                }
                return Collections.unmodifiableList(out);
            }
            case ParsedPickle.K_SET:
            case ParsedPickle.K_FROZENSET: {
                if (!sets) {
                    throw notPlain(p, v);
                }
                Set<Object> out = new LinkedHashSet<>();
                for (int i = 0; i < p.childCount(v); i++) {
                    out.add(toJava(p, p.child(v, i), depth + 1, budget, sets));
                }
                return Collections.unmodifiableSet(out);
            }
            case ParsedPickle.K_DICT: {
                Map<Object, Object> out = new LinkedHashMap<>();
                for (int i = 0; i + 1 < p.childCount(v); i += 2) {
                    out.put(toJava(p, p.child(v, i), depth + 1, budget, sets),
                            toJava(p, p.child(v, i + 1), depth + 1, budget, sets));
                }
                return Collections.unmodifiableMap(out);
            }
            default:
                throw notPlain(p, v);
        }
    }

    /** The Java form of an int, float, str, bytes or bytearray (value {@code v}, resolved). */
    private static Object scalar(ParsedPickle p, int v) {
        return switch (p.kind(v)) {
            case ParsedPickle.K_INT -> p.longValue(v);
            case ParsedPickle.K_BIGINT -> p.bigs[p.c[v]];
            case ParsedPickle.K_FLOAT -> Double.longBitsToDouble(p.longValue(v));
            case ParsedPickle.K_STR -> p.strValue(v);
            case ParsedPickle.K_BYTES, ParsedPickle.K_BYTEARRAY -> Arrays.copyOfRange(p.data, p.a[v], p.a[v] + p.b[v]);
            default -> throw new IllegalStateException("not a scalar: kind " + p.kind(v));
        };
    }

    private static NotPlainException notPlain(ParsedPickle p, int v) {
        PickleValue value = p.value(v);
        return new NotPlainException("not a plain value: " + value.describe() + " at offset " + p.start[v], value);
    }

    /**
     * A Dask key (str, bytes, int, float or a tuple of those; {@code dask.core.iskey}) in its Java
     * form; anything else is a {@link PickleException}.
     */
    public static Object toKey(PickleValue v) {
        return toKey(v.p, v.id, 0);
    }

    static Object toKey(ParsedPickle p, int id, int depth) {
        if (depth > WALK_DEPTH) {
            throw PickleException.limitExceeded("key nesting", depth, WALK_DEPTH);
        }
        int v = p.resolve(id);
        switch (p.kind(v)) {
            case ParsedPickle.K_STR:
            case ParsedPickle.K_INT:
            case ParsedPickle.K_BIGINT:
            case ParsedPickle.K_FLOAT:
            case ParsedPickle.K_BYTES:
                return scalar(p, v);
            case ParsedPickle.K_TUPLE: {
                int n = p.childCount(v);
                Object[] out = new Object[n];
                for (int i = 0; i < n; i++) {
                    out[i] = toKey(p, p.child(v, i), depth + 1);
                }
                return Collections.unmodifiableList(java.util.Arrays.asList(out));
            }
            default:
                throw new PickleException("not a Dask key (str, bytes, int, float or tuple): " + p.value(v).describe()
                        + " at offset " + p.start[v]);
        }
    }

    /**
     * A form of a key whose {@code equals}/{@code hashCode} follow Python's {@code ==}/{@code hash}:
     * {@code 1 == 1.0 == True}, so integral floats and booleans become Long (or BigInteger), bytes
     * become a comparable wrapper, tuples lists of canonical parts. Use it to look keys up.
     */
    public static Object canonicalKey(Object key) {
        if (key instanceof String || key == null) {
            return key;
        } else if (key instanceof Boolean b) {
            return b ? 1L : 0L;
        } else if (key instanceof Long || key instanceof Integer || key instanceof Short || key instanceof Byte) {
            return ((Number) key).longValue();
        } else if (key instanceof BigInteger b) {
            return b.bitLength() < 64 ? (Object) b.longValue() : b;
        } else if (key instanceof Double || key instanceof java.lang.Float) {
            double d = ((Number) key).doubleValue();
            return canonicalDouble(d);
        } else if (key instanceof byte[] b) {
            return new BytesKey(b.clone());
        } else if (key instanceof BytesKey) {
            return key;
        } else if (key instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object o : l) {
                out.add(canonicalKey(o));
            }
            return out;
        }
        throw new IllegalArgumentException("not a key: " + key.getClass().getName());
    }

    static Object canonicalDouble(double d) {
        if (d == Math.rint(d) && !Double.isInfinite(d)) {
            if (d >= -0x1p63 && d < 0x1p63) {
                return (long) d;
            }
            return new java.math.BigDecimal(d).toBigIntegerExact();
        }
        return d; // NaN never equals anything in Python either (except itself by identity)
    }

    /** bytes with value equality (byte[] compares by identity). */
    public record BytesKey(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof BytesKey b && Arrays.equals(bytes, b.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "b'" + new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1) + "'";
        }
    }
}
