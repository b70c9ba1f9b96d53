package org.cloudviper.scheduler.state;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.cloudviper.scheduler.state.SimCluster.address;
import static org.cloudviper.scheduler.state.SimCluster.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SchedulerState#summary}: what the dashboard, the metrics and a scaler read. */
class SummaryTest {

    @Test
    void workersTasksAndPrefixesAsTheStateHasThem() {
        SimCluster c = new SimCluster(1.0, 3);
        c.autoDeliver = false;
        c.addWorker("a", 2);
        c.addWorker("b", 1);
        c.addClient("c1");
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tasks.add(task("inc-" + i));
            keys.add("inc-" + i);
        }
        tasks.add(task("('sum-abc', 0)", "inc-0", "inc-1"));
        keys.add("('sum-abc', 0)");
        c.updateGraph(c.graph("c1", tasks, keys, null));

        ClusterSummary s = c.state.queries().summary(true);
        assertEquals(2, s.workers().size());
        ClusterSummary.Worker a = s.workers().get(0);
        assertEquals(address("a"), a.address());
        assertEquals("a", a.name());
        assertEquals(2, a.nthreads());
        assertEquals(ClusterSummary.WorkerStatus.RUNNING, a.status());
        assertEquals(3, s.threads());
        // saturation 1.0: three slots for five ready tasks, two wait in the queue, the sum waits on inputs
        assertEquals(3, s.workers().stream().mapToInt(ClusterSummary.Worker::processing).sum());
        assertEquals(Map.of("processing", 3, "queued", 2, "waiting", 1), s.taskCounts());
        assertEquals(6, s.taskTotal());
        assertEquals(Map.of("inc", Map.of("processing", 3, "queued", 2), "sum", Map.of("waiting", 1)), s.groups());
        assertEquals(1, s.clients());
        assertTrue(s.transitions() > 0);
        assertEquals(Map.of(), c.state.queries().summary(false).groups(), "prefixes only when asked");
    }
}
