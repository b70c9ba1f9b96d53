package org.cloudviper.protocol.pickle;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.cloudviper.protocol.pickle.ParsedPickle.*;

/**
 * Legacy graph values (tuple tasks, data, key references; what {@code dask.delayed} and raw dicts
 * still produce in 2024.12.1), read the way {@code dask._task_spec.convert_legacy_task} reads them.
 *
 * <p>Python's scheduler converts them with {@code convert_legacy_graph(dsk)}, whose {@code all_keys}
 * is the whole graph. The slice makes the worker run that very conversion on
 * {@code {key: task}} with a small {@code all_keys}: the graph keys equal to any plain value
 * anywhere inside the task. Conversion only ever asks {@code value in all_keys} for values inside
 * the task, so the answer is the same as with the whole key set and the worker gets exactly the
 * node Python's scheduler would hold.
 *
 * <p>The dependencies are computed here by following convert_legacy_task's rules. Where Python
 * semantics cannot be decided symbolically and the answer would change the dependencies (is an
 * unknown object callable? is a NEWOBJ instance a namedtuple? does a numpy scalar equal a numeric
 * key?) the graph is refused with an {@link UnsupportedGraphException} rather than guessed.
 */
final class LegacyTasks {
    /** Python's recursion limit bounds convert_legacy_task just as much. */
    private static final int MAX_DEPTH = PickleValues.WALK_DEPTH;

    enum Callability { YES, NO, UNKNOWN, SUBGRAPH }

    private final ParsedPickle p;
    /** Canonical key (Python equality) to the key object as the graph holds it. */
    private final Map<Object, Object> keys;
    private final Set<Integer> strKeyLengths = new HashSet<>();
    private final boolean numericKeys;
    private final boolean topNumericKeys;
    private final boolean bytesKeys;
    private final int maxTupleKeyLength;
    /** Keys found inside a memo unit (by value id), computed once: shared functions are in every task. */
    private final Object[][] unitScans;
    private static final Object[] IN_PROGRESS = new Object[0];
    private Object currentKey;
    private int[] work = new int[64];

    LegacyTasks(ParsedPickle p, Map<Object, Object> keys) {
        this.p = p;
        this.keys = keys;
        this.unitScans = new Object[p.count + 1][];
        boolean numeric = false;
        boolean topNumeric = false;
        boolean bytes = false;
        int maxTuple = 0;
        for (Object k : keys.keySet()) {
            if (k instanceof String s) {
                strKeyLengths.add(Utf8.encodedLength(s));
            } else if (k instanceof List<?> l) {
                maxTuple = Math.max(maxTuple, l.size());
                numeric |= containsNumber(l);
            } else if (k instanceof PickleValues.BytesKey) {
                bytes = true;
            } else {
                numeric = true;
                topNumeric = true;
            }
        }
        this.numericKeys = numeric;
        this.topNumericKeys = topNumeric;
        this.bytesKeys = bytes;
        this.maxTupleKeyLength = maxTuple;
    }

    /** Whether some key is, or holds, a number (which a numpy scalar may equal). */
    boolean hasNumericKeys() {
        return numericKeys;
    }

    private static boolean containsNumber(List<?> l) {
        for (Object o : l) {
            if (o instanceof Number || (o instanceof List<?> inner && containsNumber(inner))) {
                return true;
            }
        }
        return false;
    }

    /** Result of reading one legacy value under its key. */
    record Converted(List<Object> dependencies, boolean aliasToItself, List<Object> allKeys) {
    }

    /** A small insertion-ordered set: most tasks have a handful of dependencies. */
    static final class Keys {
        final java.util.ArrayList<Object> list = new java.util.ArrayList<>(4);
        private Set<Object> index;

        void add(Object k) {
            if (index != null) {
                if (index.add(k)) {
                    list.add(k);
                }
                return;
            }
            if (!list.contains(k)) {
                list.add(k);
                if (list.size() > 16) {
                    index = new HashSet<>(list);
                }
            }
        }

        void addAll(Keys other) {
            for (Object k : other.list) {
                add(k);
            }
        }

        boolean sameAs(Keys other) {
            return new HashSet<>(list).equals(new HashSet<>(other.list));
        }
    }

    Converted convert(Object key, int task) {
        currentKey = key;
        Keys deps = new Keys();
        int v = p.resolve(task);
        Object canon = plainCanonical(v, 0);
        boolean self = false;
        if (canon != null && keys.containsKey(canon) && !isCallableTuple(v)) {
            // convert_legacy_task(key, task) -> Alias(key, target=task); convert_legacy_graph then
            // drops an Alias to its own key.
            self = canon.equals(PickleValues.canonicalKey(key));
            deps.add(canon);
        } else {
            TaskSpec.Obj o = TaskSpec.object(p, v);
            int refKey = TaskSpec.taskRefKey(o);
            if (refKey != 0 && TaskSpec.dependencies(o) == 0) {
                Object target = PickleValues.canonicalKey(PickleValues.toKey(p.value(refKey)));
                self = target.equals(PickleValues.canonicalKey(key));
                deps.add(target);
            } else {
                node(v, 0, deps);
            }
        }
        Keys out = new Keys();
        for (Object d : deps.list) {
            out.add(keys.getOrDefault(d, d));
        }
        return new Converted(out.list, self, scan(v));
    }

    /** Whether {@code canonical} (see {@link PickleValues#canonicalKey}) is a key of the graph. */
    boolean isKey(Object canonical) {
        return keys.containsKey(canonical);
    }

    /** The graph's own key object for {@code canonical}, or {@code canonical} for a key outside it. */
    Object graphKey(Object canonical) {
        return keys.getOrDefault(canonical, canonical);
    }

    /**
     * Adds the dependencies of value {@code v} as a positional argument of a task
     * ({@code convert_legacy_task}'s loop over a task's arguments: a dict is wrapped in {@code Dict}
     * unconverted, anything else converted).
     */
    void argumentDependencies(Object key, int v, Keys out) {
        currentKey = key;
        argument(v, 1, out);
    }

    /** Adds the dependencies of value {@code v} held raw by a {@code Dict(...)} (GraphNodes and TaskRefs only). */
    void rawDependencies(int v, Keys out) {
        rawNode(v, out);
    }

    /** Adds the dependencies of value {@code v} inside a task ({@code convert_legacy_task(None, v)}). */
    void nodeDependencies(Object key, int v, Keys out) {
        currentKey = key;
        node(v, 1, out);
    }

    private boolean isCallableTuple(int v) {
        return p.kind(v) == K_TUPLE && p.childCount(v) > 0 && callable(p, p.child(v, 0)) != Callability.NO;
    }

    /** convert_legacy_task(None, v): adds the dependencies of what it returns to {@code out}. */
    private void node(int v, int depth, Keys out) {
        if (depth > MAX_DEPTH) {
            throw new UnsupportedGraphException("legacy task of key " + currentKey + " is nested deeper than "
                    + MAX_DEPTH + " (Python's recursion limit)");
        }
        v = p.resolve(v);
        TaskSpec.Obj o = TaskSpec.object(p, v);
        int graphDeps = TaskSpec.dependencies(o);
        if (graphDeps != 0) {
            keySet(graphDeps, out);
            return;
        }
        if (p.kind(v) == K_TUPLE && p.childCount(v) > 0) {
            Callability c = callable(p, p.child(v, 0));
            if (c == Callability.SUBGRAPH) {
                throw new UnsupportedGraphException("legacy task of key " + currentKey
                        + " calls a dask.optimization.SubgraphCallable, which cloudviper cannot convert without"
                        + " Python; compute with optimize_graph=True or persist first");
            }
            if (c == Callability.YES) {
                for (int i = 1; i < p.childCount(v); i++) {
                    argument(p.child(v, i), depth + 1, out);
                }
                return;
            }
            if (c == Callability.UNKNOWN) {
                Keys asTask = new Keys();
                for (int i = 1; i < p.childCount(v); i++) {
                    argument(p.child(v, i), depth + 1, asTask);
                }
                Keys asData = new Keys();
                data(v, depth, asData);
                bothReadings("legacy task of key " + currentKey, p.value(p.resolve(p.child(v, 0))), asTask, asData, out);
                return;
            }
        }
        data(v, depth, out);
    }

    /**
     * A tuple whose head may or may not be callable: its dependencies read as a task and read as
     * data, added to {@code out} when they agree; refused when they do not, since which one Python
     * takes cannot be known from the pickle.
     */
    static void bothReadings(String task, PickleValue head, Keys asTask, Keys asData, Keys out) {
        if (!asTask.sameAs(asData)) {
            throw new UnsupportedGraphException(task + " starts with " + head.describe() + ", which may or may not"
                    + " be callable, and its dependencies differ between the two readings");
        }
        out.addAll(asTask);
    }

    /** A positional argument of a tuple task: dicts are wrapped in Dict(...) unconverted. */
    private void argument(int a, int depth, Keys out) {
        int r = p.resolve(a);
        if (p.kind(r) == K_DICT) {
            for (int i = 0; i < p.childCount(r); i++) {
                rawNode(p.child(r, i), out);
            }
            return;
        }
        node(r, depth, out);
    }

    /** A raw object handed to Task(...): only GraphNodes and TaskRefs (made Alias) have dependencies. */
    private void rawNode(int v, Keys out) {
        TaskSpec.Obj o = TaskSpec.object(p, v);
        int deps = TaskSpec.dependencies(o);
        if (deps != 0) {
            keySet(deps, out);
            return;
        }
        int ref = TaskSpec.taskRefKey(o);
        if (ref != 0) {
            out.add(PickleValues.canonicalKey(PickleValues.toKey(p.value(ref))));
        }
    }

    /** convert_legacy_task(None, v) past the callable-tuple case. */
    private void data(int v, int depth, Keys out) {
        Object canon = plainCanonical(v, 0);
        if (canon != null && keys.containsKey(canon)) {
            out.add(canon);
            return;
        }
        int k = p.kind(v);
        if (k == K_TUPLE || k == K_LIST || k == K_SET || k == K_FROZENSET) {
            for (int i = 0; i < p.childCount(v); i++) {
                node(p.child(v, i), depth + 1, out);
            }
            return;
        }
        TaskSpec.Obj o = TaskSpec.object(p, v);
        int ref = TaskSpec.taskRefKey(o);
        if (ref != 0) {
            out.add(PickleValues.canonicalKey(PickleValues.toKey(p.value(ref))));
            return;
        }
        if (o != null && isNumpyScalar(o) && numericKeys) {
            throw new UnsupportedGraphException("legacy task of key " + currentKey + " holds a numpy scalar ("
                    + o.className() + ") and the graph has numeric keys: whether Python treats it as a key"
                    + " reference cannot be decided without Python");
        }
        if (o != null && !o.reduced) {
            int args = p.resolve(o.args);
            if (p.kind(args) == K_TUPLE && p.childCount(args) > 0 && !scan(args).isEmpty()) {
                // NEWOBJ(cls, args) is how a namedtuple pickles; convert_legacy_task rebuilds
                // namedtuples with their fields converted, other classes are left alone.
                throw new UnsupportedGraphException("legacy task of key " + currentKey + " holds a " + o.className()
                        + " built from arguments that name graph keys; whether it is a namedtuple (whose fields"
                        + " Dask would treat as key references) cannot be decided without Python");
            }
        }
    }

    private void keySet(int deps, Keys out) {
        if (deps == TaskSpec.NO_DEPENDENCIES) {
            return;
        }
        int d = p.resolve(deps);
        if (p.kind(d) != K_FROZENSET && p.kind(d) != K_SET) {
            throw new PickleException("_dependencies is " + p.value(d).describe() + ", expected a frozenset");
        }
        for (int i = 0; i < p.childCount(d); i++) {
            out.add(PickleValues.canonicalKey(PickleValues.toKey(p, p.child(d, i), 0)));
        }
    }

    static boolean isNumpyScalar(TaskSpec.Obj o) {
        PickleValue.Global g = o.cls();
        return o.reduced && g.name().equals("scalar") && g.module().startsWith("numpy");
    }

    /** Python's {@code callable(v)} where it can be known from the pickle. */
    static Callability callable(ParsedPickle p, int v) {
        v = p.resolve(v);
        int k = p.kind(v);
        if (k == K_GLOBAL || k == K_GLOBAL_TEXT) {
            PickleValue.Global g = (PickleValue.Global) p.value(v);
            if (g.is("builtins", "Ellipsis") || g.is("builtins", "NotImplemented")) {
                return Callability.NO;
            }
            return Callability.YES; // classes and functions are pickled by reference
        }
        TaskSpec.Obj o = TaskSpec.object(p, v);
        if (o != null) {
            PickleValue.Global g = o.cls();
            String module = g.module();
            String name = g.name();
            if (name.equals("SubgraphCallable")) {
                return Callability.SUBGRAPH;
            }
            if (module.startsWith("cloudpickle") && (name.equals("_make_function")
                    || name.equals("_make_skeleton_class") || name.equals("_make_skeleton_enum"))) {
                return Callability.YES;
            }
            if ((module.equals("functools") && name.equals("partial"))
                    || (module.equals("toolz.functoolz") && (name.equals("Compose") || name.equals("curry")
                    || name.equals("_restore_curry")))
                    || ((module.equals("operator") || module.equals("_operator"))
                    && (name.equals("methodcaller") || name.equals("itemgetter") || name.equals("attrgetter")))) {
                return Callability.YES;
            }
            if (module.equals(TaskSpec.TASK_SPEC) && TaskSpec.dependencies(o) != 0) {
                return Callability.YES; // GraphNodes define __call__
            }
            if (isNumpyScalar(o)) {
                return Callability.NO;
            }
            return Callability.UNKNOWN;
        }
        if (k == K_REDUCE || k == K_NEWOBJ || k == K_BUILD) {
            return Callability.UNKNOWN;
        }
        return Callability.NO; // plain data and buffers are not callable
    }

    /**
     * The canonical key form of a plain hashable value (str, bytes, int, float, bool, tuples of
     * those) as {@code value in all_keys} would hash it, or null when it cannot equal any key.
     */
    Object plainCanonical(int v, int depth) {
        v = p.resolve(v);
        int k = p.kind(v);
        switch (k) {
            case K_STR:
                return depth > 0 || strKeyLengths.contains(p.b[v]) ? p.strValue(v) : null;
            case K_INT:
                return depth > 0 || topNumericKeys ? (Object) p.longValue(v) : null;
            case K_BIGINT:
                return depth > 0 || topNumericKeys ? PickleValues.canonicalKey(p.bigs[p.c[v]]) : null;
            case K_BOOL:
                return depth > 0 || topNumericKeys ? (Object) (long) p.a[v] : null;
            case K_FLOAT:
                return depth > 0 || topNumericKeys
                        ? PickleValues.canonicalDouble(Double.longBitsToDouble(p.longValue(v))) : null;
            case K_BYTES:
                return depth > 0 || bytesKeys
                        ? new PickleValues.BytesKey(Arrays.copyOfRange(p.data, p.a[v], p.a[v] + p.b[v])) : null;
            case K_TUPLE: {
                int n = p.childCount(v);
                if (n > maxTupleKeyLength || depth > MAX_DEPTH) {
                    return null;
                }
                Object[] parts = new Object[n];
                for (int i = 0; i < n; i++) {
                    parts[i] = plainCanonical(p.child(v, i), depth + 1);
                    if (parts[i] == null) {
                        return null;
                    }
                }
                return List.of(parts);
            }
            default:
                return null;
        }
    }

    /**
     * Every graph key equal to some plain value anywhere inside value {@code root} (inside objects,
     * dict keys and values, memo references, side effects too). Iterative; each value visited once.
     */
    List<Object> scan(int root) {
        Keys found = new Keys();
        scanInto(root, found, 0);
        return found.list;
    }

    /** Caches per unit, recursing at most 32 units deep (deeper references are walked inline). */
    private void scanInto(int root, Keys found, int nesting) {
        int stamp = p.nextStamp();
        int[] stack = nesting == 0 ? work : new int[16];
        int sp = 0;
        stack[sp++] = root;
        while (sp > 0) {
            int raw = stack[--sp];
            if (p.kind(raw) == K_REF && raw != root && nesting < 32) {
                int u = p.resolve(raw);
                Object[] cached = unitScans[u];
                if (cached == null) {
                    unitScans[u] = IN_PROGRESS;
                    Keys sub = new Keys();
                    scanInto(u, sub, nesting + 1);
                    cached = sub.list.toArray();
                    unitScans[u] = cached;
                    stamp = p.nextStamp(); // the nested scan reused the stamps: start a fresh round
                }
                if (cached != IN_PROGRESS) {
                    for (Object k : cached) {
                        found.add(k);
                    }
                    continue;
                }
            }
            int v = p.resolve(raw);
            if (p.stamp[v] == stamp) {
                continue;
            }
            p.stamp[v] = stamp;
            Object c = plainCanonical(v, 0);
            if (c != null) {
                Object key = keys.get(c);
                if (key != null) {
                    found.add(key);
                }
            }
            int k = p.kind(v);
            int n = 0;
            if (k == K_TUPLE || k == K_LIST || k == K_DICT || k == K_SET || k == K_FROZENSET) {
                n = p.childCount(v);
            } else if (k == K_REDUCE || k == K_BUILD) {
                n = 2;
            } else if (k == K_NEWOBJ) {
                n = p.c[v] == 0 ? 2 : 3;
            }
            int[] effects = p.sideEffects.get(v);
            int need = sp + n + (effects == null ? 0 : effects.length);
            if (need > stack.length) {
                stack = Arrays.copyOf(stack, Math.max(need, stack.length * 2));
                if (nesting == 0) {
                    work = stack;
                }
            }
            if (k == K_TUPLE || k == K_LIST || k == K_DICT || k == K_SET || k == K_FROZENSET) {
                System.arraycopy(p.kids, p.a[v], stack, sp, n);
                sp += n;
            } else if (n > 0) {
                stack[sp++] = p.a[v];
                stack[sp++] = p.b[v];
                if (n == 3) {
                    stack[sp++] = p.c[v];
                }
            }
            if (effects != null) {
                for (int e : effects) {
                    stack[sp++] = e;
                }
            }
        }
    }
}
