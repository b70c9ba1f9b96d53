package org.cloudviper.bench.fleet;

import org.cloudviper.embedded.JavaClient;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.scheduler.state.ClusterSummary;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The load generator at small scale against cloudviper's scheduler: 50 fake workers of each
 * generation and a 10,000-task graph from the Java client. Every task is computed exactly once, the
 * work spreads over the fleet, the scheduler's state validates with the results held and again once
 * the client released them and the workers answered free-keys with release-worker-data.
 */
class FakeFleetTest {
    private static final int WORKERS = 50;
    private static final int TASKS = 10_000;

    @ParameterizedTest
    @EnumSource(Generation.class)
    void everyTaskCompletesOnceAndTheStateValidates(Generation generation) throws Exception {
        try (Scheduler scheduler = Scheduler.start(SchedulerConfig.defaults().withPort(0));
             FakeFleet fleet = FakeFleet.start(scheduler.address(), WORKERS, 1, generation, 1, true);
             JavaClient client = JavaClient.connect(scheduler.address())) {
            assertEquals(WORKERS, scheduler.workerCount());
            List<JavaClient.Task> outputs = new ArrayList<>(TASKS);
            for (long i = 0; i < TASKS; i++) {
                outputs.add(client.task("cloudviper.tasks.noop", i));
            }
            client.persist(outputs);

            Map<Object, Integer> perKey = fleet.computedPerKey();
            Set<Object> keys = new HashSet<>();
            outputs.forEach(t -> keys.add(t.key()));
            assertEquals(keys, perKey.keySet());
            assertTrue(perKey.values().stream().allMatch(n -> n == 1), "a task was computed twice");
            assertEquals(TASKS, fleet.computed());
            assertEquals(TASKS, fleet.heldKeys());
            ClusterSummary s = scheduler.summary(false);
            assertEquals(TASKS, s.tasks("memory"));
            assertTrue(s.workers().stream().filter(w -> w.held() > 0).count() > WORKERS / 2,
                    "the tasks went to a few workers only");
            scheduler.validateState();

            client.release(outputs);
            long deadline = System.nanoTime() + 30_000_000_000L;
            while ((fleet.heldKeys() > 0 || scheduler.summary(false).taskTotal() > 0) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, fleet.heldKeys());
            assertEquals(0, scheduler.summary(false).taskTotal());
            scheduler.validateState();
            assertEquals(TASKS, fleet.computed(), "no task ran again after the release");
        }
    }
}
