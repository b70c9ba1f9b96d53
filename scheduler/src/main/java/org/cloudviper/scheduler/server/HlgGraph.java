package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.scheduler.state.GraphUpdate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a 2022.12 {@code update-graph-hlg} message into a {@link GraphUpdate}
 * (distributed/client.py _graph_to_futures, dask/highlevelgraph.py __dask_distributed_pack__).
 *
 * <p>Layers whose packed state is plain {@code dsk}/{@code dependencies} (MaterializedLayer and every
 * layer without its own packer) are taken as they are. Layers that ship a recipe for the scheduler
 * to run in Python (Blockwise, shuffle, ...) are refused with {@link UnsupportedLayer}, which the
 * server reports to the client as an error on every requested key.
 */
final class HlgGraph {
    private HlgGraph() {
    }

    /** A layer the scheduler cannot expand without running Python. */
    static final class UnsupportedLayer extends RuntimeException {
        UnsupportedLayer(String message) {
            super(message);
        }
    }

    static GraphUpdate read(ClientToScheduler.UpdateGraphHlg msg, String client, double now, String stimulusId) {
        List<Object> layers = Fields.list(msg.hlg().get("layers"));
        if (layers == null) {
            throw new ProtocolException("update-graph-hlg without hlg.layers");
        }
        // The client's per-key order (submit and map send one) travels with each task.
        Map<?, ?> priority = msg.priority();
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        for (Object lo : layers) {
            if (!(lo instanceof Map<?, ?> layer)) {
                throw new ProtocolException("update-graph-hlg layer is not a map");
            }
            Map<?, ?> state = Fields.map(layer, "state");
            if (!(state.get("dsk") instanceof Map<?, ?> dsk)) {
                throw new UnsupportedLayer("cloudviper cannot expand a " + Fields.str(layer, "__module__") + "."
                        + Fields.str(layer, "__name__") + " layer: the Python scheduler would unpack it by running"
                        + " dask code. Compute with optimize_graph=True (the default) so that the client sends"
                        + " materialized tasks, or call dask.optimize / persist the collection first.");
            }
            Map<?, ?> deps = Fields.map(state, "dependencies");
            Map<?, ?> annotations = Fields.map(layer, "annotations");
            for (Map.Entry<?, ?> e : dsk.entrySet()) {
                Object key = e.getKey();
                List<Object> d = Fields.list(deps.get(key));
                long order = priority != null && priority.get(key) instanceof Number n
                        ? n.longValue() : GraphUpdate.NewTask.NO_ORDER;
                tasks.add(new GraphUpdate.NewTask(key, spec(e.getValue()), d == null ? List.of() : d,
                        options(annotations, key), order));
            }
        }
        return new GraphUpdate(client, tasks, msg.keys(), priority != null, now, fifoTimeout(msg.fifoTimeout()),
                stimulusId);
    }

    /** {@code {function, args[, kwargs]}} bins, or a Serialized legacy task / literal. */
    static RunSpec spec(Object v) {
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
    static GraphUpdate.TaskOptions options(Map<?, ?> annotations, Object key) {
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
