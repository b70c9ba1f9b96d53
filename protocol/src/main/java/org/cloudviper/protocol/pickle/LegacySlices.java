package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.Py;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Slices for the tasks of an expanded layer whose Dask 2024.12.1 {@code _construct_graph} builds
 * legacy tasks (tree reductions, shuffles, broadcast joins, array overlaps): the task is written as
 * the tuple Dask builds, the layer's own values ({@link Py.Opaque} holding {@link PickleValue}s)
 * copied from the graph pickle, and wrapped as
 * {@code getitem(convert_legacy_graph({key: task}, frozenset(all_keys)), key)} as
 * {@link GraphSlicer} does for legacy tasks, so the worker unpickles exactly the node Python's
 * scheduler converts it to. {@code all_keys} holds the graph keys equal to a plain value anywhere
 * in the task; the dependencies follow {@code convert_legacy_task}'s rules ({@link LegacyTasks}
 * for the copied values).
 *
 * <p>Not thread-safe; one per slicing.
 */
final class LegacySlices extends PyPickler {
    private final SliceEmitter em;
    private final LegacyTasks legacy;

    LegacySlices(SliceEmitter em, LegacyTasks legacy) {
        super(em.w);
        this.em = em;
        this.legacy = legacy;
    }

    /** A 2024.12.1 layer materialized on the scheduler calls the function itself. */
    @Override
    protected void writeLazyFunction(Py.LazyFunc f) {
        w.global(f.module(), f.name());
    }

    /** A value of the graph pickle, copied from it. */
    @Override
    protected void writeOpaque(Py.Opaque o) {
        em.body(value(o));
    }

    TaskSlice slice(Object key, Py task, int layer) {
        LegacyTasks.Keys deps = new LegacyTasks.Keys();
        LegacyTasks.Keys all = new LegacyTasks.Keys();
        List<PickleValue> bodies = new ArrayList<>();
        if (task instanceof Py.Opaque o) {
            LegacyTasks.Converted c = legacy.convert(key, value(o).id());
            for (Object d : c.dependencies()) {
                deps.add(PickleValues.canonicalKey(d));
            }
        } else {
            top(key, task, deps);
        }
        scan(task, all, bodies, 0);
        em.begin();
        em.prefix(bodies.toArray(new PickleValue[0]));
        w.global("operator", "getitem");
        w.global(TaskSpec.TASK_SPEC, "convert_legacy_graph");
        w.emptyDict();
        w.value(key);
        write(task);
        w.setItem();
        List<Object> allKeys = new ArrayList<>(all.list.size());
        for (Object k : all.list) {
            allKeys.add(legacy.graphKey(k));
        }
        w.frozenset(allKeys);
        w.tupleEnd(2).reduce();
        w.value(key);
        w.tupleEnd(2).reduce();
        byte[] bytes = em.finish();
        List<Object> out = new ArrayList<>(deps.list.size());
        for (Object d : deps.list) {
            out.add(legacy.graphKey(d));
        }
        int[] frames = em.buffers();
        for (int i = 0; i < frames.length; i++) {
            frames[i]++;
        }
        return new TaskSlice(key, out, bytes, frames, TaskSlice.Kind.LAYER_TASK, layer);
    }

    private static PickleValue value(Py.Opaque o) {
        if (o.handle() instanceof PickleValue v) {
            return v;
        }
        throw new LayerException("layer value is not from the graph pickle: " + o.handle());
    }

    // ------------------------------------------------------------------------- convert_legacy_task

    /** {@code convert_legacy_task(key, task)} of a layer's value. */
    private void top(Object key, Py task, LegacyTasks.Keys out) {
        node(key, task, out, 0);
    }

    private void node(Object key, Py x, LegacyTasks.Keys out, int depth) {
        if (depth > PickleValues.WALK_DEPTH) {
            throw new LayerException("task of key " + key + " is nested deeper than " + PickleValues.WALK_DEPTH);
        }
        if (x instanceof Py.Call c) {
            for (Py a : c.args()) {
                if (a instanceof Py.PyDict d) {
                    for (Map.Entry<Py, Py> e : d.entries()) {
                        rawNode(key, e.getValue(), out); // Dict(a): only GraphNodes inside count
                    }
                } else if (a instanceof Py.Opaque o) {
                    legacy.argumentDependencies(key, value(o).id(), out);
                } else {
                    node(key, a, out, depth + 1);
                }
            }
            return;
        }
        if (x instanceof Py.Opaque o) {
            legacy.nodeDependencies(key, value(o).id(), out);
            return;
        }
        Object canon = canonical(x, 0);
        if (canon != null && legacy.isKey(canon)) {
            out.add(canon);
            return;
        }
        if (x instanceof Py.KeyRef k && k.key() instanceof List<?> parts) {
            for (Object part : parts) {
                Object c = part instanceof List<?> ? null : PickleValues.canonicalKey(part);
                if (c != null && legacy.isKey(c)) {
                    out.add(c);
                }
            }
        } else if (x instanceof Py.PyTuple t) {
            for (Py i : t.items()) {
                node(key, i, out, depth + 1);
            }
        } else if (x instanceof Py.PyList l) {
            for (Py i : l.items()) {
                node(key, i, out, depth + 1);
            }
        }
    }

    /** A raw object inside {@code Dict(a)}: only GraphNodes and TaskRefs count, and only copied values hold them. */
    private void rawNode(Object key, Py x, LegacyTasks.Keys out) {
        if (x instanceof Py.Opaque o) {
            legacy.rawDependencies(value(o).id(), out);
        }
    }

    /**
     * The canonical key form of a plain hashable value (a key reference, a str, bytes or number, a
     * tuple of those), or null for anything that cannot equal a key.
     */
    private static Object canonical(Py x, int depth) {
        if (x instanceof Py.KeyRef k) {
            return PickleValues.canonicalKey(k.key());
        }
        if (x instanceof Py.Lit l) {
            Object v = l.value();
            if (v instanceof String || v instanceof Long || v instanceof Double || v instanceof Boolean
                    || v instanceof byte[] || v instanceof java.math.BigInteger) {
                return PickleValues.canonicalKey(v);
            }
            return null;
        }
        if (x instanceof Py.PyTuple t && depth < 64) {
            List<Object> parts = new ArrayList<>(t.items().size());
            for (Py i : t.items()) {
                Object c = canonical(i, depth + 1);
                if (c == null) {
                    return null;
                }
                parts.add(c);
            }
            return parts;
        }
        return null;
    }

    /** Graph keys equal to plain values anywhere in {@code x}, and the copied values it holds. */
    private void scan(Py x, LegacyTasks.Keys all, List<PickleValue> bodies, int depth) {
        if (depth > PickleValues.WALK_DEPTH) {
            throw new LayerException("task nested deeper than " + PickleValues.WALK_DEPTH);
        }
        if (x instanceof Py.Opaque o) {
            PickleValue v = value(o);
            bodies.add(v);
            for (Object k : legacy.scan(v.id())) {
                all.add(PickleValues.canonicalKey(k));
            }
            return;
        }
        Object canon = canonical(x, 0);
        if (canon != null && legacy.isKey(canon)) {
            all.add(canon);
        }
        if (x instanceof Py.KeyRef k && k.key() instanceof List<?> parts) {
            for (Object part : parts) {
                Object c = part instanceof List<?> l ? PickleValues.canonicalKey(l) : PickleValues.canonicalKey(part);
                if (legacy.isKey(c)) {
                    all.add(c);
                }
            }
        } else if (x instanceof Py.Call c) {
            scan(c.func(), all, bodies, depth + 1);
            for (Py a : c.args()) {
                scan(a, all, bodies, depth + 1);
            }
        } else if (x instanceof Py.PyTuple t) {
            for (Py i : t.items()) {
                scan(i, all, bodies, depth + 1);
            }
        } else if (x instanceof Py.PyList l) {
            for (Py i : l.items()) {
                scan(i, all, bodies, depth + 1);
            }
        } else if (x instanceof Py.PyDict d) {
            for (Map.Entry<Py, Py> e : d.entries()) {
                scan(e.getKey(), all, bodies, depth + 1);
                scan(e.getValue(), all, bodies, depth + 1);
            }
        }
    }

    // ----------------------------------------------------------------------------------- writing

}
