package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.layers.Budget;
import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.LayerLimits;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Cuts the task graph of a Dask {@code update-graph} message (distributed 2023.10 and later) into
 * one self-contained pickle per task, without Python: the facade the scheduler calls. The
 * {@link Form} says what each pickle is, after the workers' line: a {@code dask._task_spec} node
 * (distributed 2024.12, described below) or a {@code (function, args, kwargs)} tuple (2023.10 to
 * 2024.7, whose clients send only legacy values; see {@link CallTuples}).
 *
 * <p>Input: {@code graph_frames[0]} (a pickle of {@code distributed.protocol.serialize.ToPickle}
 * whose {@code data} is a {@code dask.highlevelgraph.HighLevelGraph}) and the number of further
 * frames (protocol-5 out-of-band buffers). The walk follows {@code ToPickle.data ->
 * HighLevelGraph.layers -> layer}; supported layers:
 * <ul>
 *   <li>{@code dask.highlevelgraph.MaterializedLayer}: each {@code mapping} value is either a
 *       GraphNode ({@code dask._task_spec} Task, Alias, DataNode, List/Tuple/Set/Dict, subclasses),
 *       whose bytes are cut out as they are and whose {@code _dependencies} are read, or a legacy
 *       value (tuple task, key reference, data), converted on unpickling by dask's own
 *       {@code convert_legacy_graph} with the dependencies computed here ({@link LegacyTasks});</li>
 *   <li>{@code distributed.client._MapLayer} (client.map): each key becomes
 *       {@code Task(key, func, *args_i, **kwargs)}, assembled from the spans of func, the i-th
 *       element of every iterable and the kwargs dict, exactly as {@code _MapLayer._construct_graph}
 *       builds it on Python's scheduler (keyword arguments Dask would move into a DataNode are
 *       refused).</li>
 *   <li>the layers Dask's scheduler materializes by running their code ({@link PickledLayers}):
 *       {@code Blockwise}, {@code DataFrameIOLayer}, {@code DataFrameTreeReduction}, the task-based
 *       shuffle layers, {@code BroadcastJoinLayer}, {@code ArrayOverlapLayer}; one that the client
 *       already materialized ({@code _cached_dict}) is read like a MaterializedLayer.</li>
 * </ul>
 * Any other layer class needs Python to materialize and is refused with an
 * {@link UnsupportedGraphException}, as is a layer that would expand beyond {@link LayerLimits}.
 *
 * <p>Cost: linear in the pickle plus the slices written; a 100,000-task graph takes well under a
 * second. Thread-safe (each call has its own state).
 */
public final class GraphSlicer {
    static final String TO_PICKLE = "distributed.protocol.serialize";
    static final String HLG = "dask.highlevelgraph";

    /** What each task's pickle is. */
    public enum Form {
        /** A {@code dask._task_spec} node, as distributed 2024.12's scheduler holds it. */
        TASK_NODES,
        /** A {@code (function, args, kwargs)} tuple, as distributed 2023.10 to 2024.7's scheduler sends it. */
        CALL_TUPLES
    }

    private final PickleReader reader;
    private final LayerLimits layerLimits;
    /** Tests turn it off to compare the compact form of client.map tasks with the full one. */
    boolean compactMapLayers = true;

    public GraphSlicer() {
        this(PickleLimits.DEFAULT, LayerLimits.DEFAULT);
    }

    public GraphSlicer(PickleLimits limits) {
        this(limits, LayerLimits.DEFAULT);
    }

    public GraphSlicer(PickleLimits limits, LayerLimits layerLimits) {
        this.reader = new PickleReader(limits);
        this.layerLimits = layerLimits;
    }

    /**
     * @param graphPickle      {@code graph_frames[0]}; not copied, must not change while slicing
     * @param outOfBandBuffers {@code graph_frames.length - 1}
     * @throws UnsupportedGraphException for a graph that needs Python (the message says why and
     *                                   what the user can do)
     * @throws PickleException           for anything malformed or beyond the limits
     */
    public SlicedGraph slice(byte[] graphPickle, int outOfBandBuffers) {
        return slice(graphPickle, outOfBandBuffers, Form.TASK_NODES);
    }

    /** As {@link #slice(byte[], int)}, each task's pickle in {@code form}. */
    public SlicedGraph slice(byte[] graphPickle, int outOfBandBuffers, Form form) {
        ParsedPickle p = reader.read(graphPickle, outOfBandBuffers);
        try {
            return new Walk(p, form, new Budget(layerLimits), compactMapLayers).run();
        } catch (PickleException e) {
            throw e;
        } catch (LayerException e) {
            throw new UnsupportedGraphException(e.getMessage());
        } catch (RuntimeException e) {
            throw new PickleException("graph pickle: internal error while slicing (please report): " + e, e);
        }
    }

    /** One layer's key and where its node comes from. */
    private static final class Entry {
        final Object key;
        /** The value id of the key as the dict of its first layer holds it (0 for a client.map key). */
        int keyId;
        PickleValue node;
        MapLayerTasks map;
        PickledLayers.Generated generated;
        int index;
        int layer;

        Entry(Object key) {
            this.key = key;
        }
    }

    private static final class Walk {
        final ParsedPickle p;
        final Form form;
        final SliceEmitter em;
        final PickleWriter w;
        final Map<Object, Entry> entries = new LinkedHashMap<>();
        final List<SlicedGraph.Layer> layers = new ArrayList<>();
        final Budget budget;
        /** The client.map layers read, each with whether any of its tasks has dependencies. */
        final Map<MapLayerTasks, Boolean> mapLayers = new IdentityHashMap<>();
        final boolean compactMapLayers;
        /** Whether the layer being read is the graph's only one (no nested graph either). */
        boolean soleLayer;
        /**
         * The graph's only layer when it is a client.map layer: its keys are read into
         * {@link #soleMapKeys}, not {@link #entries} (an entry per key is 80 bytes a task).
         */
        MapLayerTasks soleMap;
        List<Object> soleMapKeys;
        int soleMapLayer;

        Walk(ParsedPickle p, Form form, Budget budget, boolean compactMapLayers) {
            this.compactMapLayers = compactMapLayers;
            this.p = p;
            this.form = form;
            this.em = new SliceEmitter(p);
            this.w = em.w;
            this.budget = budget;
        }

        SlicedGraph run() {
            TaskSpec.Obj root = TaskSpec.object(p.root());
            PickleValue graph = p.root();
            if (root != null && root.is(TO_PICKLE, "ToPickle")) {
                graph = root.attr("data");
                if (graph == null) {
                    throw new PickleException("graph pickle: ToPickle without 'data'");
                }
            }
            TaskSpec.Obj hlg = TaskSpec.object(graph);
            if (hlg == null || !hlg.is(HLG, "HighLevelGraph")) {
                throw new PickleException("graph pickle: expected a dask.highlevelgraph.HighLevelGraph, got "
                        + graph.resolve().describe());
            }
            PickleValue layersV = hlg.attr("layers");
            if (layersV == null || !(layersV.resolve() instanceof PickleValue.PyDict layerDict)) {
                throw new PickleException("graph pickle: HighLevelGraph without a 'layers' dict");
            }
            refuseP2pTasks();
            soleLayer = layerDict.size() == 1;
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < layerDict.size(); i++) {
                Object name = PickleValues.toKey(layerDict.key(i));
                PickleValue layer = layerDict.value(i).resolve();
                if (!seen.add(layer.id())) {
                    continue; // dask.utils.ensure_dict skips a layer object seen before
                }
                readLayer(name, layer);
            }
            if (form == Form.CALL_TUPLES) {
                return callTuples();
            }
            if (soleMap != null) {
                return soleMapTasks();
            }
            LegacyTasks legacy = null;
            LegacySlices layerTasks = null;
            List<TaskSlice> out = new ArrayList<>(entries.size());
            for (Entry e : entries.values()) {
                TaskSlice t;
                if (e.generated instanceof PickledLayers.Block b) {
                    t = b.layer().slice(em, e.key, b.args(), e.layer);
                } else if (e.generated instanceof PickledLayers.Legacy l) {
                    if (legacy == null) {
                        legacy = new LegacyTasks(p, keyIndex());
                    }
                    if (layerTasks == null) {
                        layerTasks = new LegacySlices(em, legacy);
                    }
                    t = layerTasks.slice(e.key, l.task(), e.layer);
                } else if (e.map != null) {
                    t = mapTask(e);
                } else {
                    PickleValue u = e.node.resolve();
                    TaskSpec.Obj o = TaskSpec.object(u);
                    int deps = TaskSpec.dependencies(o);
                    if (deps != 0) {
                        if (o.is(TaskSpec.TASK_SPEC, "Alias") && o.attr("target") != null
                                && PickleValues.canonicalKey(PickleValues.toKey(o.attr("target")))
                                .equals(PickleValues.canonicalKey(e.key))) {
                            continue; // convert_legacy_graph drops an Alias to itself
                        }
                        t = node(e, u, deps);
                    } else {
                        if (legacy == null) {
                            legacy = new LegacyTasks(p, keyIndex());
                        }
                        t = legacy(e, u, legacy);
                        if (t == null) {
                            continue;
                        }
                    }
                }
                out.add(t);
            }
            return sliced(out);
        }

        /** The graph of {@code tasks}, its client.map layers made compact where they can be. */
        private SlicedGraph sliced(List<TaskSlice> tasks) {
            if (compactMapLayers) {
                for (Map.Entry<MapLayerTasks, Boolean> m : mapLayers.entrySet()) {
                    if (!m.getValue()) { // a dependency comes from an argument the compact form does not write
                        m.getKey().compact();
                    }
                }
            }
            return new SlicedGraph(tasks, layers, p.buffersUsed);
        }

        /**
         * The tasks of a graph that is one client.map layer, as the entries would give them: a key
         * named twice keeps its first position and takes its last task (dict.update).
         */
        private SlicedGraph soleMapTasks() {
            List<Object> keys = soleMapKeys;
            int[][] positions = MapLayerTasks.dictPositions(keys);
            int[] first = positions[0];
            int[] last = positions[1];
            int unique = first.length;
            List<TaskSlice> out = new ArrayList<>(unique);
            for (int u = 0; u < unique; u++) {
                out.add(mapTask(soleMap, last[u], keys.get(first[u]), soleMapLayer));
            }
            return sliced(out);
        }

        /** Every task as distributed 2023.10 to 2024.7 sends it, from the legacy values of such a client. */
        private SlicedGraph callTuples() {
            CallTuples tuples = null;
            List<TaskSlice> out = new ArrayList<>(entries.size());
            for (Entry e : entries.values()) {
                if (e.map != null) {
                    throw new UnsupportedGraphException("graph layer " + layers.get(e.layer).name() + " is a"
                            + " client.map layer (distributed.client._MapLayer), which clients send from distributed"
                            + " 2024.7.1 on: a peer of the distributed 2023.10 to 2024.7 line cannot have sent it");
                }
                TaskSpec.Obj o = TaskSpec.object(e.node.resolve());
                if (TaskSpec.dependencies(o) != 0) {
                    throw new UnsupportedGraphException("task " + e.key + " is a " + o.className() + " node, which"
                            + " clients send from distributed 2024.11 on: the workers of the distributed 2023.10 to"
                            + " 2024.7 line cannot read it");
                }
                if (tuples == null) {
                    tuples = new CallTuples(p, keyIndex(), em);
                }
                TaskSlice t = tuples.slice(e.key, e.keyId, e.node.id, e.layer);
                if (t != null) {
                    out.add(t);
                }
            }
            return new SlicedGraph(out, layers, p.buffersUsed);
        }

        private Map<Object, Object> keyIndex() {
            Map<Object, Object> m = new LinkedHashMap<>(entries.size() * 2);
            for (Map.Entry<Object, Entry> e : entries.entrySet()) {
                m.put(e.getKey(), e.getValue().key);
            }
            return m;
        }

        private void readLayer(Object name, PickleValue layer) {
            TaskSpec.Obj o = layerObject(name, layer);
            int index = layers.size();
            List<Object> keys = new ArrayList<>();
            String splitName = readKeys(name, o, index, keys);
            Map<String, Object> annotations = new LinkedHashMap<>();
            Set<String> opaque = new LinkedHashSet<>();
            PickleValue a = o.attr("annotations");
            if (a != null && a.resolve() instanceof PickleValue.PyDict ad) {
                for (int i = 0; i < ad.size(); i++) {
                    if (!(ad.key(i).resolve() instanceof PickleValue.Str k)) {
                        throw new PickleException("graph layer " + name + ": annotation name is "
                                + ad.key(i).resolve().describe());
                    }
                    try {
                        annotations.put(k.value(), PickleValues.toJava(ad.value(i)));
                    } catch (PickleException notPlain) {
                        opaque.add(k.value());
                    }
                }
            }
            if (splitName != null) {
                opaque.remove("priority"); // the layer's own _key_priority, applied per key by the reader
            }
            layers.add(new SlicedGraph.Layer(name, o.className(), keys, annotations, opaque, splitName));
        }

        /**
         * Reads the keys of layer object {@code o} into {@link #entries} as layer {@code index}.
         *
         * @return the shuffle split name when the layer's priority is its own {@code _key_priority}
         */
        private String readKeys(Object name, TaskSpec.Obj o, int index, List<Object> keys) {
            PickleValue cached = o.attr("_cached_dict");
            boolean expands = PickledLayers.expands(o);
            if (o.is(HLG, "MaterializedLayer") || (cached != null && (expands || o.is("distributed.client", "_MapLayer")))) {
                PickleValue mapping = o.is(HLG, "MaterializedLayer") ? o.attr("mapping") : cached;
                if (mapping != null && expands && o.attr("task") != null
                        && mapping.resolve() instanceof PickleValue.PyDict c) {
                    mapping = c.get("dsk"); // Blockwise caches {"dsk": dsk}
                }
                TaskSpec.Obj nested = mapping == null ? null : TaskSpec.object(mapping);
                if (nested != null && nested.is(HLG, "HighLevelGraph")) {
                    readNested(name, nested, index, keys);
                    return null;
                }
                if (mapping == null || !(mapping.resolve() instanceof PickleValue.PyDict d)) {
                    throw new UnsupportedGraphException("graph layer " + name + " (" + o.className()
                            + ") has no plain dict mapping");
                }
                for (int i = 0; i < d.size(); i++) {
                    Object key = PickleValues.toKey(d.key(i));
                    keys.add(key);
                    Entry e = entry(key);
                    if (e.keyId == 0) {
                        e.keyId = d.key(i).id;
                    }
                    e.node = d.value(i);
                    e.map = null;
                    e.generated = null;
                    e.layer = index;
                }
                return PickledLayers.splitName(name, o);
            }
            if (o.is("distributed.client", "_MapLayer")) {
                MapLayerTasks m = new MapLayerTasks(name, o, p, em);
                if (soleLayer && form == Form.TASK_NODES) {
                    for (int i = 0; i < m.size(); i++) {
                        keys.add(m.key(i));
                    }
                    soleMap = m;
                    soleMapKeys = keys;
                    soleMapLayer = index;
                    return null;
                }
                for (int i = 0; i < m.size(); i++) {
                    Object key = m.key(i);
                    keys.add(key);
                    Entry e = entry(key);
                    e.node = null;
                    e.map = m;
                    e.generated = null;
                    e.index = i;
                    e.layer = index;
                }
                return null;
            }
            if (!expands) {
                throw PickledLayers.unsupported(name, o);
            }
            if (form == Form.CALL_TUPLES) {
                // PickledLayers reads the layer classes of dask 2024.12 and writes Task nodes.
                throw new UnsupportedGraphException("graph layer " + name + " is a " + o.className() + " that is"
                        + " not materialized: cloudviper expands such layers for clients of the distributed 2024.12"
                        + " line only; from a client of the 2023.10 to 2024.7 line it takes materialized graphs"
                        + " (compute with optimize_graph=True, the default, or materialize the layer on the"
                        + " client: a MaterializedLayer of dict(layer))");
            }
            try {
                return PickledLayers.expand(name, o, budget, (key, g) -> {
                    keys.add(key);
                    Entry e = entry(key);
                    e.node = null;
                    e.map = null;
                    e.generated = g;
                    e.layer = index;
                });
            } catch (LayerException e) {
                throw new UnsupportedGraphException(e.getMessage());
            }
        }

        /**
         * A P2P layer the client already materialized (array optimization materializes every
         * layer) leaves tasks that need the Python scheduler's shuffle extension; its barrier task,
         * a {@code distributed.shuffle._core.P2PBarrierTask}, marks it. Refused as the layer would
         * be, instead of workers failing without a P2P plugin.
         */
        private void refuseP2pTasks() {
            for (int id = 1; id <= p.valueCount(); id++) {
                int k = p.kind(id);
                if ((k == ParsedPickle.K_GLOBAL || k == ParsedPickle.K_GLOBAL_TEXT)
                        && new PickleValue.Global(p, id).is("distributed.shuffle._core", "P2PBarrierTask")) {
                    throw PickledLayers.p2p("the graph holds P2P tasks (distributed.shuffle._core.P2PBarrierTask)");
                }
            }
        }

        /** A layer object, or the refusal of a value that is none (such as a class of the client's). */
        private TaskSpec.Obj layerObject(Object name, PickleValue layer) {
            TaskSpec.Obj o = TaskSpec.object(layer);
            if (o == null) {
                String byValue = byValueClass(layer);
                if (byValue != null) {
                    throw PickledLayers.unsupported(name, "a " + byValue + " (a class of the client's own script)");
                }
                throw new UnsupportedGraphException("graph layer " + name + " is " + layer.describe()
                        + ", not a Layer object cloudviper can read");
            }
            return o;
        }

        /**
         * A MaterializedLayer whose mapping is itself a HighLevelGraph ({@code to_delayed} of a
         * dataframe or bag, {@code HighLevelGraph.from_collections(name, graph)}): Dask's scheduler
         * iterates it with {@code ensure_dict}, so its layers are read in order, each layer object
         * once, as keys of the outer layer, whose annotations alone apply (the inner layers' are
         * not in {@code graph.layers}, distributed/scheduler.py _materialize_graph).
         */
        private void readNested(Object name, TaskSpec.Obj hlg, int index, List<Object> keys) {
            soleLayer = false;
            PickleValue layersV = hlg.attr("layers");
            if (layersV == null || !(layersV.resolve() instanceof PickleValue.PyDict inner)) {
                throw new PickleException("graph layer " + name + ": nested HighLevelGraph without a 'layers' dict");
            }
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < inner.size(); i++) {
                Object innerName = PickleValues.toKey(inner.key(i));
                PickleValue layer = inner.value(i).resolve();
                if (seen.add(layer.id())) {
                    readKeys(innerName, layerObject(innerName, layer), index, keys);
                }
            }
        }

        /**
         * The name of the class of {@code v} when cloudpickle pickled that class by value (defined
         * in the client's {@code __main__}): {@code _make_skeleton_class(type, name, ...)}; else null.
         */
        private String byValueClass(PickleValue v) {
            PickleValue obj = unbuilt(v);
            if (!(obj instanceof PickleValue.NewObj n)) {
                return null;
            }
            PickleValue cls = unbuilt(n.cls());
            if (cls instanceof PickleValue.Reduce red && red.callee().resolve() instanceof PickleValue.Global g
                    && g.name().equals("_make_skeleton_class") && red.args().resolve() instanceof PickleValue.Tuple t
                    && t.size() > 1 && t.get(1).resolve() instanceof PickleValue.Str s) {
                return s.value();
            }
            return null;
        }

        /** The object a chain of BUILDs (and memo references) completes. */
        private static PickleValue unbuilt(PickleValue v) {
            PickleValue r = v;
            for (int i = 0; i < 64; i++) {
                if (r instanceof PickleValue.Ref ref) {
                    r = ref.target();
                } else if (r instanceof PickleValue.Build b) {
                    r = b.obj();
                } else {
                    return r;
                }
            }
            return r;
        }

        /** dict.update semantics: a repeated key keeps its first key object and position. */
        private Entry entry(Object key) {
            return entries.computeIfAbsent(PickleValues.canonicalKey(key), k -> new Entry(key));
        }

        private TaskSlice node(Entry e, PickleValue u, int deps) {
            em.begin();
            em.prefix(u);
            em.body(u);
            byte[] bytes = em.finish();
            return new TaskSlice(e.key, dependencyList(deps), bytes, frames(em.buffers()), TaskSlice.Kind.NODE,
                    e.layer);
        }

        private TaskSlice mapTask(Entry e) {
            return mapTask(e.map, e.index, e.key, e.layer);
        }

        /** Task.__init__: _dependencies = union of the GraphNode arguments' dependencies. */
        private TaskSlice mapTask(MapLayerTasks m, int index, Object key, int layer) {
            Set<Object> deps = null;
            for (int j = 0; j < m.argumentCount(); j++) {
                deps = addNodeDeps(deps, m.argument(j, index));
            }
            if (m.kwargs() != null) {
                for (int k = 0; k < m.kwargs().size(); k++) {
                    deps = addNodeDeps(deps, m.kwargs().value(k));
                }
            }
            // one immutable list for the slice and its pickle (the state only reads it)
            List<Object> own = deps == null ? List.of() : List.copyOf(deps);
            mapLayers.merge(m, deps != null, Boolean::logicalOr);
            return new TaskSlice(key, own, m.task(index, key, own), TaskSlice.Kind.MAP_TASK, layer);
        }

        private Set<Object> addNodeDeps(Set<Object> deps, PickleValue arg) {
            int d = TaskSpec.dependencies(TaskSpec.object(arg));
            if (d != 0) {
                for (Object k : dependencyList(d)) {
                    if (deps == null) {
                        deps = new LinkedHashSet<>();
                    }
                    deps.add(k);
                }
            }
            return deps;
        }

        private List<Object> dependencyList(int deps) {
            if (deps == TaskSpec.NO_DEPENDENCIES) {
                return new ArrayList<>(0);
            }
            int d = p.resolve(deps);
            if (p.kind(d) != ParsedPickle.K_FROZENSET && p.kind(d) != ParsedPickle.K_SET) {
                throw new PickleException("_dependencies is " + p.value(d).describe() + ", expected a frozenset");
            }
            int n = p.childCount(d);
            List<Object> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Object k = PickleValues.toKey(p, p.child(d, i), 0);
                Entry known = entries.get(PickleValues.canonicalKey(k));
                out.add(known != null ? known.key : k);
            }
            return out;
        }

        /** {@code operator.getitem(convert_legacy_graph({key: task}, frozenset(all_keys)), key)}. */
        private TaskSlice legacy(Entry e, PickleValue u, LegacyTasks legacy) {
            LegacyTasks.Converted c = legacy.convert(e.key, u.id());
            if (c.aliasToItself()) {
                return null;
            }
            em.begin();
            em.prefix(u);
            w.global("operator", "getitem");
            w.global(TaskSpec.TASK_SPEC, "convert_legacy_graph");
            w.emptyDict();
            w.value(e.key);
            em.body(u);
            w.setItem();
            w.frozenset(c.allKeys());
            w.tupleEnd(2).reduce();
            w.value(e.key);
            w.tupleEnd(2).reduce();
            byte[] bytes = em.finish();
            return new TaskSlice(e.key, c.dependencies(), bytes, frames(em.buffers()),
                    TaskSlice.Kind.LEGACY, e.layer);
        }

        private static int[] frames(int[] buffers) {
            for (int i = 0; i < buffers.length; i++) {
                buffers[i]++;
            }
            return buffers;
        }
    }
}
