package org.cloudviper.scheduler.interop;

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

/**
 * A worker that registers while tasks wait in the scheduler's queue gets some at once and computes
 * them: what every worker a scaler starts for a burst does. Its first tasks are assigned while it
 * registers, so they must reach its stream rather than be dropped as if for an unknown worker.
 */
@DaskInterop
class LateWorkerInteropTest {

    @InteropTest
    void aWorkerJoiningABacklogComputesPartOfIt(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 1, 1, false);
        Path go = peers.scratchDir("late").resolve("go");
        Peer client = peers.startClient("late_worker.py", scheduler.address(), peers.inPython(go));
        client.awaitMarker("queued", PythonPeers.READY_TIMEOUT);
        scheduler.startWorkers(peers, 1, 1, false);
        Files.createFile(go);
        ScriptResult r = client.awaitResult(PythonPeers.CLIENT_TIMEOUT);
        assertEquals(780L, r.get("sum"));
        @SuppressWarnings("unchecked")
        Map<String, Long> perWorker = (Map<String, Long>) r.get("per_worker");
        assertEquals(2, perWorker.size(), "both workers computed some: " + perWorker);
        assertTrue(perWorker.values().stream().allMatch(n -> n > 0), perWorker.toString());
    }
}
