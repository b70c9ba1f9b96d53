package org.cloudviper.k8s.control;

import org.cloudviper.embedded.JavaClient;
import org.cloudviper.k8s.testing.KubeletSim;
import org.cloudviper.k8s.testing.MockCluster;
import org.cloudviper.scheduler.SchedulerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.cloudviper.k8s.testing.MockCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scaler as its own Deployment: it sees the scheduler only through /api/v1 (as the
 * dask-kubernetes operator does) and still scales to min and retires an interrupted node's worker
 * with its data moved.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpSchedulerTest {

    @Test
    void theScalerOverTheApiRoutes() throws Exception {
        try (MockCluster c = new MockCluster(SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withDashboard("127.0.0.1:0")).withNodes(2)) {
            HttpScheduler http = new HttpScheduler(URI.create("http://127.0.0.1:" + c.scheduler.dashboardPort()));
            assertEquals(List.of(), http.workers());
            assertEquals(0, http.adaptiveTarget());
            c.startScaler(c.settings(2, 2, 1), http);
            await("two workers", Duration.ofSeconds(30),
                    () -> c.scheduler.workerCount() == 2 && c.kubelet.running().size() == 2);
            assertEquals(2, http.workers().size());
            assertTrue(http.workers().stream().allMatch(w -> w.name().startsWith("cv-worker-")));

            try (JavaClient client = JavaClient.connect(c.scheduler.address())) {
                List<JavaClient.Task> tasks = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    tasks.add(client.task("k8stest.random", i));
                }
                client.persist(tasks);
                List<Object> before = client.gather(tasks);
                String onSpot1 = c.kubelet.running().iterator().next();
                String node = c.kubelet.placement().get(onSpot1);
                c.kubelet.taint(node, "aws-node-termination-handler/spot-itn", "NoSchedule");
                await("the worker on the tainted node retired, its pod deleted and replaced", Duration.ofSeconds(30),
                        () -> !c.registered(onSpot1) && c.scheduler.workerCount() == 2
                                && c.kubelet.events().stream().anyMatch(
                                        e -> e.pod().equals(onSpot1) && e.what().equals("deleted")));
                assertEquals(before, client.gather(tasks), "moved, not recomputed");
                KubeletSim.PodEvent deleted = c.kubelet.events().stream()
                        .filter(e -> e.pod().equals(onSpot1) && e.what().equals("deleted")).findFirst().orElseThrow();
                assertFalse(deleted.workerRegistered(), "retired before its pod was deleted");
            }
        }
    }
}
