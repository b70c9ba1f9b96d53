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

/** Test 5: scatter, cancel, published datasets and stories, as a stock Client uses them. */
@DaskInterop
class ClientOpsInteropTest {

    /**
     * The worker has 2 threads: a cancelled task that already runs keeps its thread until
     * {@code time.sleep(60)} returns (Python cannot interrupt it), and the tasks submitted after the
     * cancel need the other one.
     */
    @InteropTest(withDask2024_1 = true)
    void scatterCancelPublish(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 1, 2, false);

        ScriptResult r = peers.runClient("client_ops.py", scheduler.address(),
                peers.inPython(peers.scratchDir("scratch")));

        assertAll(
                () -> {
                    Map<String, Object> s = r.partMap("scatter");
                    assertEquals(42L, s.get("inc"), "submit(inc, scattered 41)");
                    assertEquals(6L, s.get("sum"), "submit(sum, scattered [1, 2, 3])");
                },
                () -> {
                    Map<String, Object> c = r.partMap("cancel");
                    assertEquals("cancelled", c.get("status"));
                    assertEquals(true, c.get("cancelled"));
                    double seconds = ((Number) c.get("cancel_seconds")).doubleValue();
                    assertTrue(seconds < 5, "cancel took " + seconds + " s");
                    assertEquals(LongStream.rangeClosed(1, 10).boxed().toList(), c.get("after"),
                            "tasks submitted after the cancel");
                },
                () -> {
                    Map<String, Object> p = r.partMap("publish");
                    assertEquals(List.of("computed", "values"), p.get("listed"), "datasets seen by client B");
                    assertEquals(true, p.get("values_equal"), "value read by client B");
                    assertEquals(100L, p.get("computed"), "published future read by client B");
                    assertEquals(List.of(), p.get("after_unpublish"), "list_datasets of B after unpublish");
                    assertEquals(List.of(), p.get("after_unpublish_a"), "list_datasets of A after unpublish");
                },
                () -> {
                    // client.story: the scheduler's transitions of the key (get_story) and the
                    // workers' (broadcast of get_story), as Dask's scheduler gives them
                    Map<String, Object> st = r.partMap("story");
                    List<?> moves = (List<?>) st.get("scheduler");
                    assertTrue(moves.contains(List.of("released", "waiting")), "scheduler story: " + moves);
                    assertTrue(moves.contains(List.of("processing", "memory")), "scheduler story: " + moves);
                    assertEquals(true, st.get("workers_told"), "the workers' stories came back through broadcast");
                });
    }
}
