package org.cloudviper.k8s.kube;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.cloudviper.k8s.control.SchedulerControl;
import org.cloudviper.k8s.policy.Interruptions;
import org.cloudviper.k8s.policy.NodeView;
import org.cloudviper.k8s.policy.PodView;
import org.cloudviper.k8s.policy.ScalingPolicy;
import org.cloudviper.k8s.policy.WorkerView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The scaler against a Kubernetes API server (fabric8): informers keep the worker pods of one cluster
 * and the nodes; every {@code interval}, and at once when a node turns interrupted or a pod comes or
 * goes, one thread observes (pods, nodes, the scheduler's workers and adaptive target), asks the
 * {@link ScalingPolicy} and carries out its decision: retire workers through the scheduler, delete
 * their pods once their data has moved, create pods from the {@link PodTemplate}.
 */
public final class KubernetesScaler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(KubernetesScaler.class);
    /** How long a created pod counts without the informer showing it (then it is taken as lost). */
    private static final long UNSEEN_NANOS = TimeUnit.SECONDS.toNanos(60);

    /**
     * @param namespace     where the worker pods live
     * @param cluster       the value of the pods' {@code app.kubernetes.io/instance} label
     * @param pod           what a worker pod looks like
     * @param limits        min and max workers, rounds before scaling down
     * @param interruptions which nodes count as interrupted
     * @param interval      time between rounds when nothing happens
     */
    public record Settings(String namespace, String cluster, WorkerPodSpec pod, ScalingPolicy.Limits limits,
                           Interruptions interruptions, Duration interval) {
        public Settings {
            Objects.requireNonNull(namespace, "namespace");
            Objects.requireNonNull(cluster, "cluster");
            Objects.requireNonNull(pod, "pod");
        }
    }

    private final KubernetesClient client;
    private final SchedulerControl scheduler;
    private final Settings settings;
    private final ScalingPolicy policy;
    private final ScheduledExecutorService thread;
    private final SharedIndexInformer<Pod> pods;
    private final SharedIndexInformer<Node> nodes;
    /** Worker names being retired (spot), and whether an idle scale-down is in flight. Scaler thread only. */
    private final Set<String> retiring = new HashSet<>();
    private boolean idleRetirementInFlight;
    /**
     * Pods created but not yet in the informer's cache, with their creation round's time: counted as
     * pending pods meanwhile, or the next round would create them again. Scaler thread only.
     */
    private final Map<String, Long> unseen = new LinkedHashMap<>();
    /** Pods deleted whose deletion the informer has not shown yet: taken as going. Scaler thread only. */
    private final Map<String, Long> deleted = new LinkedHashMap<>();
    private final AtomicBoolean nudged = new AtomicBoolean();
    private volatile boolean closed;
    private volatile boolean started;

    private KubernetesScaler(KubernetesClient client, SchedulerControl scheduler, Settings settings) {
        this.client = client;
        this.scheduler = scheduler;
        this.settings = settings;
        this.policy = new ScalingPolicy(settings.limits());
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cloudviper-scaler");
            t.setDaemon(true);
            return t;
        });
        this.nodes = client.nodes().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Node n) {
                onUpdate(null, n);
            }

            @Override
            public void onUpdate(Node before, Node after) {
                if (!interrupted(before) && interrupted(after)) {
                    log.warn("Node {} is being interrupted: retiring its workers", after.getMetadata().getName());
                    nudge();
                }
            }

            @Override
            public void onDelete(Node n, boolean deletedFinalStateUnknown) {
                nudge();
            }
        }, 0);
        this.pods = client.pods().inNamespace(settings.namespace()).withLabels(PodTemplate.selector(settings.cluster()))
                .inform(new ResourceEventHandler<>() {
                    @Override
                    public void onAdd(Pod p) {
                    }

                    @Override
                    public void onUpdate(Pod before, Pod after) {
                        if (!view(before).finished() && view(after).finished()) {
                            nudge(); // a worker exited: replace it
                        }
                    }

                    @Override
                    public void onDelete(Pod p, boolean deletedFinalStateUnknown) {
                    }
                }, 0);
    }

    /** Starts watching and scaling; stop with {@link #close}. */
    public static KubernetesScaler start(KubernetesClient client, SchedulerControl scheduler, Settings settings) {
        KubernetesScaler s = new KubernetesScaler(client, scheduler, settings);
        s.started = true;
        long every = Math.max(1, settings.interval().toMillis());
        s.thread.scheduleWithFixedDelay(s::round, 0, every, TimeUnit.MILLISECONDS);
        log.info("Scaling worker pods of {} in {} between {} and {}", settings.cluster(), settings.namespace(),
                settings.limits().min(), settings.limits().max());
        return s;
    }

    /**
     * Runs a round soon, out of the interval: for what cannot wait (an interrupted node, an exited
     * worker); everything else waits for the next round, so that a burst of events does not count as
     * many rounds toward scaling down.
     */
    public void nudge() {
        if (!closed && started && nudged.compareAndSet(false, true)) {
            thread.execute(() -> {
                nudged.set(false);
                round();
            });
        }
    }

    private void round() {
        if (closed) {
            return;
        }
        try {
            Set<String> interrupted = new LinkedHashSet<>();
            for (Node n : nodes.getStore().list()) {
                if (interrupted(n)) {
                    interrupted.add(n.getMetadata().getName());
                }
            }
            List<PodView> podViews = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            long now = System.nanoTime();
            deleted.values().removeIf(t -> now - t > UNSEEN_NANOS);
            for (Pod p : pods.getStore().list()) {
                PodView v = view(p);
                podViews.add(deleted.containsKey(v.name())
                        ? new PodView(v.name(), v.node(), v.finished(), true, v.created()) : v);
                seen.add(p.getMetadata().getName());
            }
            unseen.entrySet().removeIf(e -> seen.contains(e.getKey()) || now - e.getValue() > UNSEEN_NANOS);
            for (String name : unseen.keySet()) {
                podViews.add(new PodView(name, null, false, false, Double.MAX_VALUE));
            }
            List<WorkerView> workers = scheduler.workers();
            int target = scheduler.adaptiveTarget();
            ScalingPolicy.Decision d = policy.decide(new ScalingPolicy.Observation(target, podViews, workers,
                    interrupted, Set.copyOf(retiring)));
            if (!d.isEmpty()) {
                log.info("target {}, {} pods, {} workers, interrupted nodes {}: {}", target, podViews.size(),
                        workers.size(), interrupted, d);
            }
            apply(d, workers);
        } catch (RuntimeException | java.io.IOException e) {
            log.warn("Scaling round failed: {}", e.toString());
        }
    }

    private void apply(ScalingPolicy.Decision d, List<WorkerView> workers) {
        if (!d.retireInterrupted().isEmpty()) {
            List<String> names = new ArrayList<>();
            for (WorkerView w : workers) {
                if (d.retireInterrupted().contains(w.address())) {
                    names.add(w.name());
                }
            }
            retiring.addAll(names);
            scheduler.retire(d.retireInterrupted()).whenComplete((retired, err) -> thread.execute(() -> {
                names.forEach(retiring::remove);
                if (err != null) {
                    log.warn("Retiring workers on interrupted nodes failed: {}", err.toString());
                } else {
                    log.info("Retired workers on interrupted nodes: {}", retired.values());
                    retired.values().forEach(this::deletePod);
                }
                nudge();
            }));
        }
        if (d.retireIdle() > 0 && !idleRetirementInFlight) {
            idleRetirementInFlight = true;
            scheduler.retireIdle(d.retireIdle()).whenComplete((retired, err) -> thread.execute(() -> {
                idleRetirementInFlight = false;
                if (err != null) {
                    log.warn("Retiring idle workers failed: {}", err.toString());
                } else {
                    log.info("Retired idle workers: {}", retired.values());
                    retired.values().forEach(this::deletePod);
                }
            }));
        }
        d.deletePods().forEach(this::deletePod);
        for (int i = 0; i < d.createPods(); i++) {
            String name = settings.cluster() + "-worker-" + suffix();
            Pod pod = PodTemplate.build(settings.pod(), settings.cluster(), name, d.avoidNodes());
            try {
                client.pods().inNamespace(settings.namespace()).resource(pod).create();
                unseen.put(name, System.nanoTime());
                log.info("Created worker pod {}", name);
            } catch (KubernetesClientException e) {
                log.warn("Creating pod {} failed: {}", name, e.getMessage());
                break;
            }
        }
    }

    private void deletePod(String name) {
        try {
            client.pods().inNamespace(settings.namespace()).withName(name).delete();
            deleted.put(name, System.nanoTime());
            log.info("Deleted worker pod {}", name);
        } catch (KubernetesClientException e) {
            log.warn("Deleting pod {} failed: {}", name, e.getMessage());
        }
    }

    private static String suffix() {
        String chars = "bcdfghjklmnpqrstvwxz2456789";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            sb.append(chars.charAt(ThreadLocalRandom.current().nextInt(chars.length())));
        }
        return sb.toString();
    }

    static PodView view(Pod p) {
        String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
        boolean finished = "Succeeded".equals(phase) || "Failed".equals(phase);
        String node = p.getSpec() == null ? null : p.getSpec().getNodeName();
        return new PodView(p.getMetadata().getName(), node, finished, p.getMetadata().getDeletionTimestamp() != null,
                seconds(p.getMetadata().getCreationTimestamp()));
    }

    static NodeView view(Node n) {
        Set<String> taints = new HashSet<>();
        if (n.getSpec() != null && n.getSpec().getTaints() != null) {
            for (Taint t : n.getSpec().getTaints()) {
                taints.add(t.getKey());
            }
        }
        boolean cordoned = n.getSpec() != null && Boolean.TRUE.equals(n.getSpec().getUnschedulable());
        return new NodeView(n.getMetadata().getName(), taints, cordoned, n.getMetadata().getDeletionTimestamp() != null);
    }

    private boolean interrupted(Node n) {
        return n != null && settings.interruptions().interrupted(view(n));
    }

    private static double seconds(String timestamp) {
        if (timestamp == null) {
            return Double.MAX_VALUE; // not yet stamped: the newest
        }
        try {
            return Instant.parse(timestamp).toEpochMilli() / 1000.0;
        } catch (DateTimeParseException e) {
            return Double.MAX_VALUE;
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.shutdown();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pods.close();
        nodes.close();
    }
}
