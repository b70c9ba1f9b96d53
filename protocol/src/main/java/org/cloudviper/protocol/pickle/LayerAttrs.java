package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.layers.LayerException;

import java.util.ArrayList;
import java.util.List;

/**
 * Typed reads of a pickled layer object's attributes (its {@code __dict__} after BUILD), with errors
 * that name the layer and the attribute.
 */
final class LayerAttrs {
    final String layer;
    final TaskSpec.Obj o;

    LayerAttrs(String layer, TaskSpec.Obj o) {
        this.layer = layer;
        this.o = o;
    }

    boolean has(String name) {
        return o.attr(name) != null;
    }

    /** The attribute's value (a memo reference stays one, so spans copy it as a reference). */
    PickleValue value(String name) {
        PickleValue v = o.attr(name);
        if (v == null) {
            throw new LayerException("graph layer " + layer + " has no attribute " + name);
        }
        return v;
    }

    /** The attribute, or null if absent or None. */
    PickleValue optValue(String name) {
        PickleValue v = o.attr(name);
        return v == null || v.resolve() instanceof PickleValue.None ? null : v;
    }

    String str(String name) {
        if (value(name).resolve() instanceof PickleValue.Str s) {
            return s.value();
        }
        throw bad(name, "a str");
    }

    long integer(String name) {
        Long v = optInteger(name);
        if (v == null) {
            throw bad(name, "an int");
        }
        return v;
    }

    /** An int (a bool counts as one), or null for None or no attribute. */
    Long optInteger(String name) {
        PickleValue v = optValue(name);
        if (v == null) {
            return null;
        }
        return integer(v.resolve(), name);
    }

    private Long integer(PickleValue r, String name) {
        if (r instanceof PickleValue.Int i && i.fitsLong()) {
            return i.longValue();
        }
        if (r instanceof PickleValue.Bool b) {
            return b.value() ? 1L : 0L;
        }
        throw bad(name, "an int");
    }

    /**
     * A tuple, list, set or {@code range(start, stop[, step])} of ints in iteration order, or null
     * for None or no attribute; {@code maxItems} bounds a range before it is listed.
     */
    List<Long> optIntegers(String name, long maxItems) {
        PickleValue v = optValue(name);
        if (v == null) {
            return null;
        }
        PickleValue r = v.resolve();
        List<PickleValue> items = items(r);
        if (items != null) {
            List<Long> out = new ArrayList<>(items.size());
            for (PickleValue x : items) {
                out.add(integer(x.resolve(), name));
            }
            return out;
        }
        TaskSpec.Obj range = TaskSpec.object(r);
        if (range != null && range.reduced() && range.is("builtins", "range")
                && range.args().resolve() instanceof PickleValue.Tuple t && t.size() >= 1 && t.size() <= 3) {
            long start = t.size() == 1 ? 0 : integer(t.get(0).resolve(), name);
            long stop = integer(t.get(t.size() == 1 ? 0 : 1).resolve(), name);
            long step = t.size() == 3 ? integer(t.get(2).resolve(), name) : 1;
            if (step == 0) {
                throw bad(name, "a range with a step");
            }
            long n = step > 0 ? Math.max(0, (stop - start + step - 1) / step) : Math.max(0, (start - stop - step - 1) / -step);
            if (n > maxItems) {
                throw LayerException.limit(layer, name + " items", n, maxItems);
            }
            List<Long> out = new ArrayList<>((int) n);
            for (long i = 0, x = start; i < n; i++, x += step) {
                out.add(x);
            }
            return out;
        }
        throw bad(name, "a sequence of ints");
    }

    /** The items of a tuple, list, set or frozenset; null for anything else. */
    static List<PickleValue> items(PickleValue r) {
        if (r instanceof PickleValue.Tuple t) {
            return t.items();
        }
        if (r instanceof PickleValue.PyList l) {
            return l.items();
        }
        if (r instanceof PickleValue.PySet s) {
            return s.items();
        }
        return null;
    }

    LayerException bad(String name, String expected) {
        PickleValue v = o.attr(name);
        return new LayerException("graph layer " + layer + ": " + name + " is "
                + (v == null ? "missing" : v.resolve().describe()) + " (expected: " + expected + ")");
    }
}
