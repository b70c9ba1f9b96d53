package org.cloudviper.scheduler.interop;

import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Work stealing with stock workers: with worker-saturation inf, 40 tasks of 0.2 s all go to the one
 * worker connected; a second worker that joins then takes some of them through steal-request and
 * steal-response, and with stealing off it gets none.
 */
@DaskInterop
class StealingInteropTest {

    private static ScriptResult run(PythonPeers peers, boolean stealing) throws Exception {
        SchedulerConfig config = SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withWorkerSaturation(Double.POSITIVE_INFINITY).withWorkStealing(stealing);
        InteropScheduler scheduler = InteropScheduler.start(peers, config);
        assumeTrue(scheduler.isCloudviper(), "the reference scheduler runs with Dask's defaults");
        scheduler.startWorkers(peers, 1, 1, false);
        Path go = peers.scratchDir("steal").resolve("go");
        Peer client = peers.startClient("late_worker.py", scheduler.address(), peers.inPython(go), "0.2");
        client.awaitMarker("queued", PythonPeers.READY_TIMEOUT);
        scheduler.startWorkers(peers, 1, 1, false);
        Files.createFile(go);
        ScriptResult r = client.awaitResult(PythonPeers.CLIENT_TIMEOUT);
        assertEquals(780L, r.get("sum"));
        peers.note("stealing " + (stealing ? "on" : "off") + ": " + r.get("per_worker") + " in "
                + r.get("seconds") + " s");
        return r;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Long> perWorker(ScriptResult r) {
        return (Map<String, Long>) r.get("per_worker");
    }

    @InteropTest
    void aWorkerJoiningStealsFromTheBusyOne(PythonPeers peers) throws Exception {
        Map<String, Long> perWorker = perWorker(run(peers, true));
        assertEquals(2, perWorker.size(), "both workers computed some: " + perWorker);
        assertTrue(perWorker.values().stream().allMatch(n -> n >= 5), perWorker.toString());
    }

    @InteropTest
    void withStealingOffTheLateWorkerGetsNothing(PythonPeers peers) throws Exception {
        Map<String, Long> perWorker = perWorker(run(peers, false));
        assertEquals(1, perWorker.size(), "only the first worker computed: " + perWorker);
    }
}
