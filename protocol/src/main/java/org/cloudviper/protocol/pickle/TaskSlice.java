package org.cloudviper.protocol.pickle;

import java.util.Arrays;
import java.util.List;

/**
 * One task of a sliced graph: what a worker needs in compute-task as
 * {@code run_spec: {"__Pickled__": i}} plus what the scheduler needs to place it.
 *
 * @param key          the key as the graph holds it (String, Long/BigInteger, Double, byte[] or a
 *                     List for a tuple; see {@link PickleValues})
 * @param dependencies keys this task needs, the graph's own key objects where the key is part of
 *                     the graph, else the canonical form ({@link PickleValues#canonicalKey}) of a
 *                     key that must already exist (a Future); in the node's order
 * @param pickle       a protocol-5 pickle that unpickles to exactly what Python's scheduler holds
 *                     for this key (a {@code dask._task_spec} GraphNode, or for
 *                     {@link Kind#CALL_TUPLE} a {@code (function, args, kwargs)} tuple), with the
 *                     out-of-band buffers it consumes as indexes into the update-graph
 *                     {@code graph_frames}; send them as the sub-object's frames
 *                     ({@code num-sub-frames}). Deferred for {@link Kind#MAP_TASK}.
 * @param kind         how the slice was made
 * @param layer        index into {@link SlicedGraph#layers()} of the layer the key came from
 */
public record TaskSlice(Object key, List<Object> dependencies, TaskPickle pickle, Kind kind, int layer) {

    /** A slice whose pickle is written already. */
    public TaskSlice(Object key, List<Object> dependencies, byte[] runSpec, int[] bufferFrames, Kind kind, int layer) {
        this(key, dependencies, new TaskPickle.Written(runSpec, bufferFrames), kind, layer);
    }

    /** The pickle's bytes (written anew if deferred). */
    public byte[] runSpec() {
        return pickle.write().bytes();
    }

    /** The out-of-band buffers of {@link #runSpec()}, as indexes into {@code graph_frames}. */
    public int[] bufferFrames() {
        return pickle.write().bufferFrames();
    }

    public enum Kind {
        /** A GraphNode of the graph (Task, Alias, DataNode, containers), cut out as it is. */
        NODE,
        /** A {@code Task(key, func, *args, **kwargs)} of a client.map layer, assembled from its parts. */
        MAP_TASK,
        /** A legacy tuple task or raw value, converted on unpickling by dask's convert_legacy_graph. */
        LEGACY,
        /**
         * A legacy value as a distributed 2023.10 to 2024.7 worker runs it: a pickled
         * {@code (function, args, kwargs)} ({@link GraphSlicer.Form#CALL_TUPLES}).
         */
        CALL_TUPLE,
        /**
         * A task of an expanded layer whose {@code _construct_graph} builds legacy tasks (tree
         * reduction, shuffle, broadcast join, array overlap), converted like {@link #LEGACY}.
         */
        LAYER_TASK,
        /** A block of an expanded Blockwise layer: its task template with the block's inputs substituted. */
        BLOCKWISE
    }

    @Override
    public String toString() {
        TaskPickle.Written w = pickle.write();
        return "TaskSlice[" + key + " " + kind + " deps=" + dependencies + " " + w.bytes().length + " bytes"
                + (w.bufferFrames().length == 0 ? "" : " buffers=" + Arrays.toString(w.bufferFrames())) + "]";
    }
}
