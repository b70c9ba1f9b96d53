package org.cloudviper.worker.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;
import org.cloudviper.worker.Worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Java worker's graceful close ({@link Worker#closeGracefully}, what SIGTERM does) first has its
 * results copied to a Python worker through the scheduler's retire_workers; afterwards the client
 * finds every result, exact, on the Python worker. Only Java workers can compute these tasks and none
 * is left, so a result that was not handed over could not come back. Under stock 2022.12.1 and
 * 2024.12.1 schedulers (and cloudviper's, in the embedded module).
 */
@DaskInterop
public class GracefulCloseInteropTest extends JavaWorkerInterop {

    @InteropTest
    public void handsDataOver(PythonPeers peers) throws Exception {
        String scheduler = startScheduler(peers);
        startPythonWorker(peers, scheduler);
        Worker java = startJavaWorker(peers, scheduler, 1);
        String javaAddress = java.address();

        ScriptResult made = peers.runClient("graceful_close.py", scheduler, "make", javaAddress);
        assertEquals(List.of(javaAddress), made.part("held_by"), "only the Java worker holds them");

        java.closeGracefully(Duration.ofSeconds(60));
        assertEquals("worker-close-gracefully", java.closed().get(10, TimeUnit.SECONDS));

        assertHandedOver(peers.runClient("graceful_close.py", scheduler, "check", javaAddress));
    }

    /** graceful_close.py's check: the Java worker is gone and its 10 results are on the Python worker, exact. */
    static void assertHandedOver(ScriptResult r) {
        List<Object> sums = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            sums.add((i + 1) * 999.0 * 1000 / 2);
        }
        assertAll(
                () -> assertEquals(1, r.partList("workers").size(), "the Java worker left: " + r),
                () -> assertEquals(r.part("workers"), r.part("held_by"), "all on the Python worker"),
                () -> assertEquals(sums, r.part("sums")));
    }
}
