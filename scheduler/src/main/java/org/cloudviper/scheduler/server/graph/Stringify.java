package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.layers.Py;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a 2022.12.1 scheduler does to an unpacked layer's tasks before it keeps them: keys become
 * strings ({@code dask.utils.stringify}, {@code stringify_collection_keys}) and dependencies are the
 * known keys found in the task ({@code dask.core.keys_in_tasks}).
 */
final class Stringify {
    private Stringify() {
    }

    /** {@code stringify(key)}: a str as it is, anything else {@code str(key)}. */
    static String key(Object key) {
        return PyRepr.str(key);
    }

    /**
     * {@code stringify_collection_keys(v)}: every tuple whose first item is a str (a key, or a
     * literal that looks like one) becomes its {@code str()}; tasks, lists, dicts and other tuples
     * are searched.
     */
    static Py collectionKeys(Py v) {
        if (v instanceof Py.KeyRef k) {
            return Py.lit(key(k.key()));
        }
        if (v instanceof Py.Call c) {
            List<Py> args = new ArrayList<>(c.args().size());
            for (Py a : c.args()) {
                args.add(collectionKeys(a));
            }
            return new Py.Call(c.func(), args);
        }
        if (v instanceof Py.PyTuple t) {
            if (t.items().isEmpty()) {
                return t;
            }
            Py first = t.items().get(0);
            if (first instanceof Py.Lit l && (l.value() instanceof String || l.value() instanceof byte[])) {
                return Py.lit(PyRepr.str(t));
            }
            List<Py> items = new ArrayList<>(t.items().size());
            for (int i = 0; i < t.items().size(); i++) {
                Py x = t.items().get(i);
                items.add(i == 0 && (x instanceof Py.Func || x instanceof Py.LazyFunc) ? x : collectionKeys(x));
            }
            return Py.tuple(items);
        }
        if (v instanceof Py.PyList l) {
            List<Py> items = new ArrayList<>(l.items().size());
            for (Py x : l.items()) {
                items.add(collectionKeys(x));
            }
            return Py.list(items);
        }
        if (v instanceof Py.PyDict d) {
            List<Map.Entry<Py, Py>> entries = new ArrayList<>(d.entries().size());
            for (Map.Entry<Py, Py> e : d.entries()) {
                entries.add(Map.entry(e.getKey(), collectionKeys(e.getValue())));
            }
            return new Py.PyDict(entries);
        }
        return v;
    }

    /**
     * {@code keys_in_tasks(known, [task])} on a stringified task: the arguments of tasks, the items
     * of lists and the values of dicts are searched; any other value that is a known key counts.
     */
    static void keysInTask(Py task, Set<String> known, Set<String> out) {
        List<Py> work = new ArrayList<>();
        work.add(task);
        while (!work.isEmpty()) {
            Py w = work.remove(work.size() - 1);
            if (w instanceof Py.Call c) {
                if (!(c.func() instanceof Py.Opaque)) {
                    work.addAll(c.args());
                }
            } else if (w instanceof Py.PyTuple t && !t.items().isEmpty()
                    && (t.items().get(0) instanceof Py.Func || t.items().get(0) instanceof Py.LazyFunc)) {
                work.addAll(t.items().subList(1, t.items().size()));
            } else if (w instanceof Py.PyList l) {
                work.addAll(l.items());
            } else if (w instanceof Py.PyDict d) {
                for (Map.Entry<Py, Py> e : d.entries()) {
                    work.add(e.getValue());
                }
            } else if (w instanceof Py.Lit l && l.value() instanceof String s && known.contains(s)) {
                out.add(s);
            }
        }
    }
}
