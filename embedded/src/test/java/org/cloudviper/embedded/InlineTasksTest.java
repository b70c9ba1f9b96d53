package org.cloudviper.embedded;

import org.cloudviper.worker.tasks.TaskRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tasks that keep finishing within microseconds move from the compute threads to the worker's event
 * loop, and their results are the same. Surefire sets {@code cloudviper.worker.inlineTaskMicros} to
 * 1,000 for this module: a test JVM runs cold and slower than the 20 us default allows.
 */
@Timeout(120)
class InlineTasksTest {
    @Test
    void quickTasksMoveToTheEventLoopAndKeepTheirResults() throws Exception {
        TaskRegistry tasks = TaskRegistry.withBuiltins()
                .register("tests.inc", (args, kwargs) -> (Long) args.get(0) + 1)
                .register("tests.threadName", (args, kwargs) -> Thread.currentThread().getName())
                .register("tests.countOffPool", (args, kwargs) -> args.stream()
                        .filter(n -> !((String) n).startsWith("cloudviper-compute-")).count());
        try (JavaCluster cluster = JavaCluster.start(2, 1, tasks);
             JavaClient client = cluster.client()) {
            for (int round = 0; round < 3; round++) {
                JavaClient.Task chain = client.task("tests.inc", 0L);
                for (int i = 1; i < 1000; i++) {
                    chain = client.task("tests.inc", chain);
                }
                assertEquals(1000L, client.compute(chain, Long.class));
            }
            List<JavaClient.Task> names = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                names.add(client.task("tests.threadName", (long) i));
            }
            long offPool = client.compute(client.task("tests.countOffPool", names.toArray()), Long.class);
            assertTrue(offPool > 1000, offPool + " of 2000 quick tasks ran on an event loop");
        }
    }
}
