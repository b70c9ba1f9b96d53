package org.cloudviper.scheduler.server.graph;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.Py;
import org.cloudviper.protocol.pickle.PickleWriter;
import org.cloudviper.protocol.pickle.PyPickler;
import org.cloudviper.protocol.message.RunSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the run specs a 2022.12.1 Python scheduler gives the tasks it unpacks, from their legacy
 * form (keys already stringified): {@code distributed.worker.dumps_task} ({@code function} and
 * {@code args}/{@code kwargs} pickles for a flat call, else the whole task) and {@code to_serialize}
 * (a {@code Serialized} run_spec). Functions by reference are written as CPython pickles them;
 * values the client serialized ({@link Py.Opaque} holding a {@link SubObject}) travel with their
 * own header and frames inside a collection header, as {@code distributed.protocol.serialize}
 * nests them ({@code is-collection}), so the worker deserializes each with its own serializer.
 *
 * <p>Every sub-object a spec holds is one reference owned by that spec. Not thread-safe.
 */
final class SpecWriter extends PyPickler {
    private static final Py.Func APPLY = Py.APPLY;
    /** dumps_function's cache: the same function object gives the same bytes (interned by the state). */
    private final Map<Py, byte[]> functions = new HashMap<>();

    SpecWriter() {
        super(new PickleWriter(256));
    }

    /** {@code dumps_task(task)}. */
    RunSpec dumpsTask(Py task) {
        List<Py> items = taskItems(task);
        if (items != null && !containsOpaque(task)) {
            Py func = items.get(0);
            if (func.equals(APPLY) && items.size() >= 3 && items.size() <= 4 && !anyComplex(items, 2)) {
                byte[] kwargs = items.size() == 4 ? pickle(items.get(3)) : null;
                return new RunSpec(function(items.get(1)), pickle(items.get(2)), kwargs, null);
            }
            if (!anyComplex(items, 1)) {
                return new RunSpec(function(func), pickle(Py.tuple(items.subList(1, items.size()))), null, null);
            }
        }
        return new RunSpec(null, null, null, toSerialize(task));
    }

    /** {@code {"function": function, "args": to_serialize(args)}}, as Blockwise unpacks a plain function. */
    RunSpec functionArgs(byte[] function, List<Py> args) {
        Py list = Py.list(args);
        Object a = containsOpaque(list) ? toSerialize(list) : pickle(list);
        return new RunSpec(function, a, null, null);
    }

    /** {@code to_serialize(value)} as a run spec. */
    RunSpec serializedRunSpec(Py value) {
        return new RunSpec(null, null, null, toSerialize(value));
    }

    /**
     * {@code to_serialize(value)}: a client's Serialized value as it is, a container holding some
     * as a collection of the items' serializations, anything else one pickle.
     */
    SubObject toSerialize(Py value) {
        if (value instanceof Py.Opaque o) {
            return (SubObject) opaque(o).retain();
        }
        Serialized s = serialize(value);
        Map<String, Object> header = new LinkedHashMap<>(s.header);
        header.put("num-sub-frames", (long) s.frames.size());
        return new SubObject(SubObject.Kind.SERIALIZED, Unpooled.wrappedBuffer(MessageCodec.pack(header)), s.frames);
    }

    /** A header and frames (each frame one reference owned here). */
    private record Serialized(Map<String, Object> header, List<ByteBuf> frames) {
    }

    private Serialized serialize(Py v) {
        if (v instanceof Py.Opaque o) {
            SubObject s = opaque(o);
            Object h = MessageCodec.decodeValue(s.header());
            if (!(h instanceof Map<?, ?> m)) {
                throw new LayerException("a Serialized value's header is not a map");
            }
            Map<String, Object> header = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                header.put(String.valueOf(e.getKey()), e.getValue());
            }
            List<ByteBuf> frames = new ArrayList<>(s.frames().size());
            for (ByteBuf f : s.frames()) {
                frames.add(f.retainedDuplicate());
            }
            return new Serialized(header, frames);
        }
        List<Py> items = null;
        String type = null;
        List<Map.Entry<Py, Py>> entries = null;
        if (containsOpaque(v)) {
            if (v instanceof Py.Call c) {
                items = new ArrayList<>(c.args().size() + 1);
                items.add(c.func());
                items.addAll(c.args());
                type = "tuple";
            } else if (v instanceof Py.PyTuple t) {
                items = t.items();
                type = "tuple";
            } else if (v instanceof Py.PyList l) {
                items = l.items();
                type = "list";
            } else if (v instanceof Py.PyDict d) {
                entries = d.entries();
                type = "dict";
            }
        }
        if (type == null) {
            Map<String, Object> header = new LinkedHashMap<>();
            header.put("serializer", "pickle");
            header.put("writeable", List.of());
            return new Serialized(header, List.of(Unpooled.wrappedBuffer(pickle(v))));
        }
        List<Object> subHeaders = new ArrayList<>();
        List<Object> lengths = new ArrayList<>();
        List<Object> compression = new ArrayList<>();
        List<ByteBuf> frames = new ArrayList<>();
        boolean compressed = false;
        int n = items != null ? items.size() : entries.size();
        try {
            for (int i = 0; i < n; i++) {
                Serialized s = serialize(items != null ? items.get(i) : entries.get(i).getValue());
                frames.addAll(s.frames);
                Map<String, Object> h = new LinkedHashMap<>(s.header);
                if (entries != null) {
                    if (!(entries.get(i).getKey() instanceof Py.Lit k)) {
                        throw new LayerException("a dict holding Serialized values has a key that is no plain value");
                    }
                    h.put("key", k.value());
                }
                subHeaders.add(h);
                lengths.add((long) s.frames.size());
                Object c = h.get("compression");
                if (c instanceof List<?> cl && cl.size() == s.frames.size()) {
                    for (Object x : cl) {
                        compression.add(x);
                        compressed |= x != null;
                    }
                } else {
                    compression.addAll(Arrays.asList(new Object[s.frames.size()]));
                }
            }
        } catch (RuntimeException e) {
            frames.forEach(ByteBuf::release);
            throw e;
        }
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("sub-headers", subHeaders);
        header.put("is-collection", true);
        header.put("frame-lengths", lengths);
        header.put("type-serialized", type);
        if (compressed) {
            header.put("compression", compression);
        }
        return new Serialized(header, frames);
    }

    private static SubObject opaque(Py.Opaque o) {
        if (o.handle() instanceof SubObject s) {
            return s;
        }
        throw new LayerException("opaque value is a " + o.handle().getClass().getSimpleName() + ", not Serialized");
    }

    /** {@code dumps_function(f)}. */
    private byte[] function(Py f) {
        byte[] b = functions.get(f);
        if (b == null) {
            b = pickle(f);
            functions.put(f, b);
        }
        return b;
    }

    /** A protocol-5 pickle of {@code v}, which holds no Serialized value. */
    byte[] pickle(Py v) {
        w.reset();
        w.proto();
        write(v);
        w.stop();
        return w.toByteArray();
    }

    /** {@code CallableLazyImport(path)}: copyreg's reduction of a plain instance, NEWOBJ + BUILD(__dict__). */
    @Override
    protected void writeLazyFunction(Py.LazyFunc f) {
        w.global("dask.layers", "CallableLazyImport").emptyTuple().newobj();
        w.emptyDict().str("function_path").str(f.path()).setItem().build();
    }

    @Override
    protected void writeOpaque(Py.Opaque o) {
        throw new LayerException("a Serialized value cannot be pickled into a task");
    }

    /** {@code istask}: the items of a task tuple whose first item is callable, else null. */
    private static List<Py> taskItems(Py v) {
        if (v instanceof Py.Call c && !(c.func() instanceof Py.Opaque)) {
            List<Py> items = new ArrayList<>(c.args().size() + 1);
            items.add(c.func());
            items.addAll(c.args());
            return items;
        }
        if (v instanceof Py.PyTuple t && !t.items().isEmpty()
                && (t.items().get(0) instanceof Py.Func || t.items().get(0) instanceof Py.LazyFunc)) {
            return t.items();
        }
        return null;
    }

    /** {@code any(map(_maybe_complex, items[from:]))}. */
    private static boolean anyComplex(List<Py> items, int from) {
        for (int i = from; i < items.size(); i++) {
            if (maybeComplex(items.get(i))) {
                return true;
            }
        }
        return false;
    }

    /** {@code _maybe_complex}: a task, or a list or dict that holds one (tuples are not searched). */
    private static boolean maybeComplex(Py v) {
        if (taskItems(v) != null) {
            return true;
        }
        if (v instanceof Py.PyList l) {
            for (Py x : l.items()) {
                if (maybeComplex(x)) {
                    return true;
                }
            }
        } else if (v instanceof Py.PyDict d) {
            for (Map.Entry<Py, Py> e : d.entries()) {
                if (maybeComplex(e.getValue())) {
                    return true;
                }
            }
        }
        return false;
    }

    static boolean containsOpaque(Py v) {
        if (v instanceof Py.Opaque) {
            return true;
        }
        if (v instanceof Py.Call c) {
            if (containsOpaque(c.func())) {
                return true;
            }
            for (Py a : c.args()) {
                if (containsOpaque(a)) {
                    return true;
                }
            }
        } else if (v instanceof Py.PyTuple t) {
            for (Py a : t.items()) {
                if (containsOpaque(a)) {
                    return true;
                }
            }
        } else if (v instanceof Py.PyList l) {
            for (Py a : l.items()) {
                if (containsOpaque(a)) {
                    return true;
                }
            }
        } else if (v instanceof Py.PyDict d) {
            for (Map.Entry<Py, Py> e : d.entries()) {
                if (containsOpaque(e.getKey()) || containsOpaque(e.getValue())) {
                    return true;
                }
            }
        }
        return false;
    }
}
