package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.pickle.ParsedPickle;
import org.cloudviper.protocol.pickle.PickleException;
import org.cloudviper.protocol.pickle.PickleReader;
import org.cloudviper.protocol.pickle.PickleValue;
import org.cloudviper.protocol.pickle.PickleValues;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the pickled run_spec a distributed >= 2023.10 scheduler sends, symbolically with the
 * protocol's pickle reader (nothing is imported or run), in the form of its line:
 * <ul>
 *   <li>2024.12: a {@code dask._task_spec.Task}. CPython pickles it as {@code NEWOBJ(Task, ())} +
 *       {@code BUILD((None, slots))} with slots {@code func}, {@code args}, {@code kwargs},
 *       {@code key}, ...; an argument is plain data, an {@code Alias} (its {@code target} is the key
 *       of a dependency, as TaskRef arguments become), a {@code DataNode} ({@code REDUCE(DataNode,
 *       (key, value))}), or a nested container Task whose func is {@code NestedContainer.to_container}
 *       and whose kwargs name the container class.</li>
 *   <li>2023.10 to 2024.7: a {@code (function, args, kwargs)} tuple (distributed worker.py
 *       _normalize_task) whose arguments hold the dependencies' keys in place (pack_data), or
 *       {@code (execute_task, (value,), {})} for a legacy task or data, read as 2022's legacy tasks
 *       are ({@link #legacyTask}).</li>
 * </ul>
 * Anything else (a nested call, an object) is refused with a message naming it.
 */
final class TaskSpecs {
    private static final String MODULE = "dask._task_spec";
    private static final int MAX_DEPTH = 1_000;

    private TaskSpecs() {
    }

    /** Where a dependency's value goes: the key an Alias names. */
    record DepRef(Object key) {
    }

    /** What a run spec asks for: a call, or data returned as it is. */
    sealed interface Spec permits TaskCall, Literal {
    }

    /**
     * The function's qualified name and its arguments, where {@link DepRef}s stand for dependencies
     * or, {@code keysInPlace}, the dependencies' keys themselves (distributed's pack_data).
     */
    record TaskCall(String function, List<Object> args, Map<String, Object> kwargs, boolean keysInPlace)
            implements Spec {
    }

    /** Plain data (keys of dependencies in place), the task's result once they are substituted. */
    record Literal(Object value) implements Spec {
    }

    /** Why the task cannot run; its message is a predicate for "cloudviper Java worker ...". */
    static final class SpecException extends Exception {
        SpecException(String message) {
            super(message);
        }
    }

    /**
     * The call a Task pickle ({@code buffers} out-of-band frames follow it) describes, or a
     * {@link SpecException} saying why the Java worker cannot run it.
     */
    static Spec read(byte[] pickle, int buffers) throws SpecException {
        ParsedPickle p;
        try {
            p = new PickleReader().read(pickle, buffers);
        } catch (PickleException e) {
            throw new SpecException("cannot read the task specification: " + e.getMessage());
        }
        PickleValue root = p.root().resolve();
        if (root instanceof PickleValue.Tuple t && t.size() == 3) {
            return callTuple(t);
        }
        Map<String, PickleValue> slots = taskSlots(root);
        if (slots == null) {
            throw new SpecException("cannot run a run_spec that is not a dask._task_spec.Task: " + root.describe());
        }
        PickleValue func = slots.get("func") == null ? null : slots.get("func").resolve();
        if (!(func instanceof PickleValue.Global g)) {
            throw new SpecException("cannot run a Python function pickled by value (defined in __main__, a lambda"
                    + " or a closure): not a registered Java task");
        }
        List<Object> args = asList(slots.get("args"), 0);
        Map<String, Object> kwargs = new LinkedHashMap<>();
        PickleValue kw = slots.get("kwargs") == null ? null : slots.get("kwargs").resolve();
        if (kw instanceof PickleValue.PyDict d) {
            for (int i = 0; i < d.size(); i++) {
                if (!(d.key(i).resolve() instanceof PickleValue.Str s)) {
                    throw new SpecException("cannot read a keyword argument whose name is not a str: " + d.key(i).describe());
                }
                kwargs.put(s.value(), value(d.value(i), 0));
            }
        } else if (kw != null && !(kw instanceof PickleValue.None)) {
            throw new SpecException("cannot read task keyword arguments that are not a dict: " + kw.describe());
        }
        return new TaskCall(PlainData.qualifiedName(g), args, kwargs, false);
    }

    /** {@code (function, args, kwargs)}: distributed 2023.10 to 2024.7's run spec. */
    private static Spec callTuple(PickleValue.Tuple t) throws SpecException {
        PickleValue func = t.get(0).resolve();
        if (!(func instanceof PickleValue.Global g)) {
            throw new SpecException("cannot run a Python function pickled by value (defined in __main__, a lambda"
                    + " or a closure): not a registered Java task");
        }
        try {
            if (g.is("distributed.worker", "execute_task")) {
                PickleValue args = t.get(1).resolve();
                if (!(args instanceof PickleValue.Tuple a) || a.size() != 1) {
                    throw new SpecException("cannot read execute_task arguments " + args.describe());
                }
                return legacyTask(a.get(0));
            }
            Object args = PlainData.of(t.get(1));
            Object kwargs = PlainData.of(t.get(2));
            if (!(args instanceof List<?> a)) {
                throw new SpecException("cannot read task arguments that are not a tuple: " + t.get(1).resolve().describe());
            }
            return new TaskCall(PlainData.qualifiedName(g), new ArrayList<>(a), kwargs(kwargs), true);
        } catch (PickleValues.NotPlainException e) {
            throw new SpecException(e.getMessage());
        } catch (PickleException e) {
            throw new SpecException("cannot read the task's arguments: " + e.getMessage());
        }
    }

    /**
     * A legacy task (2022's run_spec, the value of 2024.1's execute_task): {@code (func, *args)} or
     * {@code (apply, func, args[, kwargs])}, or plain data; a function inside the arguments (a nested
     * task) is refused.
     */
    static Spec legacyTask(PickleValue v) throws SpecException {
        PickleValue task = v.resolve();
        try {
            if (!(task instanceof PickleValue.Tuple t) || t.size() == 0
                    || !(t.get(0).resolve() instanceof PickleValue.Global f)) {
                return new Literal(PlainData.of(task));
            }
            List<PickleValue> rest = t.items().subList(1, t.size());
            if (f.is("dask.utils", "apply")) {
                if (rest.isEmpty() || !(rest.get(0).resolve() instanceof PickleValue.Global g)) {
                    throw new SpecException("cannot run apply() of a function pickled by value");
                }
                List<Object> args = rest.size() > 1 ? list(PlainData.of(rest.get(1))) : List.of();
                Map<String, Object> kwargs = rest.size() > 2 ? kwargs(PlainData.of(rest.get(2))) : Map.of();
                return new TaskCall(PlainData.qualifiedName(g), args, kwargs, true);
            }
            List<Object> args = new ArrayList<>(rest.size());
            for (PickleValue a : rest) {
                args.add(PlainData.of(a));
            }
            return new TaskCall(PlainData.qualifiedName(f), args, Map.of(), true);
        } catch (PickleValues.NotPlainException e) {
            throw new SpecException(e.getMessage());
        } catch (PickleException e) {
            throw new SpecException("cannot read the task's arguments: " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object v) throws SpecException {
        if (v instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new SpecException("cannot read task arguments that are not a tuple: " + v);
    }

    private static Map<String, Object> kwargs(Object v) throws SpecException {
        if (!(v instanceof Map<?, ?> m)) {
            throw new SpecException("cannot read task keyword arguments that are not a dict: " + v);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new SpecException("cannot read a keyword argument whose name is not a str: " + e.getKey());
            }
            r.put(k, e.getValue());
        }
        return r;
    }

    /** The slot dict of a {@code dask._task_spec.Task} object, or null if {@code v} is none. */
    private static Map<String, PickleValue> taskSlots(PickleValue v) {
        return slotsOf(v, "Task");
    }

    private static Map<String, PickleValue> slotsOf(PickleValue v, String cls) {
        // resolve() of the NEWOBJ gives the completed object (its BUILD): look at the bare NEWOBJ.
        if (!(v instanceof PickleValue.Build b) || !(bare(b.obj()) instanceof PickleValue.NewObj o)
                || !(o.cls().resolve() instanceof PickleValue.Global g) || !g.is(MODULE, cls)) {
            return null;
        }
        Map<String, PickleValue> m = new LinkedHashMap<>();
        PickleValue state = b.state().resolve();
        List<PickleValue> dicts = new ArrayList<>();
        if (state instanceof PickleValue.Tuple t && t.size() == 2) {
            dicts.add(t.get(0).resolve());
            dicts.add(t.get(1).resolve());
        } else {
            dicts.add(state);
        }
        for (PickleValue d : dicts) {
            if (d instanceof PickleValue.PyDict pd) {
                for (int i = 0; i < pd.size(); i++) {
                    if (pd.key(i).resolve() instanceof PickleValue.Str s) {
                        m.put(s.value(), pd.value(i));
                    }
                }
            }
        }
        return m;
    }

    /** The value itself, or for a memo reference the value it was bound to before any BUILD. */
    private static PickleValue bare(PickleValue v) {
        return v instanceof PickleValue.Ref r ? r.target() : v;
    }

    private static List<Object> asList(PickleValue v, int depth) throws SpecException {
        PickleValue r = v == null ? null : v.resolve();
        if (r == null || r instanceof PickleValue.None) {
            return new ArrayList<>();
        }
        List<PickleValue> items;
        if (r instanceof PickleValue.Tuple t) {
            items = t.items();
        } else if (r instanceof PickleValue.PyList l) {
            items = l.items();
        } else {
            throw new SpecException("cannot read task arguments that are not a tuple: " + r.describe());
        }
        List<Object> out = new ArrayList<>(items.size());
        for (PickleValue i : items) {
            out.add(value(i, depth + 1));
        }
        return out;
    }

    /** One argument in the Java forms {@link TaskRunner} passes to Java tasks. */
    private static Object value(PickleValue v, int depth) throws SpecException {
        if (depth > MAX_DEPTH) {
            throw new SpecException("cannot read task arguments nested deeper than " + MAX_DEPTH);
        }
        PickleValue r = v.resolve();
        if (r instanceof PickleValue.Tuple || r instanceof PickleValue.PyList) {
            return asList(r, depth);
        }
        if (r instanceof PickleValue.PyDict d) {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (int i = 0; i < d.size(); i++) {
                m.put(plain(d.key(i)), value(d.value(i), depth + 1));
            }
            return m;
        }
        Map<String, PickleValue> alias = slotsOf(r, "Alias");
        if (alias != null) {
            PickleValue target = alias.get("target");
            if (target == null) {
                throw new SpecException("cannot read an Alias without a target");
            }
            return new DepRef(key(target));
        }
        if (r instanceof PickleValue.Reduce red && red.callee().resolve() instanceof PickleValue.Global g
                && g.is(MODULE, "DataNode") && red.args().resolve() instanceof PickleValue.Tuple t && t.size() == 2) {
            return value(t.get(1), depth + 1);
        }
        for (String cls : new String[]{"List", "Tuple", "Dict", "Set", "Task"}) {
            Map<String, PickleValue> task = slotsOf(r, cls);
            if (task != null) {
                return container(task, depth);
            }
        }
        return plain(r);
    }

    /**
     * A List/Tuple/Set/Dict node (a Task subclass calling NestedContainer.to_container(*items,
     * klass=...)); a plain Task here is a nested call, which is refused.
     */
    private static Object container(Map<String, PickleValue> task, int depth) throws SpecException {
        PickleValue func = task.get("func") == null ? null : task.get("func").resolve();
        if (!(func instanceof PickleValue.Global g) || !g.is(MODULE, "NestedContainer.to_container")) {
            throw new SpecException("cannot run nested tasks or function arguments ("
                    + (func == null ? "?" : func.describe()) + ")");
        }
        List<Object> items = asList(task.get("args"), depth);
        PickleValue kw = task.get("kwargs") == null ? null : task.get("kwargs").resolve();
        PickleValue klass = kw instanceof PickleValue.PyDict d ? d.get("klass") : null;
        klass = klass == null ? null : klass.resolve();
        if (klass instanceof PickleValue.Global k && k.is("builtins", "dict")) {
            Map<Object, Object> m = new LinkedHashMap<>();
            for (Object pair : items) {
                if (!(pair instanceof List<?> kv) || kv.size() != 2) {
                    throw new SpecException("cannot read a malformed Dict node item: " + pair);
                }
                m.put(kv.get(0), kv.get(1));
            }
            return m;
        }
        if (klass instanceof PickleValue.Global k && (k.is("builtins", "list") || k.is("builtins", "tuple"))) {
            return items;
        }
        throw new SpecException("cannot pass the container class " + (klass == null ? "?" : klass.describe())
                + " in the task's arguments (lists, tuples and dicts are supported)");
    }

    private static Object plain(PickleValue v) throws SpecException {
        try {
            return PlainData.of(v);
        } catch (PickleValues.NotPlainException e) {
            throw new SpecException(e.getMessage());
        } catch (PickleException e) {
            throw new SpecException("cannot pass a task argument (" + e.getMessage() + "); " + PlainData.SUPPORTED);
        }
    }

    private static Object key(PickleValue v) throws SpecException {
        try {
            return PickleValues.toKey(v);
        } catch (PickleException e) {
            throw new SpecException("cannot read a dependency key: " + e.getMessage());
        }
    }
}
