package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.layers.Budget;
import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.LayerLimits;
import org.cloudviper.scheduler.state.GraphUpdate;
import org.cloudviper.protocol.message.RunSpec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Reads a 2022.12 {@code update-graph-hlg} message into a {@link GraphUpdate}
 * (distributed/client.py _graph_to_futures, dask/highlevelgraph.py __dask_distributed_pack__ and
 * HighLevelGraph.__dask_distributed_unpack__, distributed/scheduler.py update_graph_hlg).
 *
 * <p>Layers whose packed state is plain {@code dsk}/{@code dependencies} (MaterializedLayer and every
 * layer without its own packer) are taken as they are. Layers that ship a recipe for the scheduler
 * (Blockwise, DataFrameIOLayer, the shuffle layers, BroadcastJoinLayer, DataFrameTreeReduction)
 * are unpacked as Python's scheduler would, by {@link PackedLayers}; any other is refused with
 * {@link UnsupportedLayer}, which the server reports to the client as an error on every requested
 * key. As in update_graph_hlg, a task never depends on itself.
 *
 * <p>The update owns one reference to every sub-object of its run specs ({@link GraphUpdates#release}).
 */
public final class HlgGraph {
    private HlgGraph() {
    }

    /** A layer the scheduler cannot expand without running Python, or cannot read. */
    public static final class UnsupportedLayer extends RuntimeException {
        UnsupportedLayer(String message) {
            super(message);
        }
    }

    public static GraphUpdate read(ClientToScheduler.UpdateGraphHlg msg, String client, double now, String stimulusId) {
        return read(msg, client, now, stimulusId, LayerLimits.DEFAULT);
    }

    public static GraphUpdate read(ClientToScheduler.UpdateGraphHlg msg, String client, double now, String stimulusId,
                                   LayerLimits limits) {
        List<Object> layers = Fields.list(msg.hlg().get("layers"));
        if (layers == null) {
            throw new ProtocolException("update-graph-hlg without hlg.layers");
        }
        Layers graph = new Layers(msg, limits);
        try {
            for (Object lo : layers) {
                graph.layer(lo);
            }
        } catch (RuntimeException e) {
            graph.release();
            throw e;
        }
        return graph.update(msg, client, now, stimulusId);
    }

    /**
     * The tasks of one graph, gathered layer by layer: what each kind of layer becomes is decided
     * here, for graphs read whole ({@link #read}) and for those read while they arrive (the
     * server's GraphStream, which hands over the tasks of materialized layers one by one with
     * {@link #startLayer} and {@link #task}, and every other layer whole to {@link #layer}).
     */
    public static final class Layers {
        /** The client's per-key order (submit and map send one), which travels with each task. */
        private final Map<?, ?> priority;
        /** The message's {@code keys} where the stream kept them as bytes, else null. */
        private final KeyTable table;
        /** Whether the client's order was read against the table (else it is a map by key). */
        private final boolean orderInTable;
        private final LayerLimits limits;
        private PackedLayers packed; // from the first packed layer on
        private final Tasks tasks = new Tasks();

        public Layers(ClientToScheduler.UpdateGraphHlg msg, LayerLimits limits) {
            this.priority = msg.priority();
            this.table = msg.keys() instanceof KeyTable t ? t : null;
            this.orderInTable = table != null && table.ordersBy(priority);
            this.limits = limits;
        }

        /** A whole decoded layer. */
        public void layer(Object lo) {
            if (!(lo instanceof Map<?, ?> layer)) {
                throw new ProtocolException("update-graph-hlg layer is not a map");
            }
            Map<?, ?> state = Fields.map(layer, "state");
            Map<?, ?> annotations = Fields.map(layer, "annotations");
            if (state.get("dsk") instanceof Map<?, ?> dsk) {
                startLayer();
                Map<?, ?> deps = Fields.map(state, "dependencies");
                for (Map.Entry<?, ?> e : dsk.entrySet()) {
                    Object key = e.getKey();
                    task(key, spec(e.getValue()), Fields.list(deps.get(key)), options(annotations, key));
                }
                return;
            }
            tasks.startLayer();
            String module = layer.get("__module__") instanceof String m ? m : "";
            String name = layer.get("__name__") instanceof String n ? n : "";
            if (!PackedLayers.unpacks(module, name)) {
                throw new UnsupportedLayer(PackedLayers.unsupported(module, name).getMessage());
            }
            if (packed == null) {
                packed = new PackedLayers(new Budget(limits));
                for (GraphUpdate.NewTask t : tasks.list) {
                    packed.known(t.key());
                }
            }
            List<PackedLayers.Unpacked> unpacked;
            try {
                unpacked = packed.unpack(module, name, state);
            } catch (LayerException e) {
                throw new UnsupportedLayer(e.getMessage());
            } catch (RuntimeException e) {
                throw new UnsupportedLayer("cloudviper could not expand the " + module + "." + name
                        + " layer (internal error, please report): " + e);
            }
            for (PackedLayers.Unpacked u : unpacked) {
                tasks.add(new GraphUpdate.NewTask(u.key(), u.spec(), new ArrayList<>(u.dependencies()),
                        options(annotations, u.key()), order(u.key())));
            }
        }

        /** A materialized layer begins; its tasks follow with {@link #task}. */
        public void startLayer() {
            tasks.startLayer();
        }

        /** One task of a materialized layer; {@code deps} null when the layer names none for it. */
        public void task(Object key, RunSpec spec, List<Object> deps, GraphUpdate.TaskOptions options) {
            if (packed != null) {
                packed.known(key);
            }
            tasks.add(new GraphUpdate.NewTask(key, retained(spec), withoutSelf(deps, key), options, order(key)));
        }

        /** The client's order of a task's key; notes the task's key instance if the update wants the key. */
        private long order(Object key) {
            if (table == null) {
                return HlgGraph.order(priority, key);
            }
            Object canonical = KeyTable.canonical(key);
            int i = table.taskKey(canonical, key);
            return orderInTable ? table.orderOf(i, canonical, GraphUpdate.NewTask.NO_ORDER)
                    : HlgGraph.order(priority, key);
        }

        /** Releases the run specs gathered, for a graph given up half-way. */
        public void release() {
            for (GraphUpdate.NewTask t : tasks.list) {
                GraphUpdates.releaseSpec(t.spec());
            }
        }

        /** The update of the layers read; a {@link KeyTable} of the message's keys is empty after. */
        public GraphUpdate update(ClientToScheduler.UpdateGraphHlg msg, String client, double now, String stimulusId) {
            List<Object> keys = table != null ? table.takeWanted(UnaryOperator.identity()) : msg.keys();
            return new GraphUpdate(client, tasks.list, keys, priority != null, now,
                    fifoTimeout(msg.fifoTimeout()), stimulusId);
        }
    }

    /**
     * The graph's tasks with {@code dsk.update} semantics across layers
     * (HighLevelGraph.__dask_distributed_unpack__): a key a later layer gives again keeps its first
     * position and takes the later task, and its dependencies are the union. Keys are indexed only
     * once a second layer starts (submit, map and optimized collections send one).
     */
    private static final class Tasks {
        final List<GraphUpdate.NewTask> list = new ArrayList<>();
        private Map<Object, Integer> positions;
        private int layers;

        void startLayer() {
            if (++layers == 2) {
                positions = new HashMap<>(list.size() * 2);
                for (int i = 0; i < list.size(); i++) {
                    positions.putIfAbsent(list.get(i).key(), i);
                }
            }
        }

        void add(GraphUpdate.NewTask t) {
            Integer at = positions == null ? null : positions.putIfAbsent(t.key(), list.size());
            if (at == null) {
                list.add(t);
                return;
            }
            GraphUpdate.NewTask old = list.get(at);
            GraphUpdates.releaseSpec(old.spec());
            Set<Object> deps = new LinkedHashSet<>(old.dependencies());
            deps.addAll(t.dependencies());
            GraphUpdate.TaskOptions options = t.options() == GraphUpdate.TaskOptions.NONE ? old.options() : t.options();
            list.set(at, new GraphUpdate.NewTask(t.key(), t.spec(), new ArrayList<>(deps), options, t.order()));
        }
    }

    private static long order(Map<?, ?> priority, Object key) {
        return priority != null && priority.get(key) instanceof Number n ? n.longValue() : GraphUpdate.NewTask.NO_ORDER;
    }

    /** The dependencies without the key itself (update_graph_hlg removes self-dependencies). */
    private static List<Object> withoutSelf(List<Object> deps, Object key) {
        if (deps == null) {
            return List.of();
        }
        if (!deps.contains(key)) {
            return deps;
        }
        List<Object> out = new ArrayList<>(deps);
        out.removeIf(key::equals);
        return out;
    }

    /** The spec, with one more reference to each of its sub-objects (the update's own). */
    private static RunSpec retained(RunSpec s) {
        retain(s.function());
        retain(s.args());
        retain(s.kwargs());
        retain(s.runSpec());
        return s;
    }

    private static void retain(Object o) {
        if (o instanceof SubObject sub) {
            sub.retain();
        }
    }

    /** {@code {function, args[, kwargs]}} bins, or a Serialized legacy task / literal. */
    public static RunSpec spec(Object v) {
        if (v instanceof Map<?, ?> m && m.containsKey("function")) {
            return new RunSpec(m.get("function"), m.get("args"), m.get("kwargs"), null);
        }
        if (v instanceof SubObject s) {
            return new RunSpec(null, null, null, s);
        }
        throw new ProtocolException("task spec is neither {function, args} nor Serialized: "
                + (v == null ? "nil" : v.getClass().getSimpleName()));
    }

    /** Resolves layer annotations (plain, or expanded per key by the client) for one key. */
    public static GraphUpdate.TaskOptions options(Map<?, ?> annotations, Object key) {
        if (annotations.isEmpty()) {
            return GraphUpdate.TaskOptions.NONE;
        }
        Map<String, Object> resolved = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : annotations.entrySet()) {
            Object v = e.getValue();
            if (v instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("__expanded_annotations__"))) {
                if (!m.containsKey(key)) {
                    continue;
                }
                v = m.get(key);
            }
            resolved.put(String.valueOf(e.getKey()), v);
        }
        return options(resolved);
    }

    static GraphUpdate.TaskOptions options(Map<String, Object> a) {
        if (a.isEmpty()) {
            return GraphUpdate.TaskOptions.NONE;
        }
        long priority = a.get("priority") instanceof Number n ? n.longValue() : 0;
        int retries = a.get("retries") instanceof Number n ? n.intValue() : 0;
        List<String> workers = null;
        List<Object> w = Fields.list(a.get("workers"));
        if (w != null) {
            workers = new ArrayList<>();
            for (Object o : w) {
                workers.add(String.valueOf(o));
            }
        }
        boolean loose = Boolean.TRUE.equals(a.get("allow_other_workers"));
        Map<String, Double> resources = null;
        if (a.get("resources") instanceof Map<?, ?> r) {
            resources = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : r.entrySet()) {
                if (e.getValue() instanceof Number n) {
                    resources.put(String.valueOf(e.getKey()), n.doubleValue());
                }
            }
        }
        return new GraphUpdate.TaskOptions(priority, retries, workers, loose, resources, a);
    }

    private static final java.util.regex.Pattern DURATION =
            java.util.regex.Pattern.compile("\\s*([0-9.]+)\\s*([a-z]*)\\s*");
    private record Duration(String text, double seconds) {
    }

    /** The last duration string read: every graph of a client carries the same one. */
    private static volatile Duration lastFifoTimeout = new Duration("", 0.1);

    /** "100 ms", "60s", "1 minute", a number of seconds, or nil. */
    static double fifoTimeout(Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (!(v instanceof String s)) {
            return 0.1;
        }
        Duration last = lastFifoTimeout;
        if (!s.equals(last.text())) {
            last = lastFifoTimeout = new Duration(s, parseDuration(s));
        }
        return last.seconds();
    }

    private static double parseDuration(String s) {
        var m = DURATION.matcher(s.toLowerCase(java.util.Locale.ROOT));
        if (!m.matches()) {
            return 0.1;
        }
        double x;
        try {
            x = Double.parseDouble(m.group(1));
        } catch (NumberFormatException e) {
            return 0.1; // "1.2.3 ms": as unreadable as no duration at all
        }
        return switch (m.group(2)) {
            case "ms", "milliseconds", "millisecond" -> x / 1000;
            case "us", "microseconds" -> x / 1e6;
            case "m", "min", "minute", "minutes" -> x * 60;
            case "h", "hour", "hours" -> x * 3600;
            default -> x;
        };
    }
}
