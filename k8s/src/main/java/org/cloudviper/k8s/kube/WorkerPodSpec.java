package org.cloudviper.k8s.kube;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What every worker pod looks like.
 *
 * @param image             the worker image (its entrypoint takes {@code worker ARGS...})
 * @param schedulerAddress  {@code tcp://HOST:PORT} the workers connect to
 * @param cpu               whole cores, requested and limited alike: a Guaranteed pod, so the kubelet's
 *                          static CPU manager pins it to cores of its own (what replaces disabling
 *                          hyperthreads on the node)
 * @param memory            memory request and limit, a Kubernetes quantity ("16Gi")
 * @param nthreads          worker threads (0: one per core)
 * @param tolerations       taints of the worker nodes to tolerate, such as
 *                          {@code k8s.dask.org/dedicated=worker:NoSchedule}
 * @param spotTaint         the taint of the spot node group, tolerated too (null: none)
 * @param affinityLabel     node label the workers must have one of {@code affinityValues} of, such as
 *                          {@code kops.k8s.io/instancegroup} (null: no such rule)
 * @param affinityValues    the accepted values (the spot instance groups)
 * @param nodeSelector      node labels required as they are
 * @param labels            labels added to each pod (the scaler's own labels come on top)
 * @param jvmOptions        JVM options for the worker (the entrypoint reads CLOUDVIPER_JVM_OPTIONS)
 * @param gracePeriodSeconds time between SIGTERM and SIGKILL: the worker moves its data meanwhile
 * @param imagePullPolicy   Always, IfNotPresent or Never (null: the cluster's default)
 */
public record WorkerPodSpec(String image, String schedulerAddress, int cpu, String memory, int nthreads,
                            List<Taint> tolerations, Taint spotTaint, String affinityLabel,
                            List<String> affinityValues, Map<String, String> nodeSelector, Map<String, String> labels,
                            String jvmOptions, long gracePeriodSeconds, String imagePullPolicy) {
    /** The toleration of the Dask helm chart's worker nodes. */
    public static final Taint DASK_WORKER_TAINT = Taint.parse("k8s.dask.org/dedicated=worker:NoSchedule");
    /** The worker's Dask port inside its pod. */
    public static final int WORKER_PORT = 8789;
    /** {@code /health} and {@code /metrics} inside the pod. */
    public static final int HTTP_PORT = 8788;

    public WorkerPodSpec {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(schedulerAddress, "schedulerAddress");
        Objects.requireNonNull(memory, "memory");
        if (cpu < 1) {
            throw new IllegalArgumentException("cpu: " + cpu + " (expected: whole cores, >= 1)");
        }
        tolerations = List.copyOf(tolerations);
        affinityValues = List.copyOf(affinityValues);
        nodeSelector = Map.copyOf(nodeSelector);
        labels = Map.copyOf(labels);
    }

    public static WorkerPodSpec of(String image, String schedulerAddress, int cpu, String memory) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, 0, List.of(DASK_WORKER_TAINT), null, null,
                List.of(), Map.of(), Map.of(), "", 120, null);
    }

    public WorkerPodSpec withSpot(Taint taint, String label, List<String> values) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, nthreads, tolerations, taint, label, values,
                nodeSelector, labels, jvmOptions, gracePeriodSeconds, imagePullPolicy);
    }

    public WorkerPodSpec withNodeSelector(Map<String, String> v) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, nthreads, tolerations, spotTaint,
                affinityLabel, affinityValues, v, labels, jvmOptions, gracePeriodSeconds, imagePullPolicy);
    }

    public WorkerPodSpec withLabels(Map<String, String> v) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, nthreads, tolerations, spotTaint,
                affinityLabel, affinityValues, nodeSelector, v, jvmOptions, gracePeriodSeconds, imagePullPolicy);
    }

    public WorkerPodSpec withJvmOptions(String v) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, nthreads, tolerations, spotTaint,
                affinityLabel, affinityValues, nodeSelector, labels, v, gracePeriodSeconds, imagePullPolicy);
    }

    public WorkerPodSpec withNthreads(int v) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, v, tolerations, spotTaint,
                affinityLabel, affinityValues, nodeSelector, labels, jvmOptions, gracePeriodSeconds, imagePullPolicy);
    }

    public WorkerPodSpec withTolerations(List<Taint> v) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, nthreads, v, spotTaint,
                affinityLabel, affinityValues, nodeSelector, labels, jvmOptions, gracePeriodSeconds, imagePullPolicy);
    }

    public WorkerPodSpec withImagePullPolicy(String v) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, nthreads, tolerations, spotTaint,
                affinityLabel, affinityValues, nodeSelector, labels, jvmOptions, gracePeriodSeconds, v);
    }

    public WorkerPodSpec withGracePeriodSeconds(long v) {
        return new WorkerPodSpec(image, schedulerAddress, cpu, memory, nthreads, tolerations, spotTaint,
                affinityLabel, affinityValues, nodeSelector, labels, jvmOptions, v, imagePullPolicy);
    }

    /** The worker's threads: {@link #nthreads}, or one per requested core. */
    public int threads() {
        return nthreads > 0 ? nthreads : cpu;
    }
}
