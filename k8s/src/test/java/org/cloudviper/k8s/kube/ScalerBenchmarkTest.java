package org.cloudviper.k8s.kube;

import org.cloudviper.embedded.JavaClient;
import org.cloudviper.k8s.testing.KubeletSim;
import org.cloudviper.k8s.testing.MockCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.cloudviper.k8s.testing.MockCluster.await;

/**
 * The scaler's figures for docs/benchmarks.md, in the mock set-up (fabric8 mock API server, in-process
 * Java workers): run with {@code -Dk8s.bench=true}. Prints one line per figure; asserts nothing about
 * speed.
 */
@EnabledIfSystemProperty(named = "k8s.bench", matches = "true")
class ScalerBenchmarkTest {
    private static final Duration INTERVAL = Duration.ofSeconds(1);

    @Test
    void burstToFirstPodAndToAllWorkersRegistered() throws Exception {
        for (int run = 0; run < 3; run++) {
            try (MockCluster c = new MockCluster().withNodes(8)) {
                KubernetesScaler.Settings s = c.settings(0, 8, 1);
                c.startScaler(new KubernetesScaler.Settings(s.namespace(), s.cluster(), s.pod(), s.limits(),
                        s.interruptions(), INTERVAL), Duration.ofSeconds(5));
                Thread.sleep(1500); // the scaler's first rounds: nothing to do
                try (JavaClient client = JavaClient.connect(c.scheduler.address())) {
                    List<JavaClient.Task> tasks = new ArrayList<>();
                    for (long i = 0; i < 10_000; i++) {
                        tasks.add(client.task("k8stest.sleep", 1L, i));
                    }
                    long t0 = System.nanoTime();
                    CompletableFuture<Void> done = CompletableFuture.runAsync(() -> client.persist(tasks));
                    await("8 workers", Duration.ofSeconds(60), () -> c.scheduler.workerCount() == 8);
                    long tAll = System.nanoTime();
                    long tFirst = c.kubelet.events().stream().filter(e -> e.what().equals("created"))
                            .mapToLong(KubeletSim.PodEvent::nanos).min().orElseThrow();
                    done.get();
                    System.out.printf("BENCH burst-10000 run %d: first pod request %.0f ms, all 8 workers registered"
                            + " %.0f ms%n", run, (tFirst - t0) / 1e6, (tAll - t0) / 1e6);
                }
            }
        }
    }

    @Test
    void spotTaintToWorkersRetiredWithTheirDataMoved() throws Exception {
        for (int run = 0; run < 3; run++) {
            try (MockCluster c = new MockCluster().withNodes(3)) {
                c.startScaler(c.settings(6, 6, 1), Duration.ofSeconds(5));
                await("six workers", Duration.ofSeconds(30), () -> c.scheduler.workerCount() == 6);
                try (JavaClient client = JavaClient.connect(c.scheduler.address())) {
                    List<JavaClient.Task> tasks = new ArrayList<>();
                    for (int i = 0; i < 6_000; i++) {
                        tasks.add(client.task("k8stest.random", i));
                    }
                    client.persist(tasks);
                    List<String> doomed = c.kubelet.placement().entrySet().stream()
                            .filter(e -> e.getValue().equals("spot-1")).map(Map.Entry::getKey).toList();
                    long held = c.scheduler.summary(false).workers().stream().filter(w -> doomed.contains(w.name()))
                            .mapToLong(w -> w.held()).sum();
                    long t0 = System.nanoTime();
                    c.kubelet.taint("spot-1", "aws-node-termination-handler/spot-itn", "NoSchedule");
                    await("retired", Duration.ofSeconds(60), () -> doomed.stream().noneMatch(c::registered));
                    long tRetired = System.nanoTime();
                    await("pods deleted", Duration.ofSeconds(60), () -> doomed.stream().allMatch(p -> c.kubelet.events()
                            .stream().anyMatch(e -> e.pod().equals(p) && e.what().equals("deleted"))));
                    long tDeleted = System.nanoTime();
                    await("replaced", Duration.ofSeconds(60), () -> c.scheduler.workerCount() == 6);
                    long tReplaced = System.nanoTime();
                    client.gather(tasks);
                    System.out.printf("BENCH spot run %d: %d workers holding %d results: retired (data moved) %.0f ms,"
                            + " pods deleted %.0f ms, replacements registered %.0f ms%n", run, doomed.size(), held,
                            (tRetired - t0) / 1e6, (tDeleted - t0) / 1e6, (tReplaced - t0) / 1e6);
                }
            }
        }
    }
}
