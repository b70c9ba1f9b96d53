package org.cloudviper.k8s.testing;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import org.cloudviper.worker.Worker;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.tasks.TaskRegistry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * What the cluster would do with the scaler's pods, against the fabric8 mock API server: places each
 * new worker pod on a node as kube-scheduler would (taints tolerated or not, node affinity, cordons),
 * marks it Running and starts an in-process Java worker named like the pod, connected to the
 * scheduler under test; a deleted pod's worker gets SIGTERM's treatment ({@link Worker#closeGracefully});
 * a worker that exits on its own (told to close after retirement) leaves its pod Succeeded. Records
 * what happened when, for the tests' assertions and the benchmarks.
 */
public final class KubeletSim implements AutoCloseable {
    /** One thing that happened to a pod, at {@code nanos} (System.nanoTime). */
    public record PodEvent(String pod, String what, String node, long nanos, boolean workerRegistered) {
    }

    private final KubernetesClient client;
    private final String namespace;
    private final String schedulerAddress;
    private final TaskRegistry tasks;
    private final Predicate<String> registered;
    private final Map<String, Worker> workers = new ConcurrentHashMap<>();
    private final Map<String, String> placement = new ConcurrentHashMap<>();
    private final Set<String> gone = ConcurrentHashMap.newKeySet();
    private final List<PodEvent> events = new CopyOnWriteArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "kubelet-sim");
        t.setDaemon(true);
        return t;
    });
    private final Watch watch;

    /**
     * @param registered whether the scheduler counts a worker of this name as registered (recorded
     *                   with each deletion: a retired worker is gone before its pod is)
     */
    public KubeletSim(KubernetesClient client, String namespace, String schedulerAddress, TaskRegistry tasks,
                      Predicate<String> registered) {
        this.client = client;
        this.namespace = namespace;
        this.schedulerAddress = schedulerAddress;
        this.tasks = tasks;
        this.registered = registered;
        this.watch = client.pods().inNamespace(namespace).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, Pod pod) {
                String name = pod.getMetadata().getName();
                if (action == Action.ADDED && pod.getSpec().getNodeName() == null) {
                    threads.execute(() -> schedule(name));
                } else if (action == Action.DELETED) {
                    gone.add(name);
                    events.add(new PodEvent(name, "deleted", placement.get(name), System.nanoTime(),
                            registered.test(name)));
                    Worker w = workers.remove(name);
                    if (w != null) {
                        threads.execute(() -> w.closeGracefully(Duration.ofSeconds(30))); // SIGTERM
                    }
                }
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        });
    }

    /** Adds a node with these labels and taints ({@code key=value:Effect}). */
    public void addNode(String name, Map<String, String> labels, String... taints) {
        Map<String, String> l = new HashMap<>(labels);
        l.put("kubernetes.io/hostname", name);
        NodeBuilder b = new NodeBuilder().withNewMetadata().withName(name).withLabels(l).endMetadata().withNewSpec()
                .endSpec();
        for (String t : taints) {
            org.cloudviper.k8s.kube.Taint p = org.cloudviper.k8s.kube.Taint.parse(t);
            b.editSpec().addToTaints(new TaintBuilder().withKey(p.key()).withValue(p.value()).withEffect(p.effect())
                    .build()).endSpec();
        }
        client.nodes().resource(b.build()).create();
    }

    /** What the AWS node termination handler does on a spot interruption notice. */
    public void taint(String node, String key, String effect) {
        client.nodes().withName(node).edit(n -> new NodeBuilder(n).editSpec()
                .addToTaints(new TaintBuilder().withKey(key).withEffect(effect).build()).endSpec().build());
    }

    private void schedule(String name) {
        long started = System.nanoTime();
        events.add(new PodEvent(name, "created", null, started, false));
        Pod pod = client.pods().inNamespace(namespace).withName(name).get();
        if (pod == null) {
            return;
        }
        String node;
        synchronized (placement) {
            node = chooseNode(pod);
            if (node == null) {
                events.add(new PodEvent(name, "unschedulable", null, System.nanoTime(), false));
                return;
            }
            placement.put(name, node);
        }
        try {
            client.pods().inNamespace(namespace).withName(name).edit(p -> {
                p.getSpec().setNodeName(node);
                p.setStatus(new PodStatusBuilder().withPhase("Running").withPodIP("127.0.0.1").build());
                return p;
            });
        } catch (KubernetesClientException e) {
            return; // deleted meanwhile
        }
        int nthreads = Integer.parseInt(arg(pod, "--nthreads"));
        try {
            Worker w = Worker.start(WorkerConfig.defaults(schedulerAddress).withName(name).withNthreads(nthreads)
                    .withMemoryLimit(1L << 30).withHost("127.0.0.1"), tasks);
            workers.put(name, w);
            events.add(new PodEvent(name, "registered", node, System.nanoTime(), true));
            w.closed().thenRun(() -> {
                if (workers.remove(name) != null) {
                    events.add(new PodEvent(name, "exited", node, System.nanoTime(), registered.test(name)));
                    try {
                        client.pods().inNamespace(namespace).withName(name).edit(p -> {
                            p.setStatus(new PodStatusBuilder().withPhase("Succeeded").build());
                            return p;
                        });
                    } catch (KubernetesClientException e) {
                        // deleted meanwhile
                    }
                }
            });
            if (client.pods().inNamespace(namespace).withName(name).get() == null && workers.remove(name) != null) {
                w.close(); // deleted while starting
            }
        } catch (Exception e) {
            events.add(new PodEvent(name, "failed: " + e, node, System.nanoTime(), false));
        }
    }

    private static String arg(Pod pod, String option) {
        List<String> args = pod.getSpec().getContainers().get(0).getArgs();
        return args.get(args.indexOf(option) + 1);
    }

    /** The schedulable node that fits the pod and has its fewest pods; null if none. */
    private String chooseNode(Pod pod) {
        String best = null;
        long bestCount = Long.MAX_VALUE;
        for (Node n : client.nodes().list().getItems()) {
            if (!fits(pod, n)) {
                continue;
            }
            String name = n.getMetadata().getName();
            long count = placement.entrySet().stream().filter(e -> e.getValue().equals(name)
                    && !gone.contains(e.getKey())).count();
            if (count < bestCount) {
                best = name;
                bestCount = count;
            }
        }
        return best;
    }

    static boolean fits(Pod pod, Node n) {
        if (Boolean.TRUE.equals(n.getSpec().getUnschedulable())) {
            return false;
        }
        for (io.fabric8.kubernetes.api.model.Taint t : n.getSpec().getTaints()) {
            boolean tolerated = "PreferNoSchedule".equals(t.getEffect()) || pod.getSpec().getTolerations().stream()
                    .anyMatch(tol -> tol.getKey().equals(t.getKey()) && (tol.getEffect() == null
                            || tol.getEffect().equals(t.getEffect()))
                            && ("Exists".equals(tol.getOperator()) || java.util.Objects.equals(tol.getValue(), t.getValue())));
            if (!tolerated) {
                return false;
            }
        }
        Map<String, String> labels = n.getMetadata().getLabels();
        Map<String, String> selector = pod.getSpec().getNodeSelector();
        if (selector != null && !selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())))) {
            return false;
        }
        if (pod.getSpec().getAffinity() == null) {
            return true;
        }
        for (NodeSelectorTerm term : pod.getSpec().getAffinity().getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms()) {
            boolean all = true;
            for (NodeSelectorRequirement r : term.getMatchExpressions()) {
                String v = labels.get(r.getKey());
                boolean in = v != null && r.getValues().contains(v);
                all &= "In".equals(r.getOperator()) ? in : !in;
            }
            if (all) {
                return true;
            }
        }
        return false;
    }

    public List<PodEvent> events() {
        return new ArrayList<>(events);
    }

    /** The node each pod was placed on. */
    public Map<String, String> placement() {
        return Map.copyOf(placement);
    }

    /** The pods whose worker runs now. */
    public Set<String> running() {
        return Set.copyOf(workers.keySet());
    }

    @Override
    public void close() {
        watch.close();
        for (Worker w : workers.values()) {
            w.close();
        }
        workers.clear();
        threads.shutdownNow();
        try {
            threads.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
