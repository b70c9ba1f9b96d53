package org.cloudviper.k8s.testing;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.cloudviper.k8s.control.InProcessScheduler;
import org.cloudviper.k8s.kube.KubernetesScaler;
import org.cloudviper.k8s.kube.PodTemplate;
import org.cloudviper.k8s.kube.Taint;
import org.cloudviper.k8s.kube.WorkerPodSpec;
import org.cloudviper.k8s.policy.Interruptions;
import org.cloudviper.k8s.policy.ScalingPolicy;
import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.worker.tasks.TaskRegistry;

import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

/**
 * A whole test cluster in one JVM: the fabric8 mock API server (CRUD mode), a cloudviper scheduler,
 * the {@link KubeletSim} that backs every pod with a Java worker, and the scaler in between (in-process
 * control, as {@code scheduler --k8s-scaler} runs it). Nodes: a spot instance group tainted for Dask
 * workers and for spot, plus a tainted on-demand node workers must not land on.
 */
public final class MockCluster implements AutoCloseable {
    public static final String NAMESPACE = "imaging";
    public static final String CLUSTER = "cv";
    public static final String GROUP_LABEL = "kops.k8s.io/instancegroup";
    public static final Taint SPOT = Taint.parse("spot=true:NoSchedule");

    /** Tasks of the tests: a sleep that returns its second argument; a random number (recomputing changes it). */
    public static final TaskRegistry TASKS = TaskRegistry.withBuiltins()
            .register("k8stest.sleep", (args, kw) -> {
                Thread.sleep((Long) args.get(0));
                return args.get(1);
            })
            .register("k8stest.random", (args, kw) -> ThreadLocalRandom.current().nextLong());

    /** The mock server logs every request at INFO: kept quiet (a strong reference keeps the level). */
    private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

    static {
        MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    public final KubernetesMockServer server;
    public final KubernetesClient client;
    public final Scheduler scheduler;
    public final KubeletSim kubelet;
    private KubernetesScaler scaler;

    public MockCluster() throws Exception {
        this(SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0));
    }

    public MockCluster(SchedulerConfig config) throws Exception {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false); // CRUD mode: objects are stored, watches see changes
        server.init(InetAddress.getLoopbackAddress(), 0);
        client = server.createClient();
        scheduler = Scheduler.start(config);
        client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata()
                .withName(NAMESPACE).endMetadata().build()).create();
        kubelet = new KubeletSim(client, NAMESPACE, scheduler.address(), TASKS, this::registered);
    }

    /** {@code n} spot nodes {@code spot-1..n} of instance group spot-workers, and one on-demand node. */
    public MockCluster withNodes(int n) {
        for (int i = 1; i <= n; i++) {
            kubelet.addNode("spot-" + i, Map.of(GROUP_LABEL, "spot-workers"), "k8s.dask.org/dedicated=worker:NoSchedule",
                    SPOT.toString());
        }
        kubelet.addNode("on-demand-1", Map.of(GROUP_LABEL, "nodes"), "node-role.kubernetes.io/control-plane:NoSchedule");
        return this;
    }

    public KubernetesScaler.Settings settings(int min, int max, int threadsPerWorker) {
        WorkerPodSpec pod = WorkerPodSpec.of("cloudviper-worker:test", "tcp://cv-scheduler:8786", threadsPerWorker, "1Gi")
                .withSpot(SPOT, GROUP_LABEL, List.of("spot-workers"));
        return new KubernetesScaler.Settings(NAMESPACE, CLUSTER, pod, new ScalingPolicy.Limits(min, max, 3),
                Interruptions.defaults(), Duration.ofMillis(200));
    }

    public MockCluster startScaler(KubernetesScaler.Settings settings, Duration targetDuration) {
        return startScaler(settings, new InProcessScheduler(scheduler, targetDuration));
    }

    public MockCluster startScaler(KubernetesScaler.Settings settings, org.cloudviper.k8s.control.SchedulerControl control) {
        scaler = KubernetesScaler.start(client, control, settings);
        return this;
    }

    public boolean registered(String name) {
        return scheduler.summary(false).workers().stream().anyMatch(w -> w.name().equals(name));
    }

    /** The cluster's worker pods that exist now. */
    public int pods() {
        return client.pods().inNamespace(NAMESPACE).withLabels(PodTemplate.selector(CLUSTER)).list().getItems().size();
    }

    public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout.toSeconds() + " s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() {
        if (scaler != null) {
            scaler.close();
        }
        kubelet.close();
        scheduler.close();
        client.close();
        server.destroy();
    }
}
