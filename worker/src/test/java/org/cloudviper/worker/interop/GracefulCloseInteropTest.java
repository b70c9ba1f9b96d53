package org.cloudviper.worker.interop;

import org.cloudviper.worker.Worker;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.cloudviper.worker.interop.JavaWorkerInteropTest.part;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Java worker's graceful close ({@link Worker#closeGracefully}, what SIGTERM does) first has its
 * results copied to a Python worker through the scheduler's retire_workers; afterwards the client
 * finds every result, exact, on the Python worker. Only Java workers can compute these tasks and none
 * is left, so a result that was not handed over could not come back. Under stock 2022.12.1 and
 * 2024.12.1 schedulers and under cloudviper's.
 */
@JavaWorkerInterop
class GracefulCloseInteropTest {

    @ParameterizedTest
    @EnumSource(DaskPeers.SchedulerKind.class)
    void handsDataOver(DaskPeers.SchedulerKind kind, DaskPeers peers) throws Exception {
        closeGracefully(peers, peers.startScheduler(kind));
    }

    private static void closeGracefully(DaskPeers peers, String scheduler) throws Exception {
        peers.startPythonWorker(scheduler, "python=1");
        Worker java = peers.startJavaWorker(scheduler, 1);
        String javaAddress = java.address();

        Map<String, Object> made = peers.runScript("graceful_close.py", scheduler, "make", javaAddress);
        assertEquals(List.of(javaAddress), part(made, "held_by"), "only the Java worker holds them");

        java.closeGracefully(Duration.ofSeconds(60));
        assertEquals("worker-close-gracefully", java.closed().get(10, TimeUnit.SECONDS));

        assertHandedOver(peers.runScript("graceful_close.py", scheduler, "check", javaAddress));
    }

    /** graceful_close.py's check: the Java worker is gone and its 10 results are on the Python worker, exact. */
    static void assertHandedOver(Map<String, Object> r) {
        List<Object> sums = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            sums.add((i + 1) * 999.0 * 1000 / 2);
        }
        assertAll(
                () -> assertEquals(1, ((List<?>) part(r, "workers")).size(), "the Java worker left: " + r),
                () -> assertEquals(part(r, "workers"), part(r, "held_by"), "all on the Python worker"),
                () -> assertEquals(sums, part(r, "sums")));
    }
}
