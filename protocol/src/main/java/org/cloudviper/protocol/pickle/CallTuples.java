package org.cloudviper.protocol.pickle;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.cloudviper.protocol.pickle.ParsedPickle.*;

/**
 * The tasks of a graph from a client of distributed 2023.10 to 2024.7, made into what that line's
 * Python scheduler sends its workers, read the way it reads them (distributed 2024.1.1
 * scheduler.py {@code _materialize_graph}, worker.py {@code _normalize_task}):
 * <ul>
 *   <li>dependencies: the graph keys {@code dask.core.keys_in_tasks} finds in the value (a task's
 *       arguments, list items and dict values, recursively; anything else is a key only as a whole),
 *       plus the key of every Future {@code unpack_remotedata} finds (inside tuples, lists, sets and
 *       dict values), less the task's own key;</li>
 *   <li>the run spec: a pickled {@code (function, args, kwargs)}: {@code (task[1], task[2], task[3]
 *       or {})} for {@code (apply, func, args[, kwargs])}, {@code (task[0], task[1:], {})} for a
 *       call whose arguments hold no nested task, else {@code (execute_task, (value,), {})}, with
 *       every Future written as its key (the worker then puts the dependencies' values where their
 *       keys stand, pack_data);</li>
 *   <li>a task whose value is its own key object (a persisted collection's Future of itself) is
 *       dropped.</li>
 * </ul>
 * Where Python semantics cannot be decided from the pickle and the answer would change what the
 * worker gets (is an object callable, when its dependencies differ between the two readings? is
 * an object holding a Future a namedtuple, whose Future Python would unpack?) the graph is refused
 * with an {@link UnsupportedGraphException}; where both readings run the same at the worker, the
 * {@code execute_task} form is chosen, which decides at run time exactly as Python would.
 */
final class CallTuples {
    private static final int MAX_DEPTH = PickleValues.WALK_DEPTH;
    private static final String CLIENT = "distributed.client";

    private final ParsedPickle p;
    /** Canonical key (Python equality) to the key object as the graph holds it. */
    private final Map<Object, Object> keys;
    private final LegacyTasks keyReader;
    private final SliceEmitter em;
    private final PickleWriter w;
    /** Future (a REDUCE value id) to the value id of its key. */
    private final Map<Integer, Integer> futures;
    private Object currentKey;

    CallTuples(ParsedPickle p, Map<Object, Object> keys, SliceEmitter em) {
        this.p = p;
        this.keys = keys;
        this.keyReader = new LegacyTasks(p, keys);
        this.em = em;
        this.w = em.w;
        this.futures = findFutures(p);
        if (!futures.isEmpty()) {
            int[] calls = new int[futures.size()];
            int[] keyIds = new int[futures.size()];
            int i = 0;
            for (Map.Entry<Integer, Integer> f : futures.entrySet()) {
                calls[i] = f.getKey();
                keyIds[i++] = f.getValue();
            }
            em.replaceWithKey(calls, keyIds);
        }
    }

    /**
     * Every {@code distributed.client.Future} of the pickle: {@code REDUCE(Future, (key,))} up to
     * 2024.2, {@code REDUCE(Future.make_future, (key, id))} from 2024.3 (client.py Future.__reduce__).
     */
    private static Map<Integer, Integer> findFutures(ParsedPickle p) {
        Map<Integer, Integer> out = new HashMap<>();
        for (int id = 1; id <= p.count; id++) {
            if (p.kind(id) != K_REDUCE) {
                continue;
            }
            int callee = p.resolve(p.a[id]);
            int k = p.kind(callee);
            if (k != K_GLOBAL && k != K_GLOBAL_TEXT) {
                continue;
            }
            PickleValue.Global g = (PickleValue.Global) p.value(callee);
            if (!g.is(CLIENT, "Future") && !g.is(CLIENT, "Future.make_future")) {
                continue;
            }
            int args = p.resolve(p.b[id]);
            if (p.kind(args) != K_TUPLE || p.childCount(args) < 1) {
                throw new PickleException("graph pickle: a Future without a key (" + p.value(args).describe() + ")");
            }
            out.put(id, p.child(args, 0));
        }
        return out;
    }

    /**
     * The slice of graph key {@code key} (whose pickled key is value {@code keyId}) with value
     * {@code value}, from layer {@code layer}; null when the task is dropped.
     */
    TaskSlice slice(Object key, int keyId, int value, int layer) {
        currentKey = key;
        int v = p.resolve(value);
        List<Integer> found = new ArrayList<>(0);
        unpack(v, 0, found);
        int self = p.resolve(keyId);
        if (v == self || futures.containsKey(v) && p.resolve(futures.get(v)) == self) {
            return null; // _materialize_graph: "Remove aliases", dsk[k] is k once futures are unpacked
        }
        LegacyTasks.Keys deps = new LegacyTasks.Keys();
        keysInTasks(v, 0, deps);
        for (int f : found) {
            deps.add(PickleValues.canonicalKey(PickleValues.toKey(p, futures.get(f), 0)));
        }
        Object selfKey = PickleValues.canonicalKey(key);
        List<Object> dependencies = new ArrayList<>(deps.list.size());
        for (Object d : deps.list) {
            if (!d.equals(selfKey)) {
                dependencies.add(keys.getOrDefault(d, d));
            }
        }
        em.begin();
        emit(v);
        byte[] bytes = em.finish();
        int[] buffers = em.buffers();
        for (int i = 0; i < buffers.length; i++) {
            buffers[i]++;
        }
        return new TaskSlice(key, dependencies, bytes, buffers, TaskSlice.Kind.CALL_TUPLE, layer);
    }

    /** distributed.worker._normalize_task, written as pickle opcodes. */
    private void emit(int v) {
        if (p.kind(v) == K_TUPLE && p.childCount(v) > 0 && !futures.containsKey(v)) {
            int n = p.childCount(v);
            int head = p.child(v, 0);
            LegacyTasks.Callability c = LegacyTasks.callable(p, head);
            if (c == LegacyTasks.Callability.YES || c == LegacyTasks.Callability.SUBGRAPH) {
                if (isApply(head)) {
                    if (n < 3) {
                        throw new UnsupportedGraphException("task " + currentKey + " calls dask.utils.apply without"
                                + " its arguments, on which distributed's scheduler fails too");
                    }
                    if (!anyComplex(v, 2, n)) {
                        PickleValue[] bodies = n == 4 ? values(v, 1, 4) : values(v, 1, 3);
                        em.prefix(bodies);
                        em.body(bodies[0]);
                        em.body(bodies[1]);
                        if (n == 4) {
                            em.body(bodies[2]);
                        } else {
                            w.emptyDict();
                        }
                        w.tupleEnd(3);
                        return;
                    }
                } else if (!anyComplex(v, 1, n)) {
                    PickleValue[] bodies = values(v, 0, n);
                    em.prefix(bodies);
                    em.body(bodies[0]);
                    w.tupleStart(n - 1);
                    for (int i = 1; i < n; i++) {
                        em.body(bodies[i]);
                    }
                    w.tupleEnd(n - 1);
                    w.emptyDict();
                    w.tupleEnd(3);
                    return;
                }
            }
        }
        PickleValue whole = p.value(v);
        em.prefix(whole);
        w.global("distributed.worker", "execute_task");
        em.body(whole);
        w.tupleEnd(1);
        w.emptyDict();
        w.tupleEnd(3);
    }

    private PickleValue[] values(int tuple, int from, int to) {
        PickleValue[] out = new PickleValue[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = p.value(p.child(tuple, i));
        }
        return out;
    }

    private boolean isApply(int head) {
        int g = p.resolve(head);
        int k = p.kind(g);
        return (k == K_GLOBAL || k == K_GLOBAL_TEXT) && ((PickleValue.Global) p.value(g)).is("dask.utils", "apply");
    }

    private boolean anyComplex(int tuple, int from, int to) {
        for (int i = from; i < to; i++) {
            if (maybeComplex(p.child(tuple, i), 0)) {
                return true;
            }
        }
        return false;
    }

    /**
     * distributed.utils._maybe_complex: a task, or a list or dict holding one. A tuple whose head
     * may or may not be callable counts as one: execute_task then decides at run time.
     */
    private boolean maybeComplex(int x, int depth) {
        depth(depth);
        int r = p.resolve(x);
        if (futures.containsKey(r)) {
            return false;
        }
        int k = p.kind(r);
        if (k == K_TUPLE) {
            return p.childCount(r) > 0 && LegacyTasks.callable(p, p.child(r, 0)) != LegacyTasks.Callability.NO;
        }
        if (k == K_LIST) {
            for (int i = 0; i < p.childCount(r); i++) {
                if (maybeComplex(p.child(r, i), depth + 1)) {
                    return true;
                }
            }
        } else if (k == K_DICT) {
            for (int i = 1; i < p.childCount(r); i += 2) {
                if (maybeComplex(p.child(r, i), depth + 1)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** dask.core.keys_in_tasks over one value: the graph keys it refers to, canonical. */
    private void keysInTasks(int x, int depth, LegacyTasks.Keys out) {
        depth(depth);
        int r = p.resolve(x);
        int k = p.kind(r);
        if (k == K_TUPLE && p.childCount(r) > 0) {
            LegacyTasks.Callability c = LegacyTasks.callable(p, p.child(r, 0));
            if (c == LegacyTasks.Callability.YES || c == LegacyTasks.Callability.SUBGRAPH) {
                for (int i = 1; i < p.childCount(r); i++) {
                    keysInTasks(p.child(r, i), depth + 1, out);
                }
                return;
            }
            if (c == LegacyTasks.Callability.UNKNOWN) {
                LegacyTasks.Keys asTask = new LegacyTasks.Keys();
                for (int i = 1; i < p.childCount(r); i++) {
                    keysInTasks(p.child(r, i), depth + 1, asTask);
                }
                LegacyTasks.Keys asData = new LegacyTasks.Keys();
                asKey(r, asData);
                LegacyTasks.bothReadings("task " + currentKey, p.value(p.resolve(p.child(r, 0))), asTask, asData, out);
                return;
            }
        } else if (k == K_LIST) {
            for (int i = 0; i < p.childCount(r); i++) {
                keysInTasks(p.child(r, i), depth + 1, out);
            }
            return;
        } else if (k == K_DICT) {
            for (int i = 1; i < p.childCount(r); i += 2) {
                keysInTasks(p.child(r, i), depth + 1, out);
            }
            return;
        }
        asKey(r, out);
    }

    /** {@code value in keys}, for a value keys_in_tasks does not look into. */
    private void asKey(int r, LegacyTasks.Keys out) {
        Object canon = keyReader.plainCanonical(r, 0);
        if (canon != null && keys.containsKey(canon)) {
            out.add(canon);
            return;
        }
        TaskSpec.Obj o = TaskSpec.object(p, r);
        if (o != null && LegacyTasks.isNumpyScalar(o) && keyReader.hasNumericKeys()) {
            throw new UnsupportedGraphException("task " + currentKey + " holds a numpy scalar (" + o.className()
                    + ") and the graph has numeric keys: whether Python treats it as a key reference cannot be"
                    + " decided without Python");
        }
    }

    /** distributed.utils_comm._unpack_remotedata_inner: the Futures it would replace by their keys. */
    private void unpack(int x, int depth, List<Integer> found) {
        depth(depth);
        int r = p.resolve(x);
        if (futures.containsKey(r)) {
            found.add(r);
            return;
        }
        int k = p.kind(r);
        switch (k) {
            case K_TUPLE -> {
                int from = 0;
                if (p.childCount(r) > 0
                        && LegacyTasks.callable(p, p.child(r, 0)) == LegacyTasks.Callability.SUBGRAPH) {
                    refuseIfHolds(p.child(r, 0), "a dask.optimization.SubgraphCallable, whose inner graph"
                            + " Python rebuilds with the Future's key as an extra input");
                    from = 1;
                }
                for (int i = from; i < p.childCount(r); i++) {
                    unpack(p.child(r, i), depth + 1, found);
                }
            }
            case K_LIST, K_SET, K_FROZENSET -> {
                for (int i = 0; i < p.childCount(r); i++) {
                    unpack(p.child(r, i), depth + 1, found);
                }
            }
            case K_DICT -> {
                for (int i = 0; i < p.childCount(r); i += 2) {
                    refuseIfHolds(p.child(r, i), "a dict key");
                    unpack(p.child(r, i + 1), depth + 1, found);
                }
            }
            case K_NEWOBJ, K_BUILD -> refuseIfHolds(r, "a " + describe(r) + " object (a namedtuple's Future"
                    + " Python would unpack, any other object's not; which one this is cannot be told without"
                    + " Python)");
            case K_REDUCE -> refuseIfHolds(r, "a " + describe(r) + " object, where Python would leave it a"
                    + " Future bound to the worker's own client");
            default -> {
                // scalars, globals and buffers hold no Future
            }
        }
    }

    private String describe(int r) {
        PickleValue.Global g = PickleValues.madeBy(p.value(r));
        return g == null ? p.value(r).describe() : g.describe();
    }

    private void refuseIfHolds(int x, String where) {
        if (!futures.isEmpty() && holdsFuture(x)) {
            throw new UnsupportedGraphException("task " + currentKey + " holds a distributed Future inside " + where
                    + "; pass Futures as arguments, or in lists, tuples, sets or dict values");
        }
    }

    /** Whether value {@code x} holds a Future anywhere, its objects' arguments and states included. */
    private boolean holdsFuture(int x) {
        int stamp = p.nextStamp();
        int[] stack = new int[16];
        int sp = 0;
        stack[sp++] = x;
        while (sp > 0) {
            int v = p.resolve(stack[--sp]);
            if (p.stamp[v] == stamp) {
                continue;
            }
            p.stamp[v] = stamp;
            if (futures.containsKey(v)) {
                return true;
            }
            int k = p.kind(v);
            int[] kids;
            if (k == K_TUPLE || k == K_LIST || k == K_DICT || k == K_SET || k == K_FROZENSET) {
                kids = new int[p.childCount(v)];
                for (int i = 0; i < kids.length; i++) {
                    kids[i] = p.child(v, i);
                }
            } else if (k == K_REDUCE || k == K_BUILD) {
                kids = new int[]{p.a[v], p.b[v]};
            } else if (k == K_NEWOBJ) {
                kids = p.c[v] == 0 ? new int[]{p.a[v], p.b[v]} : new int[]{p.a[v], p.b[v], p.c[v]};
            } else {
                kids = new int[0];
            }
            int[] effects = p.sideEffects.get(v);
            int need = sp + kids.length + (effects == null ? 0 : effects.length);
            if (need > stack.length) {
                stack = java.util.Arrays.copyOf(stack, Math.max(need, stack.length * 2));
            }
            for (int kid : kids) {
                stack[sp++] = kid;
            }
            if (effects != null) {
                for (int e : effects) {
                    stack[sp++] = e;
                }
            }
        }
        return false;
    }

    private void depth(int depth) {
        if (depth > MAX_DEPTH) {
            throw new UnsupportedGraphException("task " + currentKey + " is nested deeper than " + MAX_DEPTH
                    + " (Python's recursion limit)");
        }
    }
}
