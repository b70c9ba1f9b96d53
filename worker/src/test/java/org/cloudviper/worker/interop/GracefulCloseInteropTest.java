package org.cloudviper.worker.interop;

import org.cloudviper.worker.Worker;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.cloudviper.worker.interop.JavaWorkerInteropTest.part;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Worker#closeGracefully}: a Java worker holding the only copies of Java task results asks
 * the scheduler (stock 2022.12.1, stock 2024.12.1, cloudviper) to retire it; the results move to the
 * Python worker, which fetches them from the Java worker with get_data during the retirement. The
 * tasks need the {@code java} resource, which no remaining worker has: a lost result could not be
 * recomputed, so exact values after the close prove the data moved.
 */
@JavaWorkerInterop
class GracefulCloseInteropTest {

    @Test
    void pythonScheduler2022(DaskPeers peers) throws Exception {
        closeGracefully(peers, peers.startPythonScheduler());
    }

    @Test
    void pythonScheduler2024(DaskPeers peers) throws Exception {
        peers.useDask2024();
        closeGracefully(peers, peers.startPythonScheduler());
    }

    @Test
    void cloudviperScheduler2022Peers(DaskPeers peers) throws Exception {
        closeGracefully(peers, peers.startCloudviperScheduler());
    }

    @Test
    void cloudviperScheduler2024Peers(DaskPeers peers) throws Exception {
        peers.useDask2024();
        closeGracefully(peers, peers.startCloudviperScheduler());
    }

    private static void closeGracefully(DaskPeers peers, String scheduler) throws Exception {
        String python = peers.startPythonWorker(scheduler, null).address();
        Worker java = peers.startJavaWorker(scheduler, 2);

        Map<String, Object> put = peers.runScript("retire_java.py", scheduler, "put");
        assertEquals(List.of(java.address()), part(put, "holders"), "results are only on the Java worker");

        assertTrue(java.closeGracefully(Duration.ofSeconds(30)), "the scheduler confirmed the retirement");
        assertTrue(java.closed().isDone(), "closed after the retirement");

        Map<String, Object> r = peers.runScript("retire_java.py", scheduler, "get");
        Map<?, ?> after = (Map<?, ?>) part(r, "after");
        List<Object> arrays = new ArrayList<>();
        List<Object> sums = new ArrayList<>();
        for (int n : new int[]{3, 5, 8, 13}) {
            List<Object> a = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                a.add((double) i);
            }
            arrays.add(a);
            sums.add(n * (n - 1) / 2.0);
        }
        assertAll(
                () -> assertEquals(arrays, after.get("arrays")),
                () -> assertEquals(sums, after.get("sums")),
                () -> assertEquals(List.of(python), after.get("holders"), "who_has after the close"),
                () -> assertEquals(List.of(python), after.get("workers"), "workers after the close"));
    }
}
