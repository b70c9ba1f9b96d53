package org.cloudviper.scheduler.state;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Dask's adaptive_target on hand-made summaries: each branch of the formula once. */
class AdaptiveTest {
    private static final long GIB = 1L << 30;

    private static ClusterSummary.Worker worker(String name, int threads, int processing, double mean, long nbytes) {
        return new ClusterSummary.Worker("tcp://10.0.0." + name.length() + ":" + name.hashCode(), name, threads, 4 * GIB,
                nbytes, processing, 0, ClusterSummary.WorkerStatus.RUNNING, mean);
    }

    private static ClusterSummary summary(List<ClusterSummary.Worker> workers, Map<String, Integer> tasks) {
        return new ClusterSummary(workers, tasks, Map.of(), 1, 0);
    }

    @Test
    void queuedWorkWithoutWorkersAsksForWorkersAtTheUnknownDuration() {
        // 10,000 queued tasks x 0.5 s over 5 s = 1,000 threads' worth; no worker to divide by
        assertEquals(1000, Adaptive.target(summary(List.of(), Map.of("queued", 10_000)), 5));
        // one task still asks for one worker
        assertEquals(1, Adaptive.target(summary(List.of(), Map.of("no-worker", 1)), 5));
        assertEquals(0, Adaptive.target(summary(List.of(), Map.of()), 5));
    }

    @Test
    void measuredDurationsAndThreadsPerWorkerScaleTheTarget() {
        // two 4-thread workers that ran 0.1 s tasks; 1,000 queued: 100 s / 5 s = 20 threads = 5 workers
        List<ClusterSummary.Worker> ws = List.of(worker("a", 4, 4, 0.1, 0), worker("b", 4, 4, 0.1, 0));
        // occupancy 8 x 0.1 = 0.8 s; queued 1,000 x 0.1 = 100 s; ceil(100.8 / 5) = 21 threads; / 4 per worker
        assertEquals(6, Adaptive.target(summary(ws, Map.of("queued", 1000, "processing", 8)), 5));
    }

    @Test
    void aFewLongTasksAskForNoMoreThanTheirCount() {
        // 3 tasks of 100 s each: occupancy asks for 60 threads, but only 3 tasks exist
        List<ClusterSummary.Worker> ws = List.of(worker("a", 1, 3, 100, 0));
        assertEquals(3, Adaptive.target(summary(ws, Map.of("processing", 3)), 5));
    }

    @Test
    void memoryAboveSixtyPercentDoublesTheWorkers() {
        List<ClusterSummary.Worker> ws = List.of(worker("a", 1, 1, 0.01, 3 * GIB), worker("b", 1, 1, 0.01, 3 * GIB));
        assertEquals(4, Adaptive.target(summary(ws, Map.of("processing", 2)), 5));
    }

    @Test
    void belowTheCurrentCountOnlyIdleWorkersGo() {
        List<ClusterSummary.Worker> ws = List.of(worker("busy", 1, 1, 0.01, 0), worker("idle1", 1, 0, 0.01, 0),
                worker("idle2", 1, 0, Double.NaN, 0));
        assertEquals(1, Adaptive.target(summary(ws, Map.of("processing", 1)), 5));
        ClusterSummary.Worker retiring = new ClusterSummary.Worker("tcp://x:1", "r", 1, GIB, 0, 0, 0,
                ClusterSummary.WorkerStatus.CLOSING_GRACEFULLY, Double.NaN);
        assertEquals(1, Adaptive.target(summary(List.of(retiring, worker("idle", 1, 0, 0.01, 0)), Map.of()), 5),
                "a retiring worker is not idle: it stays counted until it is gone");
        List<ClusterSummary.Worker> holding = List.of(worker("idle1", 1, 0, 0.01, 10), worker("idle2", 1, 0, 0.01, 20));
        assertEquals(1, Adaptive.target(summary(holding, Map.of("memory", 2)), 5),
                "the last worker holding data stays (twice the memory its results take)");
        assertEquals(List.of(holding.get(0).address()), Adaptive.idleToClose(summary(holding, Map.of())),
                "the one with less data goes first");
        assertThrows(IllegalArgumentException.class, () -> Adaptive.target(summary(ws, Map.of()), 0));
    }
}
