package org.cloudviper.scheduler.interop;

import java.util.List;
import java.util.Map;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * {@code client.retire_workers}: the retired worker's results are copied to the other worker before
 * it is closed (the same random values come back, so nothing was recomputed); the last worker is
 * not retired because nobody could take its data. Run against Dask's own scheduler too
 * ({@code -Dinterop.scheduler=python}), the behaviour these assertions describe.
 */
@DaskInterop
class RetireWorkersInteropTest {

    @InteropTest
    void retiredWorkersHandTheirDataOver(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        List<Peer> workers = scheduler.startWorkers(peers, 2, 1, false);

        ScriptResult r = peers.startClient("retire_workers.py", scheduler.address())
                .awaitResult(PythonPeers.CLIENT_TIMEOUT);

        String a = (String) r.get("a");
        String b = (String) r.get("b");
        assertAll(
                () -> assertEquals(List.of(a), r.get("held_before")),
                () -> assertEquals(List.of(a), r.partList("retired")),
                () -> assertEquals(List.of(b), r.partList("held_after"), "every result now on b"),
                () -> assertEquals(true, r.part("unchanged"), "the very same values: copied, not recomputed"),
                () -> assertEquals(List.of(b), r.partList("workers_after")),
                () -> assertEquals("TypeError: names and workers are mutually exclusive",
                        r.part("workers_and_names")),
                () -> assertEquals(Map.of(), r.partMap("last_worker"), "the last worker is not retired"),
                () -> assertEquals(true, r.part("still_unchanged")),
                () -> assertEquals(42L, r.partLong("still_computes")));
        Peer retired = workers.stream().filter(w -> w.stderrText().contains(a)).findFirst().orElseThrow();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (retired.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100); // close_workers: the worker process ends once told to close
        }
        assertFalse(retired.isAlive(), "the retired worker " + a + " was closed");
        assertEquals(1, workers.stream().filter(Peer::isAlive).count(), "the other one runs");
        if (scheduler.isCloudviper()) {
            assertEquals(1, scheduler.workerCount().orElseThrow(), "cloudviper's own worker count");
        }
    }

    /**
     * The facade a scaler uses: workersToClose names the idle worker before the one holding data, and
     * retireWorkers retires it (the stock worker is told to close and its process ends).
     */
    @InteropTest
    void theFacadeRetiresTheCheapestWorker(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        org.junit.jupiter.api.Assumptions.assumeTrue(scheduler instanceof InteropScheduler.Cloudviper,
                "the Java facade exists only for cloudviper's scheduler");
        org.cloudviper.scheduler.Scheduler facade = ((InteropScheduler.Cloudviper) scheduler).scheduler();
        List<Peer> workers = scheduler.startWorkers(peers, 2, 1, false);

        ScriptResult r = peers.startClient("retire_facade.py", scheduler.address())
                .awaitResult(PythonPeers.CLIENT_TIMEOUT);
        String holder = (String) r.get("holder");
        List<String> order = facade.workersToClose(2);
        assertEquals(2, order.size(), order.toString());
        assertEquals(holder, order.get(1), "the worker holding data comes last");

        String idle = order.get(0);
        assertEquals(java.util.Set.of(idle), facade.retireWorkers(List.of(idle), true)
                .get(30, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(1, facade.workerCount());
        Peer closed = workers.stream().filter(w -> w.stderrText().contains(idle)).findFirst().orElseThrow();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (closed.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertFalse(closed.isAlive(), "the retired worker was told to close");
    }
}
