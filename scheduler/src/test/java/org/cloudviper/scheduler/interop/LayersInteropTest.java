package org.cloudviper.scheduler.interop;

import org.cloudviper.testkit.DaskGeneration;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * dask.dataframe and dask.array as a user computes them, with stock Python workers: the client
 * sends layers Dask's scheduler expands by running dask code (Blockwise, DataFrameIOLayer, tree
 * reductions, shuffles, broadcast joins, overlaps), which the scheduler under test expands itself.
 * Each result is compared with pandas / numpy / plain Python computed locally by the client script.
 * A P2P shuffle or rechunk (the Python scheduler's shuffle extension) is refused with an error that
 * names the layer class and the task-based way around it.
 */
@DaskInterop
class LayersInteropTest {

    @InteropTest
    void dataframes(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 2, 1, false);

        String scratch = peers.inPython(peers.scratchDir("dataframes"));
        ScriptResult r = peers.runClient("dataframes.py", scheduler.address(), scratch, "basic");
        ScriptResult optimized = peers.runClient("dataframes.py", scheduler.address(), scratch, "optimized");
        ScriptResult unoptimized = peers.runClient("dataframes.py", scheduler.address(), scratch, "unoptimized");

        assertAll(equalParts(r, List.of("from_pandas", "read_csv", "groupby_agg", "groupby_split_out", "merge_hash",
                "merge_broadcast", "set_index", "shuffle", "shuffle_stages", "unoptimized")));
        assertAll(equalParts(optimized, DATAFRAME_OPERATIONS));
        assertAll(equalParts(unoptimized, unoptimized(DATAFRAME_OPERATIONS)));
        if (peers.dask() == DaskGeneration.DASK_2022 && scheduler.isCloudviper()) {
            // (2024.12.1's client refuses a P2P shuffle itself without pyarrow, which its root lacks)
            assertRefused(r.partMap("p2p_refused"), "distributed.shuffle._shuffle.P2PShuffleLayer");
        }
    }

    /** What dataframes.py runs optimized and, as NAME_unopt, not (operations()). */
    static final List<String> DATAFRAME_OPERATIONS = List.of("map_partitions", "rolling", "repartition", "sort_values",
            "drop_duplicates", "nunique", "value_counts", "quantile", "describe", "join_index", "concat", "merge_index",
            "groupby_apply", "from_dask_array", "cumsum", "to_csv");

    /** What array_layers.py runs optimized and, as NAME_unopt, not (operations()). */
    static final List<String> ARRAY_OPERATIONS = List.of("random", "slicing", "fancy_index", "concat_stack", "reshape",
            "cumsum", "tensordot", "einsum", "argmax_topk", "where", "map_blocks_new_axis", "blockwise_concatenate",
            "apply_gufunc", "histogram", "unique", "percentile", "rechunk_many", "overlap_periodic", "tsqr", "coarsen");

    @InteropTest
    void bags(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 2, 1, false);

        ScriptResult r = peers.runClient("bags.py", scheduler.address(), peers.inPython(peers.scratchDir("bags")));

        assertAll(equalParts(r, List.of("map_filter_unoptimized", "pluck_frequencies", "flatten_distinct", "foldby",
                "groupby_tasks", "read_text", "to_dataframe", "topk")));
    }

    @InteropTest
    void arrays(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 2, 1, false);

        ScriptResult r = peers.runClient("array_layers.py", scheduler.address(), "basic");
        ScriptResult optimized = peers.runClient("array_layers.py", scheduler.address(), "optimized");
        ScriptResult unoptimized = peers.runClient("array_layers.py", scheduler.address(), "unoptimized");

        assertAll(equalParts(r, List.of("elementwise", "reduction", "matmul", "drop_axis",
                "map_overlap_optimized", "rechunk", "block_info")));
        assertAll(equalParts(optimized, ARRAY_OPERATIONS));
        List<String> unoptimizedParts = unoptimized(ARRAY_OPERATIONS);
        if (!scheduler.isCloudviper() && peers.dask() == DaskGeneration.DASK_2022) {
            // the ArrayOverlapLayer bug of Dask 2022.12.1's own scheduler (see map_overlap below)
            unoptimizedParts = unoptimizedParts.stream().filter(p -> !p.equals("overlap_periodic_unopt")).toList();
            assertThrows(AssertionError.class, () -> unoptimized.part("overlap_periodic_unopt"));
        }
        assertAll(equalParts(unoptimized, unoptimizedParts));
        if (peers.dask() != DaskGeneration.DASK_2022 && scheduler.isCloudviper()) { // 2022.12.1 has no P2P rechunk
            // optimized, the client materializes the layer: its P2P barrier task is what is refused
            assertRefused(r.partMap("p2p_refused"), "distributed.shuffle._core.P2PBarrierTask");
            // unoptimized, the layer arrives whole, unless the client materialized it before pickling
            // (its cached dict is pickled with it): then the barrier task is what is refused
            Map<String, Object> unopt = r.partMap("p2p_refused_unopt");
            assertRefused(unopt, String.valueOf(unopt.get("text")).contains("P2PBarrierTask")
                    ? "distributed.shuffle._core.P2PBarrierTask" : "distributed.shuffle._rechunk.P2PRechunkLayer");
        }
        if (scheduler.isCloudviper() || peers.dask() != DaskGeneration.DASK_2022) {
            assertAll(equalParts(r, List.of("map_overlap")));
        } else {
            // Dask 2022.12.1's own scheduler calls ArrayOverlapLayer.__dask_distributed_unpack__ with
            // arguments it does not take (a TypeError on the scheduler): the client's keys are lost.
            assertThrows(AssertionError.class, () -> r.part("map_overlap"));
        }
    }

    private static List<String> unoptimized(List<String> operations) {
        return operations.stream().map(o -> o + "_unopt").toList();
    }

    /** A {@code raised(...)} part: an error naming {@code what} and the task-based way around it. */
    private static void assertRefused(Map<String, Object> raised, String what) {
        String text = String.valueOf(raised.get("text"));
        assertTrue(text.contains(what) && text.contains("P2P") && text.contains("tasks"),
                "the refusal should name " + what + " and the task-based method: " + raised);
    }

    static org.junit.jupiter.api.function.Executable[] equalParts(ScriptResult r, List<String> parts) {
        return parts.stream().<org.junit.jupiter.api.function.Executable>map(p -> () -> {
            Map<String, Object> v = r.partMap(p);
            assertEquals(Boolean.TRUE, v.get("equal"), p + ": " + v);
        }).toArray(org.junit.jupiter.api.function.Executable[]::new);
    }
}
