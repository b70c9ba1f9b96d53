package org.cloudviper.scheduler.server.graph;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.DeferredSubObject;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.pickle.GraphSlicer;
import org.cloudviper.protocol.pickle.PickleReader;
import org.cloudviper.protocol.pickle.PickleValues;
import org.cloudviper.protocol.pickle.SlicedGraph;
import org.cloudviper.protocol.pickle.TaskPickle;
import org.cloudviper.protocol.pickle.TaskSlice;
import org.cloudviper.protocol.pickle.UnsupportedGraphException;
import org.cloudviper.scheduler.state.GraphUpdate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads an {@code update-graph} of distributed 2023.10 and later (distributed/client.py
 * _graph_to_futures, distributed/scheduler.py _materialize_graph) into a {@link GraphUpdate} without
 * running Python: the graph pickle is cut into one pickle per task by {@link GraphSlicer}, in the
 * task form of the client's line (a {@code (function, args, kwargs)} tuple for 2024.1, a
 * {@code dask._task_spec} node for 2024.12), and each becomes the task's {@code run_spec} as a
 * {@code __Pickled__} sub-object carrying the out-of-band buffers it uses (shared, not copied); a
 * {@code client.map} task's is written only when it is sent ({@link DeferredSubObject}).
 *
 * <p>The returned update owns one reference to each run-spec sub-object; the caller releases them
 * with {@link GraphUpdates#release} once the state has taken its own.
 */
public final class PickledGraph {
    private final GraphSlicer slicer = new GraphSlicer();
    private final PickleReader reader = new PickleReader();

    /**
     * The update of {@code msg}, whose graph it takes: once read, the message's graph pickle
     * ({@code graph_frames[0]}, a mutable list as decoded) is gone and a {@link KeyTable} of its keys
     * is empty. On an exception the message is untouched.
     */
    public GraphUpdate read(ClientToScheduler.UpdateGraph msg, Generation line, String client, double now,
                            String stimulusId) {
        List<Object> frames = msg.graphFrames();
        if (frames == null || frames.isEmpty() || !(frames.get(0) instanceof byte[] graph)) {
            throw new ProtocolException("update-graph without graph_frames");
        }
        SlicedGraph g = slicer.slice(graph, frames.size() - 1, line.taskForm() == Generation.TaskForm.CALL_TUPLE
                ? GraphSlicer.Form.CALL_TUPLES : GraphSlicer.Form.TASK_NODES);
        Map<String, Object> global = pickledDict(msg.annotations());
        List<Map<String, Object>> layerAnnotations = new ArrayList<>();
        for (SlicedGraph.Layer layer : g.layers()) {
            if (!layer.opaqueAnnotations().isEmpty()) {
                throw new UnsupportedGraphException("cloudviper cannot evaluate callable annotations "
                        + layer.opaqueAnnotations() + " of layer " + layer.name() + " (the Python scheduler would"
                        + " call them per key); annotate with plain values instead");
            }
            Map<String, Object> a = new LinkedHashMap<>(global);
            a.putAll(layer.annotations());
            layerAnnotations.add(a);
        }
        // The client's per-key order travels with each task, and the wanted keys become the tasks'
        // own key instances where the stream kept them as bytes (KeyTable).
        KeyTable table = msg.keys() instanceof KeyTable t ? t : null;
        Map<?, ?> p = msg.internalPriority();
        Map<Object, Long> order = null;
        if (p != null && (table == null || !table.ordersBy(p))) {
            order = new HashMap<>(p.size() * 4 / 3 + 1);
            for (Map.Entry<?, ?> e : p.entrySet()) {
                if (e.getValue() instanceof Number n) {
                    order.put(PickleValues.canonicalKey(e.getKey()), n.longValue());
                }
            }
        }
        Map<Integer, GraphUpdate.TaskOptions> optionsByLayer = new HashMap<>();
        // A deferred run spec keeps the out-of-band buffers, never the graph pickle (frame 0).
        List<Object> buffers = new ArrayList<>(frames);
        buffers.set(0, null);
        Function<TaskPickle.Written, SubObject> asSubObject = w -> runSpec(w, buffers);
        List<GraphUpdate.NewTask> tasks = new ArrayList<>(g.tasks().size());
        try {
            for (TaskSlice t : g.tasks()) {
                GraphUpdate.TaskOptions o = options(g.layers().get(t.layer()), t, layerAnnotations, optionsByLayer);
                long given = GraphUpdate.NewTask.NO_ORDER;
                if (table != null) {
                    int i = table.taskKey(t.key(), t.key());
                    if (order == null && p != null) {
                        given = table.orderOf(i, t.key(), given);
                    }
                }
                if (order != null) {
                    Long u = order.get(t.key());
                    given = u == null ? given : u;
                }
                Object spec = t.pickle().deferred() ? t.pickle().deferredSubObject(asSubObject)
                        : runSpec(t.pickle().write(), frames);
                tasks.add(new GraphUpdate.NewTask(t.key(), spec, t.dependencies(), o, given));
            }
        } catch (RuntimeException e) {
            release(tasks);
            throw e;
        }
        // The message's bulk goes before the state takes the update: the tasks hold what they use of
        // the pickle, the update the keys (a million-task client.map: ~100 MB of each graph's peak).
        frames.set(0, null);
        List<Object> keys;
        if (table != null) {
            keys = table.takeWanted(PickleValues::canonicalKey);
        } else {
            keys = new ArrayList<>(msg.keys().size());
            for (Object k : msg.keys()) {
                keys.add(PickleValues.canonicalKey(k));
            }
        }
        return new GraphUpdate(client, tasks, keys, p != null, now, HlgGraph.fifoTimeout(msg.fifoTimeout()),
                stimulusId);
    }

    private static void release(List<GraphUpdate.NewTask> tasks) {
        for (GraphUpdate.NewTask t : tasks) {
            if (t.spec() instanceof SubObject s && s.refCnt() > 0) {
                s.release();
            }
        }
    }

    /**
     * The options of one task: its layer's annotations over the graph's; a shuffle layer's own
     * {@code _key_priority} gives its split keys priority 1 and its other keys 0. Cached per layer
     * (and per split / not split).
     */
    private static GraphUpdate.TaskOptions options(SlicedGraph.Layer layer, TaskSlice t,
                                                   List<Map<String, Object>> layerAnnotations,
                                                   Map<Integer, GraphUpdate.TaskOptions> cache) {
        if (layer.splitName() == null) {
            return cache.computeIfAbsent(2 * t.layer(), l -> HlgGraph.options(layerAnnotations.get(t.layer())));
        }
        boolean split = t.key() instanceof List<?> k && !k.isEmpty() && layer.splitName().equals(k.get(0));
        return cache.computeIfAbsent(2 * t.layer() + (split ? 1 : 0), l -> {
            Map<String, Object> a = new LinkedHashMap<>(layerAnnotations.get(t.layer()));
            a.put("priority", split ? 1L : 0L);
            return HlgGraph.options(a);
        });
    }

    /** {@code {"__Pickled__": i}} sub-header: {pickled-obj, compression, num-sub-frames}. */
    private static SubObject runSpec(TaskPickle.Written t, List<Object> frames) {
        int k = t.bufferFrames().length;
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("pickled-obj", t.bytes());
        header.put("compression", Arrays.asList(new Object[k]));
        header.put("num-sub-frames", (long) k);
        List<ByteBuf> data = new ArrayList<>(k);
        for (int i : t.bufferFrames()) {
            if (!(frames.get(i) instanceof byte[] b)) {
                throw new ProtocolException("graph_frames[" + i + "] is not binary");
            }
            data.add(Unpooled.wrappedBuffer(b));
        }
        return new SubObject(SubObject.Kind.PICKLED, Unpooled.wrappedBuffer(MessageCodec.pack(header)), data);
    }

    /** The plain dict inside a {@code __Pickled__} field (e.g. update-graph's global annotations). */
    private Map<String, Object> pickledDict(Object field) {
        if (!(field instanceof SubObject s)) {
            return Map.of();
        }
        Object header = MessageCodec.decodeValue(s.header());
        if (!(header instanceof Map<?, ?> h) || !(h.get("pickled-obj") instanceof byte[] pickle)) {
            throw new ProtocolException("__Pickled__ header without pickled-obj");
        }
        Object v = PickleValues.toJava(reader.read(pickle, s.frames().size()).root());
        if (!(v instanceof Map<?, ?> m)) {
            return Map.of();
        }
        Map<String, Object> r = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            r.put(String.valueOf(e.getKey()), e.getValue());
        }
        return r;
    }
}
