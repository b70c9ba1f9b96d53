package org.cloudviper.scheduler.state;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.cloudviper.scheduler.state.SimCluster.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Actors (update-graph's {@code actors}): never queued, placed on the worker with the fewest
 * actors (Scheduler.worker_objective), and compute-task says {@code actor} so the worker keeps the
 * object and answers calls to it.
 */
class ActorPlacementTest {

    @Test
    void actorsSpreadOverWorkersAndIgnoreTheSaturationCap() {
        SimCluster c = new SimCluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        SimCluster.SimWorker b = c.addWorker("b", 1);
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            tasks.add(task("actor-" + i));
            keys.add("actor-" + i);
        }
        c.updateGraph(c.graph("Client-1", tasks, keys, null).withActors(Boolean.TRUE));
        assertEquals(3, a.running.size(), "actors on a: " + a.running.keySet());
        assertEquals(3, b.running.size(), "actors on b: " + b.running.keySet());
        assertTrue(a.running.values().stream().allMatch(r -> r.task().actor()), "compute-task says actor");
        c.runToCompletion();
        assertEquals(3, a.memory.size());

        // a later actor goes to the worker with fewer actors, a plain task as before
        c.updateGraph(c.graph("Client-1", List.of(task("plain"), task("one-more")), List.of("plain", "one-more"),
                null).withActors(List.of("one-more")));
        SimCluster.SimWorker holder = a.running.containsKey("one-more") ? a : b;
        assertTrue(holder.running.get("one-more").task().actor());
        SimCluster.SimWorker plainOn = a.running.containsKey("plain") ? a : b;
        assertFalse(plainOn.running.get("plain").task().actor());
        c.runToCompletion();
        c.state.validate();
    }

    @Test
    void anActorWhoseWorkerDiesErrsInsteadOfBeingMadeAgain() {
        SimCluster c = new SimCluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        SimCluster.SimWorker b = c.addWorker("b", 1);
        c.updateGraph(c.graph("Client-1", List.of(task("counter"), task("plain")), List.of("counter", "plain"), null)
                .withActors(List.of("counter")));
        c.runToCompletion();
        SimCluster.SimWorker holder = a.memory.containsKey("counter") ? a : b;
        SimCluster.SimWorker other = holder == a ? b : a;
        c.removeWorker(holder.address);
        assertEquals("erred", c.state.queries().taskStatus("counter"), "Dask: Worker holding Actor was lost");
        assertEquals("erred", c.client("Client-1").last.get("counter"));
        assertTrue(other.running.isEmpty(), "no new actor was started: " + other.running.keySet());
    }
}
