package org.cloudviper.scheduler.interop;

import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Stock Dask collections computed through the scheduler under test give the results they give locally. */
@DaskInterop
class ComputeInteropTest {

    /** Test 1: {@code submit(inc, 1)} and a 1,000-task {@code map} + {@code gather}. */
    @InteropTest(withDask2024_1 = true)
    void submitAndMap(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 1, 1, false);

        ScriptResult r = peers.runClient("submit_map.py", scheduler.address());

        assertAll(
                () -> assertEquals(2L, r.partLong("submit")),
                () -> assertEquals(LongStream.rangeClosed(1, 1000).boxed().toList(), r.partList("map")));
    }

    /**
     * Graphs whose update-graph frame 0 is over 1 MiB, which the scheduler reads while it arrives
     * ({@code GraphStream}): 30,000 mapped tasks, then 30,000 depending on them.
     */
    @InteropTest
    void graphsReadWhileTheyArrive(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 1, 1, false);

        ScriptResult r = peers.runClient("large_map.py", scheduler.address());

        assertEquals(30_000L * 30_000L, r.partLong("sum")); // sum of (i + 1) + i for i < 30,000
    }

    /**
     * Tuple keys, futures as arguments, a large numpy argument embedded in the graph and a closure:
     * the graph features a 2024 pickled graph carries as Alias nodes, out-of-band buffers and
     * cloudpickled code.
     */
    @InteropTest(withDask2024_1 = true)
    void graphShapes(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 1, 1, false);

        ScriptResult r = peers.runClient("graph_shapes.py", scheduler.address());

        assertAll(
                () -> assertEquals(Map.of("value", 3L, "key", "('x', 0, 1)"), r.partMap("tuple_key")),
                () -> assertEquals(31L, r.partLong("future_args")),
                () -> assertEquals(199_999.0 * 200_000 / 2, ((Number) r.part("big_array")).doubleValue()),
                () -> assertEquals(42L, r.partLong("closure")));
    }

    /** Test 2: a layered {@code dask.delayed} graph of 1,000 tasks with shared dependencies. */
    @InteropTest(withDask2024_1 = true)
    void delayedGraphMatchesLocalCompute(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 1, 1, false);

        ScriptResult r = peers.runClient("delayed_graph.py", scheduler.address());

        assertEquals(1000L, r.getLong("tasks"), "tasks in the graph");
        List<Object> expected = r.getList("expected");
        assertEquals(50, expected.size());
        assertEquals(expected, r.partList("distributed"));
    }

    /**
     * Test 3: a seeded {@code dask.array} expression against numpy, and a {@code dask.bag} fold. The
     * worker runs under a nanny here, as {@code dask worker} does by default.
     */
    @InteropTest(withDask2024_1 = true)
    void arrayAndBag(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 1, 1, true);

        ScriptResult r = peers.runClient("array_bag.py", scheduler.address());

        assertAll(
                () -> {
                    Map<String, Object> a = r.partMap("array");
                    double got = ((Number) a.get("dask")).doubleValue();
                    double want = ((Number) a.get("numpy")).doubleValue();
                    assertEquals(List.of(2000L, 2000L), a.get("shape"));
                    assertEquals(64L, a.get("chunks"));
                    assertTrue(Math.abs(got - want) <= 1e-9 * Math.abs(want),
                            "dask " + got + " vs numpy " + want);
                    // The mean of x + x.T over uniform [0, 1) samples: a sanity check on the data itself.
                    assertEquals(1.0, got, 0.01);
                },
                () -> assertEquals(499_500L, r.partLong("bag")));
    }
}
