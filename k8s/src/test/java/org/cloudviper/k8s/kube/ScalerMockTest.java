package org.cloudviper.k8s.kube;

import org.cloudviper.embedded.JavaClient;
import org.cloudviper.k8s.testing.KubeletSim;
import org.cloudviper.k8s.testing.MockCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.cloudviper.k8s.testing.MockCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scaler against the fabric8 mock API server with a real scheduler, each worker pod backed by an
 * in-process Java worker ({@link KubeletSim}): a burst scales up to max and back down to min with the
 * results kept; a spot interruption retires the node's workers before their pods go and starts
 * replacements elsewhere.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ScalerMockTest {

    @Test
    void aBurstScalesUpWithinMaxThenIdleWorkersRetireWithTheirResultsKept() throws Exception {
        try (MockCluster c = new MockCluster().withNodes(3)) {
            c.startScaler(c.settings(1, 4, 1), Duration.ofSeconds(1));
            await("min workers registered", Duration.ofSeconds(30), () -> c.scheduler.workerCount() == 1);

            AtomicInteger mostPods = new AtomicInteger();
            List<JavaClient.Task> tasks = new ArrayList<>();
            try (JavaClient client = JavaClient.connect(c.scheduler.address())) {
                for (long i = 0; i < 200; i++) {
                    tasks.add(client.task("k8stest.sleep", 50L, i));
                }
                CompletableFuture<Void> done = CompletableFuture.runAsync(() -> client.persist(tasks));
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!done.isDone()) {
                    mostPods.accumulateAndGet(c.pods(), Math::max);
                    Thread.sleep(20);
                    assertTrue(System.nanoTime() < deadline, () -> "the burst did not finish: "
                            + c.scheduler.summary(true) + "\n" + c.kubelet.events());
                }
                done.get();
                assertEquals(4, mostPods.get(), "scaled up to max (the target asked for more)");

                await("idle workers retired down to min", Duration.ofSeconds(60),
                        () -> c.scheduler.workerCount() == 1 && c.pods() == 1);
                List<Object> results = client.gather(tasks);
                List<Object> expected = new ArrayList<>();
                for (long i = 0; i < 200; i++) {
                    expected.add(i);
                }
                assertEquals(expected, results, "every result, including those of the retired workers");
                assertEquals(1, c.kubelet.running().size());
            }
            List<KubeletSim.PodEvent> deleted = c.kubelet.events().stream().filter(e -> e.what().equals("deleted"))
                    .toList();
            assertEquals(3, deleted.size(), deleted.toString());
            assertTrue(deleted.stream().noneMatch(KubeletSim.PodEvent::workerRegistered),
                    "each worker was retired before its pod was deleted: " + deleted);
        }
    }

    @Test
    void aSpotInterruptionRetiresTheNodesWorkersAndReplacesThemElsewhere() throws Exception {
        try (MockCluster c = new MockCluster().withNodes(3)) {
            c.startScaler(c.settings(3, 3, 1), Duration.ofSeconds(5));
            await("three workers, one per node", Duration.ofSeconds(30),
                    () -> c.scheduler.workerCount() == 3 && c.kubelet.running().size() == 3);
            String doomedNode = "spot-1";
            Set<String> doomedPods = c.kubelet.placement().entrySet().stream()
                    .filter(e -> e.getValue().equals(doomedNode)).map(java.util.Map.Entry::getKey)
                    .collect(Collectors.toSet());
            assertEquals(1, doomedPods.size(), c.kubelet.placement().toString());
            String doomed = doomedPods.iterator().next();
            Set<String> before3 = c.kubelet.running();

            try (JavaClient client = JavaClient.connect(c.scheduler.address())) {
                List<JavaClient.Task> tasks = new ArrayList<>();
                for (int i = 0; i < 60; i++) {
                    tasks.add(client.task("k8stest.random", i));
                }
                client.persist(tasks);
                List<Object> before = client.gather(tasks);
                assertTrue(c.scheduler.summary(false).workers().stream()
                        .filter(w -> w.name().equals(doomed)).findFirst().orElseThrow().held() > 0,
                        "the doomed worker holds results");

                c.kubelet.taint(doomedNode, "aws-node-termination-handler/spot-itn", "NoSchedule");
                await("the doomed worker retired and its pod deleted", Duration.ofSeconds(30),
                        () -> !c.registered(doomed) && c.kubelet.events().stream()
                                .anyMatch(e -> e.pod().equals(doomed) && e.what().equals("deleted")));
                await("a replacement registered", Duration.ofSeconds(30), () -> c.scheduler.workerCount() == 3);

                assertEquals(before, client.gather(tasks), "the same values: moved, not recomputed");
                KubeletSim.PodEvent deletion = c.kubelet.events().stream()
                        .filter(e -> e.pod().equals(doomed) && e.what().equals("deleted")).findFirst().orElseThrow();
                assertFalse(deletion.workerRegistered(), "retired before its pod was deleted");
                for (String p : c.kubelet.running()) {
                    assertFalse(c.kubelet.placement().get(p).equals(doomedNode), p + " runs on the interrupted node");
                }
                Set<String> replacements = new java.util.HashSet<>(c.kubelet.running());
                replacements.removeAll(before3);
                assertEquals(1, replacements.size(), "one replacement: " + replacements);
                io.fabric8.kubernetes.api.model.Pod replacement = c.client.pods().inNamespace(MockCluster.NAMESPACE)
                        .withName(replacements.iterator().next()).get();
                assertEquals(List.of(doomedNode), replacement.getSpec().getAffinity().getNodeAffinity()
                        .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0)
                        .getMatchExpressions().get(1).getValues(), "the replacement keeps off the interrupted node");
            }
        }
    }
}
