package org.cloudviper.k8s;

import org.cloudviper.k8s.kube.KubernetesScaler;
import org.cloudviper.k8s.kube.Taint;
import org.cloudviper.k8s.kube.WorkerPodSpec;
import org.cloudviper.k8s.policy.Interruptions;
import org.cloudviper.k8s.policy.ScalingPolicy;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** The scaler's options, shared by {@code scheduler --k8s-scaler} and {@code scaler}. */
final class ScalerOptions {
    private static final Path SERVICE_ACCOUNT_NAMESPACE = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace");

    @Option(names = "--k8s-namespace", paramLabel = "NS",
            description = "namespace of the worker pods (default: the pod's own, else default)")
    String namespace;

    @Option(names = "--k8s-cluster", paramLabel = "NAME", defaultValue = "cloudviper",
            description = "the pods' app.kubernetes.io/instance label and name prefix (default: ${DEFAULT-VALUE})")
    String cluster;

    @Option(names = "--k8s-image", paramLabel = "IMAGE", description = "the worker image (required to scale)")
    String image;

    @Option(names = "--k8s-image-pull-policy", paramLabel = "POLICY", description = "Always, IfNotPresent or Never")
    String imagePullPolicy;

    @Option(names = "--k8s-scheduler-address", paramLabel = "ADDR",
            description = "tcp://HOST:PORT the workers connect to (default: tcp://CLUSTER-scheduler:8786)")
    String schedulerAddress;

    @Option(names = "--k8s-worker-cpu", paramLabel = "CORES", defaultValue = "1",
            description = "whole cores per worker, requests = limits (default: ${DEFAULT-VALUE})")
    int cpu;

    @Option(names = "--k8s-worker-memory", paramLabel = "QTY", defaultValue = "4Gi",
            description = "memory per worker, requests = limits (default: ${DEFAULT-VALUE})")
    String memory;

    @Option(names = "--k8s-worker-nthreads", paramLabel = "N", defaultValue = "0",
            description = "threads per worker (default: one per core)")
    int nthreads;

    @Option(names = "--k8s-toleration", paramLabel = "KEY=VALUE:EFFECT",
            description = "taints of the worker nodes to tolerate; repeatable"
                    + " (default: k8s.dask.org/dedicated=worker:NoSchedule)")
    List<String> tolerations;

    @Option(names = "--k8s-spot-taint", paramLabel = "KEY=VALUE:EFFECT",
            description = "the taint of the spot node group, tolerated")
    String spotTaint;

    @Option(names = "--k8s-node-affinity", paramLabel = "LABEL=V1,V2",
            description = "nodes must have LABEL set to one of the values (e.g. kops.k8s.io/instancegroup=spot-a)")
    String affinity;

    @Option(names = "--k8s-node-selector", paramLabel = "KEY=VALUE", description = "required node label; repeatable")
    List<String> nodeSelector;

    @Option(names = "--k8s-label", paramLabel = "KEY=VALUE", description = "label of every worker pod; repeatable")
    List<String> labels;

    @Option(names = "--k8s-jvm-options", paramLabel = "OPTS", defaultValue = "",
            description = "JVM options of the workers (CLOUDVIPER_JVM_OPTIONS)")
    String jvmOptions;

    @Option(names = "--k8s-grace-period", paramLabel = "SECONDS", defaultValue = "120",
            description = "a worker pod's terminationGracePeriodSeconds (default: ${DEFAULT-VALUE})")
    long gracePeriod;

    @Option(names = "--k8s-min-workers", paramLabel = "N", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
    int minWorkers;

    @Option(names = "--k8s-max-workers", paramLabel = "N", defaultValue = "32", description = "(default: ${DEFAULT-VALUE})")
    int maxWorkers;

    @Option(names = "--k8s-target-duration", paramLabel = "SECONDS", defaultValue = "5",
            description = "how long queued work should take: Dask's adaptive target-duration (default: ${DEFAULT-VALUE})")
    double targetDuration;

    @Option(names = "--k8s-interval", paramLabel = "SECONDS", defaultValue = "1",
            description = "time between scaling rounds (default: ${DEFAULT-VALUE})")
    double interval;

    @Option(names = "--k8s-scale-down-after", paramLabel = "ROUNDS", defaultValue = "3",
            description = "rounds in a row asking to shrink before idle workers retire (default: ${DEFAULT-VALUE})")
    int scaleDownAfter;

    @Option(names = "--k8s-interruption-taint", paramLabel = "KEY",
            description = "taint key announcing a node's interruption; repeatable (default: the AWS node"
                    + " termination handler's spot-itn and rebalance-recommendation); cordoned or deleted"
                    + " nodes always count")
    List<String> interruptionTaints;

    Duration targetDuration() {
        return Duration.ofMillis((long) (targetDuration * 1000));
    }

    KubernetesScaler.Settings settings() {
        if (image == null) {
            throw new IllegalArgumentException("--k8s-image: the worker image is required to scale");
        }
        List<Taint> tol = new ArrayList<>();
        if (tolerations == null) {
            tol.add(WorkerPodSpec.DASK_WORKER_TAINT);
        } else {
            tolerations.forEach(t -> tol.add(Taint.parse(t)));
        }
        String address = schedulerAddress != null ? schedulerAddress : "tcp://" + cluster + "-scheduler:8786";
        WorkerPodSpec pod = WorkerPodSpec.of(image, address, cpu, memory).withTolerations(tol).withNthreads(nthreads)
                .withNodeSelector(pairs(nodeSelector, "--k8s-node-selector")).withLabels(pairs(labels, "--k8s-label"))
                .withJvmOptions(jvmOptions).withGracePeriodSeconds(gracePeriod).withImagePullPolicy(imagePullPolicy);
        Taint spot = spotTaint == null ? null : Taint.parse(spotTaint);
        String label = null;
        List<String> values = List.of();
        if (affinity != null) {
            int eq = affinity.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--k8s-node-affinity: " + affinity + " (expected: LABEL=V1,V2)");
            }
            label = affinity.substring(0, eq);
            values = Arrays.asList(affinity.substring(eq + 1).split(","));
        }
        pod = pod.withSpot(spot, label, values);
        Interruptions interruptions = interruptionTaints == null ? Interruptions.defaults()
                : new Interruptions(new LinkedHashSet<>(interruptionTaints));
        return new KubernetesScaler.Settings(namespace(), cluster, pod,
                new ScalingPolicy.Limits(minWorkers, maxWorkers, scaleDownAfter), interruptions,
                Duration.ofMillis((long) (interval * 1000)));
    }

    private String namespace() {
        if (namespace != null) {
            return namespace;
        }
        try {
            return Files.isReadable(SERVICE_ACCOUNT_NAMESPACE) ? Files.readString(SERVICE_ACCOUNT_NAMESPACE).trim() : "default";
        } catch (IOException e) {
            return "default";
        }
    }

    private static Map<String, String> pairs(List<String> list, String option) {
        Map<String, String> r = new LinkedHashMap<>();
        if (list != null) {
            for (String kv : list) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException(option + ": " + kv + " (expected: KEY=VALUE)");
                }
                r.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return r;
    }
}
