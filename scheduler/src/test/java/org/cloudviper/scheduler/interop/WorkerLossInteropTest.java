package org.cloudviper.scheduler.interop;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test 6: a running graph survives the SIGKILL of one of two workers. */
@DaskInterop
class WorkerLossInteropTest {

    private static final long TASKS = 2000;

    /**
     * 2,000 tasks that sleep 5 ms, then a tree reduction over their futures; one worker is killed
     * once a tenth of the map is done. Workers run without a nanny, so the pid is the worker itself
     * and nothing restarts it.
     */
    @InteropTest(withDask2024_1 = true)
    void graphSurvivesKilledWorker(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        List<Peer> workers = scheduler.startWorkers(peers, 2, 1, false);
        Path go = peers.scratchDir("signals").resolve("go-after-kill");

        Peer client = peers.startClient("worker_loss.py", scheduler.address(), peers.inPython(go));
        client.awaitMarker("running", Duration.ofSeconds(60));
        Peer victim = workers.get(1);
        victim.kill();
        Files.createFile(go);
        ScriptResult r = client.awaitResult(PythonPeers.CLIENT_TIMEOUT);

        long expected = TASKS * (TASKS + 1) / 2;
        assertAll(
                () -> assertEquals(expected, r.getLong("expected")),
                () -> assertEquals(expected, r.partLong("total"), "tree reduction"),
                () -> assertEquals(List.of(1L, 1001L, 2000L), r.partList("mapped_sample")),
                () -> assertEquals(2L, r.getLong("workers_before")),
                () -> assertTrue(r.getLong("done_when_killed") < TASKS,
                        "the kill should hit a running graph, but " + r.getLong("done_when_killed") + " were done"),
                () -> assertEquals(1L, r.getLong("workers_after"), "workers the scheduler lists after the kill"),
                () -> assertTrue(workers.get(0).isAlive(), "the surviving worker is still running"));
        if (scheduler.isCloudviper()) {
            assertEquals(1, scheduler.workerCount().orElseThrow(), "cloudviper's own worker count");
        }
    }
}
