package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.layers.Blockwise;
import org.cloudviper.protocol.layers.BroadcastJoin;
import org.cloudviper.protocol.layers.Budget;
import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.LayerTask;
import org.cloudviper.protocol.layers.Overlap;
import org.cloudviper.protocol.layers.Py;
import org.cloudviper.protocol.layers.Shuffles;
import org.cloudviper.protocol.layers.TreeReduction;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The layer classes of a Dask 2024.12.1 graph that Dask's scheduler materializes by running their
 * Python ({@code Layer.__getitem__} / {@code _construct_graph}), read from their pickled attributes
 * and expanded here: {@code dask.blockwise.Blockwise} and {@code dask.layers.DataFrameIOLayer}
 * ({@link BlockwiseSlices}), and {@code DataFrameTreeReduction}, {@code SimpleShuffleLayer},
 * {@code ShuffleLayer}, {@code BroadcastJoinLayer} and {@code ArrayOverlapLayer} of
 * {@code dask.layers}, whose tasks are legacy ones ({@link LegacySlices}). The P2P layers of
 * {@code distributed.shuffle} run through the Python scheduler's shuffle extension and are refused
 * with a message that says how to get the task-based ones.
 */
final class PickledLayers {
    private PickledLayers() {
    }

    /** A task of an expanded layer, sliced once every key of the graph is known. */
    sealed interface Generated permits Legacy, Block {
    }

    /** A legacy task built by the layer's {@code _construct_graph}. */
    record Legacy(Py task) implements Generated {
    }

    /** One block of a Blockwise layer. */
    record Block(BlockwiseSlices layer, List<Blockwise.Arg> args) implements Generated {
    }

    /** Receives the keys of an expanded layer in Python's order. */
    interface Sink {
        void add(Object key, Generated g);
    }

    /** Whether {@code o} is a layer class this reader expands (absent a {@code _cached_dict}). */
    static boolean expands(TaskSpec.Obj o) {
        String m = o.cls().module();
        String n = o.cls().name();
        return (m.equals("dask.blockwise") && n.equals("Blockwise")) || (m.equals("dask.layers") && switch (n) {
            case "DataFrameIOLayer", "DataFrameTreeReduction", "SimpleShuffleLayer", "ShuffleLayer",
                    "BroadcastJoinLayer", "ArrayOverlapLayer" -> true;
            default -> false;
        });
    }

    /** The refusal for a layer class cloudviper does not expand. */
    static UnsupportedGraphException unsupported(Object name, TaskSpec.Obj o) {
        String cls = o.className();
        if (cls.startsWith("distributed.shuffle.")) {
            return p2p("graph layer " + name + " is a " + cls);
        }
        return unsupported(name, "a " + cls);
    }

    /** The refusal of a P2P shuffle, merge or rechunk; {@code what} names what the graph holds. */
    static UnsupportedGraphException p2p(String what) {
        return new UnsupportedGraphException(what + ": a P2P shuffle, merge or rechunk runs through the Python"
                + " scheduler's shuffle extension, which cloudviper does not have. Use the task-based method:"
                + " dask.config.set({\"dataframe.shuffle.method\": \"tasks\", \"array.rechunk.method\": \"tasks\"})"
                + " (or shuffle_method=\"tasks\" / method=\"tasks\").");
    }

    /** The refusal for a layer of class {@code what} (e.g. "a module.Class"). */
    static UnsupportedGraphException unsupported(Object name, String what) {
        return new UnsupportedGraphException("graph layer " + name + " is " + what + ", which Dask's scheduler"
                + " materializes by running that class's Python code; cloudviper does that for the layers of dask"
                + " itself (Blockwise, DataFrameIOLayer, DataFrameTreeReduction, the task shuffle layers,"
                + " BroadcastJoinLayer, ArrayOverlapLayer). Materialize it on the client instead: a"
                + " MaterializedLayer of dict(layer).");
    }

    /**
     * Expands layer {@code o} into {@code sink}.
     *
     * @return the split name when the layer's {@code priority} annotation is a shuffle layer's own
     *         {@code _key_priority} (1 for its split keys, 0 for the others), else null
     * @throws LayerException for a state this reader cannot read or a size beyond the budget
     */
    static String expand(Object name, TaskSpec.Obj o, Budget budget, Sink sink) {
        String cls = o.cls().name();
        String layer = cls + " " + name;
        LayerAttrs a = new LayerAttrs(layer, o);
        long max = budget.limits().maxTasks();
        switch (cls) {
            case "Blockwise", "DataFrameIOLayer" -> {
                BlockwiseSlices b = new BlockwiseSlices(layer, a, budget);
                b.plan().forEach((key, coords, args, deps) -> sink.add(key, new Block(b, args)));
                return null;
            }
            case "DataFrameTreeReduction" -> add(sink, new TreeReduction(a.str("name"), a.str("name_input"),
                    a.integer("npartitions_input"), opaque(a.value("concat_func")), opaque(a.value("tree_node_func")),
                    a.optValue("finalize_func") == null ? null : opaque(a.value("finalize_func")),
                    a.integer("split_every"), a.optInteger("split_out"), a.optIntegers("output_partitions", max),
                    a.str("tree_node_name")).tasks(budget));
            case "SimpleShuffleLayer" -> add(sink, Shuffles.simple(a.str("name"), opaque(a.value("column")),
                    a.integer("npartitions"), a.integer("npartitions_input"), opaque(a.value("ignore_index")),
                    a.str("name_input"), a.optIntegers("parts_out", max), budget));
            case "ShuffleLayer" -> {
                List<List<Long>> inputs = new ArrayList<>();
                List<PickleValue> items = LayerAttrs.items(a.value("inputs").resolve());
                if (items == null) {
                    throw a.bad("inputs", "a list of tuples of ints");
                }
                budget.checkInputs(layer, items.size());
                for (PickleValue t : items) {
                    List<PickleValue> digits = LayerAttrs.items(t.resolve());
                    if (digits == null) {
                        throw a.bad("inputs", "a list of tuples of ints");
                    }
                    List<Long> d = new ArrayList<>(digits.size());
                    for (PickleValue x : digits) {
                        if (!(x.resolve() instanceof PickleValue.Int i) || !i.fitsLong()) {
                            throw a.bad("inputs", "a list of tuples of ints");
                        }
                        d.add(i.longValue());
                    }
                    inputs.add(List.copyOf(d));
                }
                add(sink, Shuffles.staged(a.str("name"), opaque(a.value("column")), inputs, a.integer("stage"),
                        opaque(a.value("npartitions")), a.integer("npartitions_input"), a.integer("nsplits"),
                        opaque(a.value("ignore_index")), a.str("name_input"), opaque(a.value("meta_input")),
                        a.optIntegers("parts_out", max), budget));
            }
            case "BroadcastJoinLayer" -> {
                List<Long> parts = a.optIntegers("parts_out", max);
                if (parts == null || parts.isEmpty()) {
                    budget.checkInputs(layer, a.integer("npartitions"));
                    parts = new ArrayList<>();
                    for (long i = 0; i < a.integer("npartitions"); i++) {
                        parts.add(i);
                    }
                }
                String how = a.optValue("how") != null && a.value("how").resolve() instanceof PickleValue.Str s
                        ? s.value() : null;
                add(sink, new BroadcastJoin(a.str("name"), a.str("lhs_name"), a.integer("lhs_npartitions"),
                        a.str("rhs_name"), a.integer("rhs_npartitions"), parts, how, opaque(a.value("left_on")),
                        opaque(a.value("right_on")), opaque(a.value("merge_kwargs"))).tasks(budget));
            }
            case "ArrayOverlapLayer" -> add(sink, overlap(a, budget));
            default -> throw new LayerException("graph layer " + layer + ": not an expanded class");
        }
        return splitName(name, o);
    }

    /**
     * {@code split_name} of a shuffle layer whose {@code priority} annotation is its own
     * {@code _key_priority} (also when the client materialized it into {@code _cached_dict}), else null.
     */
    static String splitName(Object name, TaskSpec.Obj o) {
        String cls = o.cls().name();
        if (!o.cls().module().equals("dask.layers") || !(cls.equals("SimpleShuffleLayer") || cls.equals("ShuffleLayer"))
                || !isOwnKeyPriority(o)) {
            return null;
        }
        return "split-" + new LayerAttrs(cls + " " + name, o).str("name");
    }

    private static void add(Sink sink, List<LayerTask> tasks) {
        for (LayerTask t : tasks) {
            sink.add(t.key(), new Legacy(t.task()));
        }
    }

    private static Py opaque(PickleValue v) {
        return new Py.Opaque(v);
    }

    /** {@code ArrayOverlapLayer(name, axes, chunks, numblocks, token)}. */
    private static List<LayerTask> overlap(LayerAttrs a, Budget budget) {
        Map<Long, Object> axes = new LinkedHashMap<>();
        if (!(a.value("axes").resolve() instanceof PickleValue.PyDict d)) {
            throw a.bad("axes", "a dict");
        }
        for (int i = 0; i < d.size(); i++) {
            Object k = PickleValues.toJava(d.key(i));
            Object v = PickleValues.toJava(d.value(i));
            if (!(k instanceof Long axis) || !(v instanceof Long || (v instanceof List<?> l && l.size() == 2
                    && l.get(0) instanceof Long && l.get(1) instanceof Long))) {
                throw a.bad("axes", "a dict of axis to depth");
            }
            axes.put(axis, v);
        }
        List<Long> dims = new ArrayList<>();
        List<PickleValue> chunks = LayerAttrs.items(a.value("chunks").resolve());
        if (chunks == null) {
            throw a.bad("chunks", "a tuple of tuples");
        }
        for (PickleValue c : chunks) {
            List<PickleValue> sizes = LayerAttrs.items(c.resolve());
            if (sizes == null) {
                throw a.bad("chunks", "a tuple of tuples");
            }
            dims.add((long) sizes.size());
        }
        List<Long> numblocks = a.optIntegers("numblocks", budget.limits().maxDimensions());
        if (numblocks == null) {
            throw a.bad("numblocks", "a tuple of ints");
        }
        return new Overlap(a.str("name"), axes, dims, numblocks, a.str("token")).tasks(budget);
    }

    /**
     * A shuffle layer sets {@code annotations["priority"] = self._key_priority} unless it was given a
     * priority. The bound method arrives as {@code getattr(layer, "_key_priority")} (pickle) or, when
     * the client's graph needed cloudpickle, as {@code MethodType(SimpleShuffleLayer._key_priority,
     * layer)} (cloudpickle's {@code _builtin_type("MethodType")}).
     */
    private static boolean isOwnKeyPriority(TaskSpec.Obj o) {
        PickleValue a = o.attr("annotations");
        if (a == null || !(a.resolve() instanceof PickleValue.PyDict d)) {
            return false;
        }
        PickleValue p = d.get("priority");
        if (p == null || !(p.resolve() instanceof PickleValue.Reduce call)
                || !(call.args().resolve() instanceof PickleValue.Tuple t) || t.size() != 2
                || t.get(boundSelfIndex(call)).resolve().id() != o.value) {
            return false;
        }
        PickleValue callee = call.callee().resolve();
        if (callee instanceof PickleValue.Global g && g.is("builtins", "getattr")) {
            return t.get(1).resolve() instanceof PickleValue.Str s && s.is("_key_priority");
        }
        return callee instanceof PickleValue.Reduce type && type.callee().resolve() instanceof PickleValue.Global b
                && b.name().equals("_builtin_type") && b.module().startsWith("cloudpickle")
                && type.args().resolve() instanceof PickleValue.Tuple ta && ta.size() == 1
                && ta.get(0).resolve() instanceof PickleValue.Str m && m.is("MethodType")
                && t.get(0).resolve() instanceof PickleValue.Global f
                && f.is("dask.layers", "SimpleShuffleLayer._key_priority");
    }

    /** Where the bound object sits in the arguments: 0 in getattr(obj, name), 1 in MethodType(func, obj). */
    private static int boundSelfIndex(PickleValue.Reduce call) {
        return call.callee().resolve() instanceof PickleValue.Global ? 0 : 1;
    }
}
