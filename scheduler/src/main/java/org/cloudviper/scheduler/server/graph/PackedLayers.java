package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.layers.BroadcastJoin;
import org.cloudviper.protocol.layers.Budget;
import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.LayerTask;
import org.cloudviper.protocol.layers.Py;
import org.cloudviper.protocol.layers.Shuffles;
import org.cloudviper.protocol.layers.TreeReduction;
import org.cloudviper.protocol.message.RunSpec;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Unpacks the layers a 2022.12.1 client sends as a recipe ({@code __dask_distributed_pack__}) into
 * the tasks the Python scheduler's {@code __dask_distributed_unpack__} makes of them, without
 * Python: {@code dask.blockwise.Blockwise} and its subclass {@code dask.layers.DataFrameIOLayer}
 * ({@link PackedBlockwise}), {@code SimpleShuffleLayer}, {@code ShuffleLayer},
 * {@code BroadcastJoinLayer} and {@code DataFrameTreeReduction} of {@code dask.layers}. Keys,
 * dependencies and run specs are those Python's scheduler keeps: tuple keys stringified, the
 * dependencies the known keys a task names, run specs in {@code dumps_task} or
 * {@code to_serialize} form.
 *
 * <p>One instance per graph: it remembers the keys of the layers unpacked so far (Python's
 * {@code keys_in_tasks} looks a task's keys up among them) and what is left of the graph's
 * {@link Budget}.
 */
final class PackedLayers {
    /** One task as the Python scheduler keeps it. */
    record Unpacked(String key, RunSpec spec, Set<String> dependencies) {
    }

    private final Budget budget;
    private final SpecWriter specs = new SpecWriter();
    private final Set<String> known = new java.util.HashSet<>();

    PackedLayers(Budget budget) {
        this.budget = budget;
    }

    /** Keys of a layer taken as it is (materialized), which later layers may name. */
    void known(Object key) {
        if (key instanceof String s) {
            known.add(s);
        }
    }

    SpecWriter specs() {
        return specs;
    }

    /** Whether this class's packed state is one this reader unpacks. */
    static boolean unpacks(String module, String name) {
        return switch (module + "." + name) {
            case "dask.blockwise.Blockwise", "dask.layers.DataFrameIOLayer", "dask.layers.SimpleShuffleLayer",
                    "dask.layers.ShuffleLayer", "dask.layers.BroadcastJoinLayer",
                    "dask.layers.DataFrameTreeReduction" -> true;
            default -> false;
        };
    }

    /**
     * The tasks of one packed layer; the caller owns the sub-objects of their specs.
     *
     * @throws LayerException for a layer this reader does not unpack or a state it cannot read
     */
    List<Unpacked> unpack(String module, String name, Map<?, ?> state) {
        String qualified = module + "." + name;
        String layer = name + " " + (state.get("name") instanceof String n ? n
                : state.get("output") instanceof String o ? o : "");
        PackedState s = new PackedState(layer, state);
        List<Unpacked> out = switch (qualified) {
            case "dask.blockwise.Blockwise", "dask.layers.DataFrameIOLayer" ->
                    new PackedBlockwise(s, specs, budget).unpack();
            case "dask.layers.SimpleShuffleLayer" -> legacy(simpleShuffle(s, budget), true);
            case "dask.layers.ShuffleLayer" -> legacy(stagedShuffle(s, budget), true);
            case "dask.layers.BroadcastJoinLayer" -> legacy(broadcastJoin(s, budget), true);
            case "dask.layers.DataFrameTreeReduction" -> legacy(treeReduction(s, budget), false);
            default -> throw unsupported(module, name);
        };
        for (Unpacked u : out) {
            known.add(u.key());
        }
        return out;
    }

    static LayerException unsupported(String module, String name) {
        if (name.startsWith("P2P") || module.startsWith("distributed.shuffle")) {
            return new LayerException("cloudviper cannot expand a " + module + "." + name + " layer: a P2P shuffle"
                    + " runs through the Python scheduler's shuffle extension. Use the task-based shuffle"
                    + " (shuffle=\"tasks\", or dask.config.set({\"shuffle\": \"tasks\"})).");
        }
        return new LayerException("cloudviper cannot expand a " + module + "." + name + " layer: Dask's scheduler"
                + " would unpack it by running that class's Python code, which cloudviper does for the layers of"
                + " dask itself (Blockwise, DataFrameIOLayer, the task shuffle layers, BroadcastJoinLayer,"
                + " DataFrameTreeReduction). Materialize it on the client instead: a MaterializedLayer of"
                + " dict(layer).");
    }

    /**
     * Stringifies the tasks, finds their dependencies among the known keys (this layer's included)
     * and writes their specs: {@code dumps_task} (shuffles, joins) or {@code to_serialize} (tree
     * reductions, whose tasks hold the client's Serialized functions).
     */
    private List<Unpacked> legacy(List<LayerTask> tasks, boolean dumpsTask) {
        List<String> keys = new ArrayList<>(tasks.size());
        for (LayerTask t : tasks) {
            String k = Stringify.key(t.key());
            keys.add(k);
            known.add(k);
        }
        List<Unpacked> out = new ArrayList<>(tasks.size());
        try {
            for (int i = 0; i < tasks.size(); i++) {
                Py task = Stringify.collectionKeys(tasks.get(i).task());
                Set<String> deps = new LinkedHashSet<>();
                Stringify.keysInTask(task, known, deps);
                deps.remove(keys.get(i));
                RunSpec spec = dumpsTask ? specs.dumpsTask(task) : specs.serializedRunSpec(task);
                out.add(new Unpacked(keys.get(i), spec, deps));
            }
        } catch (RuntimeException e) {
            release(out);
            throw e;
        }
        return out;
    }

    static void release(List<Unpacked> tasks) {
        for (Unpacked u : tasks) {
            GraphUpdates.releaseSpec(u.spec());
        }
    }

    // ------------------------------------------------------------------------------- layer states

    /** {@code column} arrives as a tuple when it was a list; the layer turns it back into one. */
    private static Py column(PackedState s) {
        Object c = s.raw("column");
        if (c instanceof List<?>) {
            return Py.list(((Py.PyTuple) s.py("column")).items());
        }
        return s.py("column");
    }

    private static List<LayerTask> simpleShuffle(PackedState s, Budget budget) {
        return Shuffles.simple(s.str("name"), column(s), s.integer("npartitions"), s.integer("npartitions_input"),
                s.py("ignore_index"), s.str("name_input"), s.optIntegers("parts_out"), budget);
    }

    private static List<LayerTask> stagedShuffle(PackedState s, Budget budget) {
        List<List<Long>> inputs = new ArrayList<>();
        for (Object o : s.list("inputs")) {
            List<Object> digits = PackedState.sequence(o);
            if (digits == null) {
                throw s.bad("inputs", "a sequence of tuples of ints");
            }
            List<Long> d = new ArrayList<>(digits.size());
            for (Object x : digits) {
                if (!(x instanceof Long l)) {
                    throw s.bad("inputs", "a sequence of tuples of ints");
                }
                d.add(l);
            }
            inputs.add(List.copyOf(d));
        }
        return Shuffles.staged(s.str("name"), column(s), inputs, s.integer("stage"), s.py("npartitions"),
                s.integer("npartitions_input"), s.integer("nsplits"), s.py("ignore_index"), s.str("name_input"),
                s.py("meta_input"), s.optIntegers("parts_out"), budget);
    }

    /**
     * {@code BroadcastJoinLayer(**state, **merge_kwargs)} as of 2022.12.1: the merge tasks get
     * {@code merge_kwargs} as it came (the client pickled its values other than str, list and bool),
     * the hash split of the other side {@code left_on}/{@code right_on} from it; {@code parts_out} is
     * a set, iterated in Python's order (ascending for the small ints it holds).
     */
    private static List<LayerTask> broadcastJoin(PackedState s, Budget budget) {
        Map<String, Object> kwargs = s.strMap("merge_kwargs");
        List<Long> parts = s.optIntegers("parts_out");
        if (parts == null || parts.isEmpty()) {
            parts = range(s.integer("npartitions"), s, budget);
        } else if (s.raw("parts_out") instanceof Map<?, ?>) {
            parts = new ArrayList<>(new TreeSet<>(parts));
        }
        String how = kwargs.get("how") instanceof String h ? h : null;
        return new BroadcastJoin(s.str("name"), s.str("lhs_name"), s.integer("lhs_npartitions"), s.str("rhs_name"),
                s.integer("rhs_npartitions"), parts, how, PackedState.toPy(kwargs.get("left_on"), 0),
                PackedState.toPy(kwargs.get("right_on"), 0), s.py("merge_kwargs")).tasks(budget);
    }

    private static List<LayerTask> treeReduction(PackedState s, Budget budget) {
        Py finalize = s.raw("finalize_func") == null ? null : s.py("finalize_func");
        Long splitOut = s.optInteger("split_out");
        List<Long> outputs = s.optIntegers("output_partitions");
        if (outputs == null) {
            outputs = range(splitOut == null || splitOut == 0 ? 1 : splitOut, s, budget);
        }
        String treeNodeName = s.raw("tree_node_name") instanceof String t ? t : "tree_node-" + s.str("name");
        return new TreeReduction(s.str("name"), s.str("name_input"), s.integer("npartitions_input"),
                s.py("concat_func"), s.py("tree_node_func"), finalize, s.integer("split_every"), splitOut, outputs,
                treeNodeName).tasks(budget);
    }

    private static List<Long> range(long n, PackedState s, Budget budget) {
        budget.checkInputs(s.layer, n);
        List<Long> r = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            r.add(i);
        }
        return r;
    }
}
