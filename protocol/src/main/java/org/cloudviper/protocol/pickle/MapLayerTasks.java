package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.DeferredSubObject;
import org.cloudviper.protocol.SubObject;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The tasks of one {@code distributed.client._MapLayer} (client.map): key i becomes
 * {@code Task(key, func, *args_i, **kwargs)}, built from the spans of func, the i-th element of
 * every iterable and the kwargs dict, exactly as {@code _MapLayer._construct_graph} builds it on
 * Python's scheduler (keyword arguments Dask would move into a DataNode are refused).
 *
 * <p>Each task's pickle is written when it is asked for ({@link MapTask#write()}): a million tasks
 * of a function the client pickled by value then cost the function once instead of its bytes a
 * million times. Written from the parsed graph this layer keeps, or, once {@link #compact()} found
 * every argument standing alone (numbers, strings, plain containers of them: what client.map is
 * mostly given), from the function's part written once and the arguments' bytes, and the parsed
 * graph is let go. Both give the same bytes. Writes from the parsed graph are serialized on the
 * emitter, its one mutable part.
 */
final class MapLayerTasks {
    /**
     * NEWOBJ(Task, ()) + BUILD((None, {slot: value})) is how copyreg pickles a dask 2024.12.1 Task;
     * the slot order is copyreg._slotnames' (func, args, kwargs, _token, _is_coro, _repr, key,
     * _dependencies), as in the Task pickles of the corpus.
     */
    private static final byte[] TASK_HEAD = new PickleWriter().global(TaskSpec.TASK_SPEC, "Task").emptyTuple()
            .newobj().none().emptyDict().mark().str("func").toByteArray();
    private static final byte[] TASK_CACHES = new PickleWriter().str("_token").none().str("_is_coro").none()
            .str("_repr").none().str("key").toByteArray();

    /** The parsed graph and what of it the tasks use; null once compact. */
    private ParsedPickle p;
    private SliceEmitter em;
    private PickleValue func;
    /** Value ids of the iterables (tuples or lists, memo references resolved). */
    private int[] iterables;
    private int keys;
    /** The keyword arguments, or null for none. */
    private PickleValue.PyDict kwargs;
    private final int size;
    private final int nargs;
    /**
     * The compact form, null until {@link #compact()}: the pickle up to the arguments tuple
     * ({@code PROTO}, the function's memo definitions, the Task head, the function, "args"), then
     * task i's argument j as {@code argBytes[argStart[i * nargs + j] .. argStart[i * nargs + j + 1])}.
     */
    private volatile Compact compact;

    private record Compact(byte[] head, byte[] argBytes, int[] argStart) {
    }

    MapLayerTasks(Object name, TaskSpec.Obj o, ParsedPickle p, SliceEmitter em) {
        this.p = p;
        this.em = em;
        func = o.attr("func");
        if (func == null) {
            throw new PickleException("client.map layer " + name + " has no func");
        }
        PickleValue its = o.attr("iterables");
        int itList = its == null ? 0 : sequence(its);
        if (itList == 0) {
            throw new PickleException("client.map layer " + name + " has no iterables list");
        }
        iterables = new int[p.childCount(itList)];
        nargs = iterables.length;
        int n = Integer.MAX_VALUE;
        for (int j = 0; j < iterables.length; j++) {
            PickleValue it = p.value(p.child(itList, j));
            iterables[j] = sequence(it);
            if (iterables[j] == 0) {
                throw new PickleException("client.map layer " + name + ": iterable is " + it.resolve().describe());
            }
            n = Math.min(n, p.childCount(iterables[j]));
        }
        if (iterables.length == 0) {
            n = 0; // zip(*[]) is empty
        }
        PickleValue cached = o.attr("_cached_keys");
        if (cached == null) {
            PickleValue k = o.attr("key");
            if (k != null && sequence(k) != 0) {
                cached = k;
            }
        }
        if (cached == null || sequence(cached) == 0) {
            throw new UnsupportedGraphException("client.map layer " + name + " carries no computed keys"
                    + " (_cached_keys); cloudviper cannot compute Dask tokens without Python");
        }
        keys = sequence(cached);
        size = Math.min(n, p.childCount(keys));
        PickleValue kw = o.attr("kwargs");
        if (kw == null || kw.resolve() instanceof PickleValue.None) {
            kwargs = null;
        } else if (kw.resolve() instanceof PickleValue.PyDict d) {
            kwargs = d.size() == 0 ? null : d;
        } else {
            throw new PickleException("client.map layer " + name + ": kwargs is " + kw.resolve().describe());
        }
        if (kwargs != null) {
            for (int i = 0; i < kwargs.size(); i++) {
                long ub = Sizeof.upperBound(kwargs.value(i));
                if (ub > Sizeof.DATANODE_THRESHOLD) {
                    throw new UnsupportedGraphException("client.map keyword argument "
                            + kwargs.key(i).resolve().describe() + " (" + kwargs.value(i).resolve().describe()
                            + ") may be larger than 100 kB, which Dask turns into a separate DataNode task"
                            + " on its scheduler; cloudviper cannot do that without Python: scatter the"
                            + " value first (client.scatter) and pass the Future, or bind it with"
                            + " functools.partial");
                }
            }
        }
    }

    int size() {
        return size;
    }

    /**
     * Where the distinct keys of {@code keys} (in the {@link PickleValues#canonicalKey} sense) are,
     * as a dict built from them in order holds them: {first, last} positions of each distinct key, in
     * the order of first positions (dict.update keeps a key's first position and its last value).
     */
    static int[][] dictPositions(List<Object> keys) {
        int n = keys.size();
        int[] table = new int[Integer.highestOneBit(Math.max(4, n) * 2 - 1) << 1];
        int mask = table.length - 1;
        int[] first = new int[n];
        int[] last = new int[n];
        int unique = 0;
        for (int i = 0; i < n; i++) {
            Object k = PickleValues.canonicalKey(keys.get(i));
            int h = Objects.hashCode(k);
            int slot = (h ^ (h >>> 16)) & mask;
            while (true) {
                int u = table[slot];
                if (u == 0) {
                    table[slot] = ++unique;
                    first[unique - 1] = i;
                    last[unique - 1] = i;
                    break;
                }
                if (Objects.equals(PickleValues.canonicalKey(keys.get(first[u - 1])), k)) {
                    last[u - 1] = i;
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
        return unique == n ? new int[][]{first, last}
                : new int[][]{Arrays.copyOf(first, unique), Arrays.copyOf(last, unique)};
    }

    Object key(int i) {
        return PickleValues.toKey(p, p.child(keys, i), 0);
    }

    int argumentCount() {
        return nargs;
    }

    /** The j-th positional argument of task i. */
    PickleValue argument(int j, int i) {
        return p.value(p.child(iterables[j], i));
    }

    /** The keyword arguments of every task, or null for none. */
    PickleValue.PyDict kwargs() {
        return kwargs;
    }

    /** Task i's pickle, written when asked for; {@code dependencies} are its {@code _dependencies}. */
    TaskPickle task(int i, Object key, List<Object> dependencies) {
        return new MapTask(this, i, key, dependencies);
    }

    /**
     * Keeps the compact form and lets the parsed graph go, if every argument of every task stands
     * alone and there are no keyword arguments; call once all tasks are sliced, and only if none of
     * them has dependencies.
     */
    void compact() {
        if (kwargs != null || compact != null) {
            return;
        }
        synchronized (em) {
            PickleWriter w = em.w;
            em.begin();
            em.prefix(func);
            w.raw(TASK_HEAD);
            em.body(func);
            w.str("args");
            byte[] head = w.toByteArray();
            int[] argStart = new int[size * nargs + 1];
            byte[] argBytes = new byte[Math.max(16, size * nargs * 4)];
            int len = 0;
            for (int i = 0; i < size; i++) {
                for (int j = 0; j < nargs; j++) {
                    PickleValue a = argument(j, i);
                    if (!em.standsAlone(a)) {
                        return;
                    }
                    em.begin();
                    em.body(a);
                    int n = w.size() - 2; // after PROTO 5
                    if (len + n > argBytes.length) {
                        argBytes = Arrays.copyOf(argBytes, Math.max(len + n, argBytes.length * 2));
                    }
                    w.copyTo(2, argBytes, len, n);
                    len += n;
                    argStart[i * nargs + j + 1] = len;
                }
            }
            compact = new Compact(head, Arrays.copyOf(argBytes, len), argStart);
            p = null;
            em = null;
            func = null;
            iterables = null;
        }
    }

    private static final int[] NO_BUFFERS = new int[0];

    private TaskPickle.Written write(int i, Object key, List<Object> dependencies) {
        Compact c = compact;
        if (c != null) {
            int from = c.argStart[i * nargs];
            int to = c.argStart[(i + 1) * nargs];
            PickleWriter w = new PickleWriter(c.head.length + (to - from) + 128);
            w.raw(c.head);
            w.tupleStart(nargs);
            w.raw(c.argBytes, from, to - from);
            w.tupleEnd(nargs);
            tail(w, key, dependencies);
            w.stop();
            return new TaskPickle.Written(w.toByteArray(), NO_BUFFERS);
        }
        PickleValue[] bodies = new PickleValue[1 + nargs + (kwargs == null ? 0 : 1)];
        bodies[0] = func;
        for (int j = 0; j < nargs; j++) {
            bodies[1 + j] = argument(j, i);
        }
        if (kwargs != null) {
            bodies[bodies.length - 1] = kwargs;
        }
        synchronized (em) {
            PickleWriter w = em.w;
            em.begin();
            em.prefix(bodies);
            w.raw(TASK_HEAD);
            em.body(func);
            w.str("args");
            w.tupleStart(nargs);
            for (int j = 0; j < nargs; j++) {
                em.body(bodies[1 + j]);
            }
            w.tupleEnd(nargs);
            if (kwargs == null) {
                tail(w, key, dependencies);
            } else {
                w.str("kwargs");
                em.body(kwargs);
                tailAfterKwargs(w, key, dependencies);
            }
            byte[] bytes = em.finish();
            int[] buffers = em.buffers();
            for (int k = 0; k < buffers.length; k++) {
                buffers[k]++; // graph_frames[0] is the graph itself
            }
            return new TaskPickle.Written(bytes, buffers);
        }
    }

    /** Whether {@code t} is a task of a layer kept in the compact form (for tests). */
    static boolean compact(TaskPickle t) {
        return t instanceof MapTask m && m.layer.compact != null;
    }

    /** From "kwargs" (none) to the end of the Task's BUILD. */
    private static void tail(PickleWriter w, Object key, List<Object> dependencies) {
        w.str("kwargs");
        w.emptyDict();
        tailAfterKwargs(w, key, dependencies);
    }

    private static void tailAfterKwargs(PickleWriter w, Object key, List<Object> dependencies) {
        w.raw(TASK_CACHES);
        w.value(key);
        w.str("_dependencies").frozenset(dependencies);
        w.setItems();
        w.tupleEnd(2).build();
    }

    /** The value id of a tuple or list (after memo references), or 0. */
    private int sequence(PickleValue v) {
        PickleValue r = v.resolve();
        return r instanceof PickleValue.PyList || r instanceof PickleValue.Tuple ? r.id : 0;
    }

    /** The graph's way from a task's pickle to its run-spec sub-object, set by the first task asked. */
    private volatile Function<TaskPickle.Written, SubObject> asSubObject;

    /**
     * One task of the layer: a few words in place of its pickle, and its own deferred sub-object
     * (a million tasks, a million objects fewer).
     */
    private record MapTask(MapLayerTasks layer, int index, Object key, List<Object> dependencies)
            implements TaskPickle, DeferredSubObject {
        @Override
        public Written write() {
            return layer.write(index, key, dependencies);
        }

        @Override
        public DeferredSubObject deferredSubObject(Function<Written, SubObject> asSubObject) {
            Function<Written, SubObject> set = layer.asSubObject;
            if (set == null) {
                layer.asSubObject = asSubObject;
            } else if (set != asSubObject) {
                return TaskPickle.super.deferredSubObject(asSubObject);
            }
            return this;
        }

        @Override
        public SubObject materialize() {
            return layer.asSubObject.apply(write());
        }
    }
}
