package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.Py;

import java.util.Map;
import java.util.Set;

/**
 * Writes an expanded layer's task ({@link Py}) as pickle opcodes into a {@link PickleWriter}: tuple
 * tasks, containers, key references, literals, {@code slice}s and functions by module and name, as
 * dask's own layer code would have built them. Two leaves depend on where the pickle goes, so each
 * writer says how it writes them: a function dask imports lazily ({@link Py.LazyFunc}) and an
 * opaque value the client sent ({@link Py.Opaque}).
 */
public abstract class PyPickler {
    /** Deeper than any task dask builds; a guard against a pathological graph. */
    private static final int MAX_DEPTH = 1000;

    protected final PickleWriter w;

    protected PyPickler(PickleWriter w) {
        this.w = w;
    }

    /** Writes {@code v}, leaving its value on the pickle stack. */
    protected final void write(Py v) {
        write(v, 0);
    }

    protected abstract void writeLazyFunction(Py.LazyFunc f);

    protected abstract void writeOpaque(Py.Opaque o);

    private void write(Py v, int depth) {
        if (depth > MAX_DEPTH) {
            throw new LayerException("task nested deeper than " + MAX_DEPTH + " levels");
        }
        if (v instanceof Py.Lit l) {
            if (l.value() instanceof Set<?> s) {
                w.emptySet();
                if (!s.isEmpty()) {
                    w.mark();
                    for (Object o : s) {
                        w.value(o);
                    }
                    w.addItems();
                }
            } else {
                w.value(l.value());
            }
        } else if (v instanceof Py.KeyRef k) {
            w.value(k.key());
        } else if (v instanceof Py.Call c) {
            int n = c.args().size() + 1;
            w.tupleStart(n);
            write(c.func(), depth + 1);
            for (Py a : c.args()) {
                write(a, depth + 1);
            }
            w.tupleEnd(n);
        } else if (v instanceof Py.PyTuple t) {
            w.tupleStart(t.items().size());
            for (Py a : t.items()) {
                write(a, depth + 1);
            }
            w.tupleEnd(t.items().size());
        } else if (v instanceof Py.PyList l) {
            w.emptyList();
            if (!l.items().isEmpty()) {
                w.mark();
                for (Py a : l.items()) {
                    write(a, depth + 1);
                }
                w.appends();
            }
        } else if (v instanceof Py.PyDict d) {
            w.emptyDict();
            if (!d.entries().isEmpty()) {
                w.mark();
                for (Map.Entry<Py, Py> e : d.entries()) {
                    write(e.getKey(), depth + 1);
                    write(e.getValue(), depth + 1);
                }
                w.setItems();
            }
        } else if (v instanceof Py.Slice s) {
            w.global("builtins", "slice");
            w.value(s.start()).value(s.stop()).value(s.step());
            w.tupleEnd(3).reduce();
        } else if (v instanceof Py.Func f) {
            w.global(f.module(), f.name());
        } else if (v instanceof Py.LazyFunc f) {
            writeLazyFunction(f);
        } else if (v instanceof Py.Opaque o) {
            writeOpaque(o);
        } else {
            throw new LayerException("cannot pickle a " + v.getClass().getSimpleName());
        }
    }
}
