package org.cloudviper.scheduler.interop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Graceful retirement with stock peers: a Python client's {@code retire_workers([a])} moves the
 * results only worker a holds to worker b before a goes; nothing is recomputed; retiring the last
 * worker is refused and leaves it running with its data.
 */
@DaskInterop
class RetireInteropTest {

    @InteropTest
    void retiredWorkersDataSurvivesWithoutRecompute(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = peers.startScheduler();
        List<PythonPeers.Peer> workers = peers.startWorkers(scheduler, 2, 1, false);
        java.nio.file.Path counts = peers.scratchDir("counts");

        ScriptResult r = peers.runClient("retire_workers.py", scheduler.address(), peers.inPython(counts));
        check(scheduler, workers, r);
    }

    /** The same, but the Java facade (for the Kubernetes scaler) retires the worker. */
    @InteropTest
    void javaFacadeRetiresWorkers(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = peers.startScheduler();
        org.junit.jupiter.api.Assumptions.assumeTrue(scheduler.isCloudviper(), "cloudviper's own Java API");
        List<PythonPeers.Peer> workers = peers.startWorkers(scheduler, 2, 1, false);
        java.nio.file.Path counts = peers.scratchDir("counts");
        java.nio.file.Path go = peers.scratchDir("signals").resolve("go");

        PythonPeers.Peer client = peers.startClient("retire_workers.py", scheduler.address(),
                peers.inPython(counts), peers.inPython(go));
        client.awaitMarker("computed", Duration.ofSeconds(60));
        String a = java.nio.file.Files.readString(counts.resolveSibling("retire-me"));
        java.util.Set<String> retired = ((InteropScheduler.Cloudviper) scheduler).scheduler()
                .retireWorkers(List.of(a)).get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(java.util.Set.of(a), retired, "addresses Scheduler.retireWorkers reports retired");
        java.nio.file.Files.createFile(go);
        check(scheduler, workers, client.awaitResult(PythonPeers.CLIENT_TIMEOUT));
    }

    private static void check(InteropScheduler scheduler, List<PythonPeers.Peer> workers, ScriptResult r)
            throws InterruptedException {
        List<Object> expected = new ArrayList<>();
        for (long i = 0; i < 20; i++) {
            expected.add(i * i);
        }
        PythonPeers.Peer retired = workers.stream()
                .filter(w -> w.name().equals(r.get("retired_name"))).findFirst().orElseThrow();
        PythonPeers.Peer kept = workers.get(workers.get(0) == retired ? 1 : 0);
        assertAll(
                () -> assertEquals(r.getList("expected_holders_before"), r.getList("holders_before")),
                () -> assertEquals(r.getList("expected_retired"), r.partList("retired"), "retire_workers reply"),
                () -> assertEquals(false, r.get("a_listed_after"), "retired worker still in scheduler_info"),
                () -> assertEquals(expected, r.partList("values")),
                () -> assertEquals(r.getList("expected_holders"), r.partList("holders"), "who_has after"),
                () -> assertEquals(20L, r.getLong("runs"), "task executions (20 = nothing recomputed)"),
                () -> assertEquals(List.of(), r.partList("refused"), "retiring the last worker"),
                () -> assertEquals(true, r.get("b_listed_after_refusal")),
                () -> assertEquals(expected, r.partList("values_after_refusal")),
                () -> assertEquals("running", r.get("status_after_refusal")),
                () -> assertEquals(10000L, r.partLong("new_task")),
                () -> assertEquals(21L, r.getLong("runs_after")));
        // close_workers=True (the client's default): the retired worker process exits by itself.
        retired.awaitExit(Duration.ofSeconds(30)); // fails the test if it does not exit
        assertTrue(kept.isAlive(), "the other worker is still running");
        if (scheduler.isCloudviper()) {
            assertEquals(1, scheduler.workerCount().orElseThrow());
        }
        assertFalse(retired.isAlive());
    }
}
