package org.cloudviper.bench.fleet;

import org.cloudviper.protocol.message.Generation;
import org.cloudviper.testkit.DaskGeneration;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fake workers against Dask's own scheduler of their generation: it accepts their
 * registrations, answers their heartbeats (not "missing") and runs a stock Python client's
 * {@code client.map} on them to the end, so the load generator measures Dask's scheduler with what
 * it takes for real workers.
 */
@DaskInterop
class FakeFleetInteropTest {
    private static final int WORKERS = 20;
    private static final int TASKS = 500;

    @InteropTest
    void aStockDaskSchedulerRunsAMapOnTheFleet(PythonPeers peers) throws Exception {
        Generation generation = peers.dask() == DaskGeneration.DASK_2024 ? Generation.DASK_2024 : Generation.DASK_2022;
        String scheduler = peers.startScheduler().address();
        try (FakeFleet fleet = FakeFleet.start(scheduler, WORKERS, 1, generation, 1, true)) {
            ScriptResult r = peers.runClient("fleet_map.py", scheduler, Integer.toString(TASKS));
            assertEquals(WORKERS, r.partLong("workers"), r.toString());
            assertEquals(TASKS, r.partLong("map"), r.toString());
            assertEquals(TASKS, fleet.computedPerKey().size());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (fleet.heartbeats() < WORKERS && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(fleet.heartbeats() >= WORKERS, "heartbeats answered: " + fleet.heartbeats());
        }
    }
}
