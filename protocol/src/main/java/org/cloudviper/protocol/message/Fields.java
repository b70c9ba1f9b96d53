package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;
import org.cloudviper.protocol.ProtocolException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Reading the fields of a decoded msgpack map (see {@code MessageCodec}): Python peers send a
 * field as str or bytes, a number as int or float, a collection as tuple, list or the
 * {@code {"__Set__": true, "as-list": [...]}} marker, and leave optional fields out or nil. The
 * readers here accept all of those; the {@code require} forms fail the connection with a
 * {@link ProtocolException} naming the message and field.
 */
public final class Fields {
    private Fields() {
    }

    /** A str (or UTF-8 bytes) field, the text of any other value, or null. */
    public static String str(Map<?, ?> m, String k) {
        return text(m.get(k));
    }

    public static String text(Object v) {
        return v == null ? null : v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v.toString();
    }

    public static long lng(Map<?, ?> m, String k, long dflt) {
        return m.get(k) instanceof Number n ? n.longValue() : dflt;
    }

    public static double dbl(Map<?, ?> m, String k, double dflt) {
        return m.get(k) instanceof Number n ? n.doubleValue() : dflt;
    }

    /** True only for an explicit {@code True}. */
    public static boolean bool(Map<?, ?> m, String k) {
        return Boolean.TRUE.equals(m.get(k));
    }

    /** A map field, or an empty map when absent or of another type. */
    public static Map<?, ?> map(Map<?, ?> m, String k) {
        return m.get(k) instanceof Map<?, ?> mm ? mm : Map.of();
    }

    /**
     * A list, a {@code __Set__} marker's items, or a single value as a one-element list; null stays
     * null (so that "absent" and "empty" remain different where Dask distinguishes them).
     */
    public static List<Object> list(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("__Set__"))) {
            return list(m.get("as-list"));
        }
        if (v instanceof List<?> l) {
            @SuppressWarnings("unchecked") List<Object> r = (List<Object>) l;
            return r;
        }
        if (v instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        return List.of(v);
    }

    /** {@link #list} with absent as empty. */
    public static List<Object> listOrEmpty(Object v) {
        List<Object> l = list(v);
        return l == null ? List.of() : l;
    }

    /** The items of a list-like field as strings (worker addresses, names), or null when absent. */
    public static List<String> strings(Object v) {
        List<Object> l = list(v);
        if (l == null) {
            return null;
        }
        List<String> r = new ArrayList<>(l.size());
        for (Object o : l) {
            r.add(text(o));
        }
        return r;
    }

    /** {@code {key: [address, ...]}} (who_has), keys kept as sent; a new mutable map. */
    public static Map<Object, List<String>> whoHas(Object v) {
        if (!(v instanceof Map<?, ?> m)) {
            return new CompactMap<>(0);
        }
        Map<Object, List<String>> r = CompactMap.forSize(m.size());
        for (Map.Entry<?, ?> e : m.entrySet()) {
            List<String> ws = strings(e.getValue());
            r.put(e.getKey(), ws == null ? List.of() : ws);
        }
        return r;
    }

    /** {@code {key: nbytes}}; a value that is not a number counts as {@code dflt}; a new mutable map. */
    public static Map<Object, Long> nbytes(Object v, long dflt) {
        if (!(v instanceof Map<?, ?> m)) {
            return new CompactMap<>(0);
        }
        Map<Object, Long> r = CompactMap.forSize(m.size());
        for (Map.Entry<?, ?> e : m.entrySet()) {
            r.put(e.getKey(), e.getValue() instanceof Number n ? n.longValue() : dflt);
        }
        return r;
    }

    /** {@code {name: amount}} (resources, resource restrictions): numbers only. */
    public static Map<String, Double> amounts(Object v) {
        if (!(v instanceof Map<?, ?> m)) {
            return Map.of();
        }
        Map<String, Double> r = CompactMap.forSize(m.size());
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (e.getValue() instanceof Number n) {
                r.put(text(e.getKey()), n.doubleValue());
            }
        }
        return r;
    }

    /** The msgpack form of a Python set (distributed/protocol/core.py msgpack_encode_default). */
    public static Map<String, Object> set(List<?> items) {
        Map<String, Object> r = new CompactMap<>(2);
        r.put("__Set__", true);
        r.put("as-list", items);
        return r;
    }

    /** A shallow copy of a decoded map with its keys as text (a message kept or relayed whole). */
    public static Map<String, Object> copy(Map<?, ?> m) {
        Map<String, Object> r = CompactMap.forSize(m.size());
        for (Map.Entry<?, ?> e : m.entrySet()) {
            r.put(text(e.getKey()), e.getValue());
        }
        return r;
    }

    /**
     * A copy of a decoded value without its sub-objects (each becomes null), safe to keep after the
     * message is released: what a peer reports about itself (metrics, versions) kept for display.
     */
    public static Object plain(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> r = new java.util.LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                r.put(e.getKey(), plain(e.getValue()));
            }
            return r;
        }
        if (v instanceof List<?> l) {
            List<Object> r = new ArrayList<>(l.size());
            for (Object o : l) {
                r.add(plain(o));
            }
            return r;
        }
        return v instanceof org.cloudviper.protocol.SubObject ? null : v;
    }

    /** A field without which {@code op} cannot be handled. */
    public static Object require(Map<?, ?> m, String k, String op) {
        Object v = m.get(k);
        if (v == null) {
            throw new ProtocolException(op + " without " + k);
        }
        return v;
    }

    public static String requireStr(Map<?, ?> m, String k, String op) {
        return text(require(m, k, op));
    }
}
