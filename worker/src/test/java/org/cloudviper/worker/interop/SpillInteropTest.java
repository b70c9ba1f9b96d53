package org.cloudviper.worker.interop;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;

import static org.cloudviper.worker.interop.JavaWorkerInteropTest.part;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 4, test 5: a Java worker with a 64 MiB memory limit holds 160 MB of results. It spills the
 * oldest to disk (above 0.6 of the limit), says so in its heartbeat metrics, and serves every result
 * back exactly, to the client and to a task that depends on a spilled one; nothing is lost. Under a
 * stock scheduler of both generations and under cloudviper's.
 */
@JavaWorkerInterop
class SpillInteropTest {
    private static final long LIMIT = 64L << 20;

    @ParameterizedTest
    @EnumSource(DaskPeers.SchedulerKind.class)
    void spills(DaskPeers.SchedulerKind kind, DaskPeers peers) throws Exception {
        spill(peers, peers.startScheduler(kind));
    }

    private static void spill(DaskPeers peers, String scheduler) throws Exception {
        String java = peers.startJavaWorker(scheduler, 1, LIMIT).address();

        Map<String, Object> r = peers.runScript("spill.py", scheduler, java);

        long n = 1_000_000;
        assertAll(
                () -> {
                    Map<?, ?> s = (Map<?, ?>) part(r, "spilled");
                    long disk = ((Number) s.get("disk")).longValue();
                    long memory = ((Number) s.get("memory")).longValue();
                    long managed = ((Number) s.get("managed")).longValue();
                    assertTrue(disk > 0, "the worker reports bytes on disk: " + s);
                    // what stays in memory is at most the target, 0.6 of the limit
                    assertTrue(managed - memory <= (long) (0.6 * LIMIT), "in memory: " + s);
                    assertTrue(memory >= 160_000_000L - (long) (0.6 * LIMIT) - 8_000_000L, "spilled: " + s);
                },
                () -> assertEquals((double) n * (n - 1) / 2, part(r, "dependent")),
                () -> assertEquals(Map.of("count", 20L, "wrong", List.of()), part(r, "gathered")));
    }
}
