package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.Py;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One packed layer state of a 2022.12.1 update-graph-hlg, as msgpack decoded it (tuples and lists
 * are Lists, sets {@code {"__Set__": true, "as-list": [...]}} maps, the client's
 * {@code to_serialize} values {@link SubObject}s): typed reads whose errors name the layer and the
 * field.
 */
final class PackedState {
    final String layer;
    private final Map<?, ?> state;

    PackedState(String layer, Map<?, ?> state) {
        this.layer = layer;
        this.state = state;
    }

    boolean has(String field) {
        return state.containsKey(field);
    }

    Object raw(String field) {
        return state.get(field);
    }

    String str(String field) {
        if (state.get(field) instanceof String s) {
            return s;
        }
        throw bad(field, "a str");
    }

    long integer(String field) {
        Long v = optInteger(field);
        if (v == null) {
            throw bad(field, "an int");
        }
        return v;
    }

    /** An int, or null for None. */
    Long optInteger(String field) {
        Object v = state.get(field);
        if (v == null) {
            return null;
        }
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        throw bad(field, "an int");
    }

    /** A sequence (tuple, list or set) of ints, or null for None. */
    List<Long> optIntegers(String field) {
        Object v = state.get(field);
        if (v == null) {
            return null;
        }
        List<Object> items = sequence(v);
        if (items == null) {
            throw bad(field, "a sequence of ints");
        }
        List<Long> out = new ArrayList<>(items.size());
        for (Object o : items) {
            if (!(o instanceof Long l)) {
                throw bad(field, "a sequence of ints");
            }
            out.add(l);
        }
        return out;
    }

    Map<?, ?> map(String field) {
        if (state.get(field) instanceof Map<?, ?> m && !isSet(m)) {
            return m;
        }
        throw bad(field, "a dict");
    }

    List<Object> list(String field) {
        List<Object> l = sequence(state.get(field));
        if (l == null) {
            throw bad(field, "a sequence");
        }
        return l;
    }

    /** The field as a Python value; tuples stay tuples. */
    Py py(String field) {
        return toPy(state.get(field), 0);
    }

    LayerException bad(String field, String expected) {
        Object v = state.get(field);
        return new LayerException("graph layer " + layer + ": " + field + " is "
                + (v == null ? "None" : v.getClass().getSimpleName()) + " (expected: " + expected + ")");
    }

    static boolean isSet(Map<?, ?> m) {
        return Boolean.TRUE.equals(m.get("__Set__")) && m.containsKey("as-list");
    }

    /** The items of a msgpack array or of a set marker; null for anything else. */
    @SuppressWarnings("unchecked")
    static List<Object> sequence(Object v) {
        if (v instanceof List<?> l) {
            return (List<Object>) l;
        }
        if (v instanceof Map<?, ?> m && isSet(m) && m.get("as-list") instanceof List<?> l) {
            return (List<Object>) l;
        }
        return null;
    }

    /**
     * A decoded message value as the Python scheduler holds it: arrays are tuples (msgpack is read
     * with {@code use_list=False}), set markers sets, Serialized values opaque.
     */
    static Py toPy(Object v, int depth) {
        if (depth > 1000) {
            throw new LayerException("packed layer value nested deeper than 1000 levels");
        }
        if (v == null || v instanceof Boolean || v instanceof Long || v instanceof BigInteger || v instanceof Double
                || v instanceof String || v instanceof byte[]) {
            return Py.lit(v);
        }
        if (v instanceof SubObject) {
            return new Py.Opaque(v);
        }
        if (v instanceof List<?> l) {
            List<Py> items = new ArrayList<>(l.size());
            for (Object o : l) {
                items.add(toPy(o, depth + 1));
            }
            return Py.tuple(items);
        }
        if (v instanceof Map<?, ?> m) {
            if (isSet(m)) {
                return Py.lit(new java.util.LinkedHashSet<>(sequence(m)));
            }
            List<Map.Entry<Py, Py>> entries = new ArrayList<>(m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) {
                entries.add(Map.entry(toPy(e.getKey(), depth + 1), toPy(e.getValue(), depth + 1)));
            }
            return new Py.PyDict(entries);
        }
        throw new LayerException("unexpected value in a packed layer: " + v.getClass().getSimpleName());
    }

    /** A plain dict of str to Python values, in order (e.g. merge_kwargs). */
    Map<String, Object> strMap(String field) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map(field).entrySet()) {
            out.put(String.valueOf(e.getKey()), e.getValue());
        }
        return out;
    }
}
