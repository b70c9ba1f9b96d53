package org.cloudviper.protocol.pickle;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An update-graph graph cut into per-task pickles, in the order Python's scheduler would
 * materialize it ({@code ensure_dict}: layers in order, a later layer's key replaces an earlier
 * one; {@code convert_legacy_graph}: an Alias to its own key is dropped).
 *
 * @param tasks  one slice per key
 * @param layers the layers, for annotations (Python's scheduler applies a layer's annotations to
 *               every key of that layer)
 * @param buffersUsed out-of-band buffers the graph pickle itself consumes
 */
public record SlicedGraph(List<TaskSlice> tasks, List<Layer> layers, int buffersUsed) {

    public SlicedGraph {
        tasks = Collections.unmodifiableList(tasks);
        layers = Collections.unmodifiableList(layers);
    }

    /**
     * One HighLevelGraph layer.
     *
     * @param name              the layer name (String, or Long for the {@code id(dsk)} of submit/map)
     * @param className         e.g. {@code dask.highlevelgraph.MaterializedLayer}
     * @param keys              the keys of the layer, in order
     * @param annotations       plain annotations ({@code priority}, {@code retries}, {@code workers},
     *                          {@code resources}, ...) as Java values (see {@link PickleValues})
     * @param opaqueAnnotations names of annotations whose value is not plain data; in practice
     *                          callables that Python's scheduler calls once per key
     *                          ({@code dask.annotate(priority=lambda k: ...)}), which cloudviper cannot
     * @param splitName         for a shuffle layer whose priority annotation is its own
     *                          {@code _key_priority} (dask/layers.py SimpleShuffleLayer): priority 1
     *                          for the keys {@code (splitName, ...)}, 0 for its other keys; else null
     */
    public record Layer(Object name, String className, List<Object> keys, Map<String, Object> annotations,
                        Set<String> opaqueAnnotations, String splitName) {
        public Layer {
            keys = Collections.unmodifiableList(keys);
            annotations = Collections.unmodifiableMap(annotations);
            opaqueAnnotations = Collections.unmodifiableSet(opaqueAnnotations);
        }
    }

    /** Tasks by {@link PickleValues#canonicalKey canonical key}. */
    public Map<Object, TaskSlice> byCanonicalKey() {
        Map<Object, TaskSlice> m = new LinkedHashMap<>();
        for (TaskSlice t : tasks) {
            m.put(PickleValues.canonicalKey(t.key()), t);
        }
        return m;
    }
}
