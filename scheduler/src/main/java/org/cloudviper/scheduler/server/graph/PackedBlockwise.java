package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.layers.Blockwise;
import org.cloudviper.protocol.layers.Budget;
import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.Py;
import org.cloudviper.protocol.message.RunSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code Blockwise.__dask_distributed_unpack__} of dask 2022.12.1 (also that of its subclass
 * {@code DataFrameIOLayer}): {@code make_blockwise_graph(..., deserializing=True)}.
 *
 * <p>The client packed the fused per-block function as {@code func}: pickled bytes when no task
 * nests another, else a Serialized {@code SubgraphCallable}. A block's arguments are its input
 * blocks' keys (stringified; lists of them along contracted indices, passed through
 * {@code concatenate_axes} when {@code concatenate=True}), the literal keys among the indices, and
 * for IO inputs ({@code io_deps}) the block's entry of the packed {@code BlockwiseDep}
 * ({@code BlockwiseDepDict}, {@code BlockIndex}, {@code ArrayChunkShapeDep}, {@code ArraySliceDep}).
 * The task is {@code {"function": func, "args": args}} for pickled bytes, else the Serialized tuple
 * {@code (func, *args)}. Every block depends on the keys it names, on {@code global_dependencies} and
 * on the keys a {@code BlockwiseDepDict(produces_keys=True)} names.
 */
final class PackedBlockwise {
    private static final Py CONCATENATE_AXES = new Py.Func("dask.array.core", "concatenate_axes");

    private final PackedState s;
    private final SpecWriter specs;
    private final Budget budget;

    PackedBlockwise(PackedState s, SpecWriter specs, Budget budget) {
        this.s = s;
        this.specs = specs;
        this.budget = budget;
    }

    List<PackedLayers.Unpacked> unpack() {
        String output = s.str("output");
        List<String> outIndices = strings(s.list("output_indices"), "output_indices");
        List<Object> flat = s.list("indices");
        List<Object> isList = s.has("is_list") ? s.list("is_list") : List.of();
        if (flat.size() % 2 != 0) {
            throw s.bad("indices", "name, index pairs");
        }
        List<Blockwise.Input> inputs = new ArrayList<>();
        List<Py> literals = new ArrayList<>();
        for (int i = 0; i < flat.size(); i += 2) {
            Object name = flat.get(i);
            Object index = flat.get(i + 1);
            boolean nameIsList = i < isList.size() && Boolean.TRUE.equals(isList.get(i));
            if (index == null) {
                Py lit = PackedState.toPy(name, 0);
                if (nameIsList && lit instanceof Py.PyTuple t) {
                    lit = Py.list(t.items());
                }
                literals.add(lit);
                inputs.add(new Blockwise.Input(null, null));
            } else {
                literals.add(null);
                inputs.add(new Blockwise.Input(name, strings(PackedState.sequence(index), "indices")));
            }
        }
        Map<String, List<Long>> numblocks = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : s.map("numblocks").entrySet()) {
            numblocks.put(String.valueOf(e.getKey()), longs(e.getValue(), "numblocks"));
        }
        Map<String, Long> dims = null;
        if (s.raw("dims") != null) {
            dims = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : s.map("dims").entrySet()) {
                if (!(e.getValue() instanceof Long d)) {
                    throw s.bad("dims", "a dict of ints");
                }
                dims.put(String.valueOf(e.getKey()), d);
            }
        }
        Map<String, Object> newAxes = new LinkedHashMap<>();
        if (s.raw("new_axes") instanceof Map<?, ?> m) {
            m.forEach((k, v) -> newAxes.put(String.valueOf(k), v));
        }
        List<List<Long>> outputBlocks = null;
        if (s.raw("output_blocks") != null) {
            outputBlocks = new ArrayList<>();
            for (Object o : s.list("output_blocks")) {
                outputBlocks.add(longs(o, "output_blocks"));
            }
        }
        Map<String, IoDep> ioDeps = new LinkedHashMap<>();
        if (s.raw("io_deps") instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                ioDeps.put(String.valueOf(e.getKey()), IoDep.read(s.layer, e.getValue()));
            }
        }
        Object func = s.raw("func");
        if (!(func instanceof byte[]) && !(func instanceof SubObject)) {
            throw s.bad("func", "pickled bytes or a Serialized function");
        }
        List<Py> futureArgs = new ArrayList<>();
        if (s.raw("func_future_args") != null) {
            for (Object o : s.list("func_future_args")) {
                futureArgs.add(PackedState.toPy(o, 0));
            }
        }
        Set<String> globalDeps = new LinkedHashSet<>();
        if (s.raw("global_dependencies") != null) {
            for (Object o : s.list("global_dependencies")) {
                globalDeps.add(Stringify.key(o));
            }
        }
        boolean concatenate = Boolean.TRUE.equals(s.raw("concatenate"));

        Blockwise plan = new Blockwise(s.layer, output, outIndices, inputs, numblocks, concatenate, newAxes,
                outputBlocks, dims, ioDeps.keySet(), budget);
        List<PackedLayers.Unpacked> out = new ArrayList<>((int) Math.min(plan.size(), 1 << 20));
        try {
            plan.forEach((key, coords, args, blockDeps) -> {
                List<Py> pyArgs = new ArrayList<>(args.size() + futureArgs.size());
                for (Blockwise.Arg a : args) {
                    pyArgs.add(argument(a, literals, ioDeps, concatenate));
                }
                Set<String> deps = new LinkedHashSet<>();
                for (List<Object> d : blockDeps) {
                    deps.add(Stringify.key(d));
                }
                for (Py f : futureArgs) {
                    pyArgs.add(f);
                    if (f instanceof Py.Lit l && l.value() instanceof String k) {
                        deps.add(k);
                    }
                }
                deps.addAll(globalDeps);
                for (IoDep io : ioDeps.values()) {
                    if (io.producesKeys()) {
                        deps.add(Stringify.key(io.keyAt(coords)));
                    }
                }
                String k = Stringify.key(key);
                deps.remove(k);
                RunSpec spec;
                if (func instanceof byte[] b) {
                    spec = specs.functionArgs(b, pyArgs);
                } else {
                    List<Py> items = new ArrayList<>(pyArgs.size() + 1);
                    items.addAll(pyArgs);
                    spec = specs.serializedRunSpec(new Py.Call(new Py.Opaque(func), items));
                }
                out.add(new PackedLayers.Unpacked(k, spec, deps));
            });
        } catch (RuntimeException e) {
            PackedLayers.release(out);
            throw e;
        }
        return out;
    }

    /** One argument of a block, stringified as {@code stringify_collection_keys} leaves it. */
    private static Py argument(Blockwise.Arg a, List<Py> literals, Map<String, IoDep> ioDeps, boolean concatenate) {
        if (a instanceof Blockwise.Literal l) {
            return Stringify.collectionKeys(literals.get(l.input()));
        }
        if (a instanceof Blockwise.Block b) {
            return Py.lit(Stringify.key(b.key()));
        }
        if (a instanceof Blockwise.Blocks b) {
            Py lists = nested(b.nested());
            if (!concatenate) {
                return lists;
            }
            List<Py> axes = new ArrayList<>(b.axes().size());
            for (long x : b.axes()) {
                axes.add(Py.lit(x));
            }
            return Py.call(CONCATENATE_AXES, lists, Py.list(axes));
        }
        Blockwise.IoDep io = (Blockwise.IoDep) a;
        return ioDeps.get(io.name()).get(io.coords());
    }

    /** Nested lists of keys, each key stringified. */
    private static Py nested(List<Object> lol) {
        List<Py> items = new ArrayList<>(lol.size());
        for (Object o : lol) {
            @SuppressWarnings("unchecked")
            List<Object> l = (List<Object>) o;
            boolean isKey = !l.isEmpty() && l.get(0) instanceof String;
            items.add(isKey ? Py.lit(Stringify.key(l)) : nested(l));
        }
        return Py.list(items);
    }

    private List<String> strings(List<Object> l, String field) {
        if (l == null) {
            throw s.bad(field, "a tuple of str");
        }
        List<String> out = new ArrayList<>(l.size());
        for (Object o : l) {
            if (!(o instanceof String x)) {
                throw s.bad(field, "a tuple of str");
            }
            out.add(x);
        }
        return out;
    }

    private List<Long> longs(Object v, String field) {
        List<Object> l = PackedState.sequence(v);
        if (l == null) {
            throw s.bad(field, "tuples of ints");
        }
        List<Long> out = new ArrayList<>(l.size());
        for (Object o : l) {
            if (!(o instanceof Long x)) {
                throw s.bad(field, "tuples of ints");
            }
            out.add(x);
        }
        return List.copyOf(out);
    }

    /**
     * A packed {@code BlockwiseDep}: {@code {__module__, __name__, state}}, unpacked by its class's
     * {@code __dask_distributed_unpack__} ({@code cls(**state)}); {@link #get} is its
     * {@code get(idx, idx)}.
     */
    record IoDep(String layer, String cls, Map<?, ?> state) {
        static IoDep read(String layer, Object packed) {
            if (!(packed instanceof Map<?, ?> m) || !(m.get("__module__") instanceof String mod)
                    || !(m.get("__name__") instanceof String name) || !(m.get("state") instanceof Map<?, ?> st)) {
                throw new LayerException("graph layer " + layer + ": io_deps entry is not {__module__, __name__, state}");
            }
            String cls = mod + "." + name;
            switch (cls) {
                case "dask.blockwise.BlockwiseDepDict", "dask.blockwise.BlockIndex", "dask.layers.ArrayChunkShapeDep",
                        "dask.layers.ArraySliceDep" -> {
                }
                default -> throw new LayerException("graph layer " + layer + ": cloudviper cannot expand the IO input "
                        + cls + " (it reads BlockwiseDepDict, BlockIndex, ArrayChunkShapeDep and ArraySliceDep)");
            }
            return new IoDep(layer, cls, st);
        }

        boolean producesKeys() {
            return cls.equals("dask.blockwise.BlockwiseDepDict") && Boolean.TRUE.equals(state.get("produces_keys"));
        }

        /** {@code io_dep[out_coords]} of a key-producing dict: the key it names. */
        Object keyAt(List<Long> coords) {
            Entry e = lookup(coords);
            if (e == null) {
                throw new LayerException("graph layer " + layer + ": BlockwiseDepDict has no entry for " + coords);
            }
            return e.value();
        }

        Py get(List<Long> idx) {
            switch (cls) {
                case "dask.blockwise.BlockwiseDepDict" -> {
                    Entry e = lookup(idx);
                    return e == null ? tuple(idx) : PackedState.toPy(e.value(), 0);
                }
                case "dask.blockwise.BlockIndex" -> {
                    return tuple(idx);
                }
                case "dask.layers.ArrayChunkShapeDep" -> {
                    List<List<Long>> chunks = chunks();
                    List<Py> shape = new ArrayList<>();
                    for (int i = 0; i < Math.min(idx.size(), chunks.size()); i++) {
                        shape.add(Py.lit(at(chunks.get(i), idx.get(i))));
                    }
                    return Py.tuple(shape);
                }
                default -> { // ArraySliceDep
                    List<List<Long>> chunks = chunks();
                    List<Py> slices = new ArrayList<>();
                    for (int i = 0; i < Math.min(idx.size(), chunks.size()); i++) {
                        long start = 0;
                        List<Long> c = chunks.get(i);
                        long j = idx.get(i);
                        at(c, j);
                        for (int k = 0; k < j; k++) {
                            start += c.get(k);
                        }
                        slices.add(new Py.Slice(start, start + c.get((int) j), null));
                    }
                    return Py.tuple(slices);
                }
            }
        }

        /** {@code BlockwiseDepDict.__getitem__}: the index, or its leading {@code len(numblocks)} parts. */
        private Entry lookup(List<Long> idx) {
            if (!(state.get("mapping") instanceof Map<?, ?> mapping)) {
                throw new LayerException("graph layer " + layer + ": BlockwiseDepDict without a mapping");
            }
            List<Object> key = new ArrayList<>(idx);
            if (mapping.containsKey(key)) {
                return new Entry(mapping.get(key));
            }
            List<Object> nb = PackedState.sequence(state.get("numblocks"));
            int n = nb == null ? key.size() : Math.min(nb.size(), key.size());
            List<Object> flat = new ArrayList<>(key.subList(0, n));
            return mapping.containsKey(flat) ? new Entry(mapping.get(flat)) : null;
        }

        /** A mapping entry (its value may be None). */
        private record Entry(Object value) {
        }

        private List<List<Long>> chunks() {
            List<Object> c = PackedState.sequence(state.get("chunks"));
            if (c == null) {
                throw new LayerException("graph layer " + layer + ": " + cls + " without chunks");
            }
            List<List<Long>> out = new ArrayList<>();
            for (Object o : c) {
                List<Object> l = PackedState.sequence(o);
                List<Long> sizes = new ArrayList<>();
                for (Object x : l == null ? List.of() : l) {
                    if (!(x instanceof Long n)) {
                        throw new LayerException("graph layer " + layer + ": chunks of " + cls + " are not ints");
                    }
                    sizes.add(n);
                }
                out.add(sizes);
            }
            return out;
        }

        private long at(List<Long> sizes, long i) {
            if (i < 0 || i >= sizes.size()) {
                throw new LayerException("graph layer " + layer + ": block " + i + " beyond the chunks of " + cls);
            }
            return sizes.get((int) i);
        }

        private static Py tuple(List<Long> idx) {
            List<Py> t = new ArrayList<>(idx.size());
            for (long i : idx) {
                t.add(Py.lit(i));
            }
            return Py.tuple(t);
        }
    }
}
