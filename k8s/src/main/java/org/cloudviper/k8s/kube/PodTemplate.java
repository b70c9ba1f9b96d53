package org.cloudviper.k8s.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Builds a worker pod from a {@link WorkerPodSpec}: the worker's name is the pod's name (the scaler
 * finds a pod's worker by it), CPU requests equal limits in whole cores and memory requests equal
 * limits (a Guaranteed pod), the worker tolerations, node affinity to the spot instance groups and
 * away from nodes being interrupted, probes on {@code /health}, and a grace period for moving data on
 * SIGTERM. The restart policy is Never: a worker that exits is replaced by the scaler, not restarted
 * with a stale name.
 */
public final class PodTemplate {
    /** The labels every pod of the scaler has; a cluster's pods also carry {@link #INSTANCE}. */
    public static final String NAME = "app.kubernetes.io/name";
    public static final String INSTANCE = "app.kubernetes.io/instance";
    public static final String COMPONENT = "app.kubernetes.io/component";
    /** The node label of a node's own name, which anti-affinity to interrupted nodes uses. */
    public static final String HOSTNAME = "kubernetes.io/hostname";

    private PodTemplate() {
    }

    /** The labels that select the worker pods of {@code cluster}. */
    public static Map<String, String> selector(String cluster) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(NAME, "cloudviper");
        m.put(INSTANCE, cluster);
        m.put(COMPONENT, "worker");
        return m;
    }

    public static Pod build(WorkerPodSpec spec, String cluster, String podName, Collection<String> avoidNodes) {
        Map<String, String> labels = new LinkedHashMap<>(spec.labels());
        labels.putAll(selector(cluster));
        Map<String, Quantity> resources = Map.of("cpu", new Quantity(Integer.toString(spec.cpu())),
                "memory", new Quantity(spec.memory()));
        Probe health = new ProbeBuilder().withNewHttpGet().withPath("/health")
                .withNewPort(WorkerPodSpec.HTTP_PORT).endHttpGet().withPeriodSeconds(10).withFailureThreshold(3)
                .build();
        Container worker = new ContainerBuilder()
                .withName("worker")
                .withImage(spec.image())
                .withImagePullPolicy(spec.imagePullPolicy())
                .withArgs("worker", spec.schedulerAddress(), "--name", podName,
                        "--nthreads", Integer.toString(spec.threads()), "--memory-limit", "auto",
                        "--host", "$(POD_IP)", "--listen-port", Integer.toString(WorkerPodSpec.WORKER_PORT),
                        "--dashboard-address", ":" + WorkerPodSpec.HTTP_PORT)
                .addNewEnv().withName("POD_IP").withNewValueFrom().withNewFieldRef().withFieldPath("status.podIP")
                .endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("CLOUDVIPER_JVM_OPTIONS").withValue(spec.jvmOptions()).endEnv()
                .addNewPort().withName("dask").withContainerPort(WorkerPodSpec.WORKER_PORT).endPort()
                .addNewPort().withName("http").withContainerPort(WorkerPodSpec.HTTP_PORT).endPort()
                .withNewResources().withRequests(resources).withLimits(resources).endResources()
                .withLivenessProbe(health)
                .withReadinessProbe(new ProbeBuilder(health).withPeriodSeconds(5).build())
                .build();

        List<Toleration> tolerations = new ArrayList<>();
        for (Taint t : spec.tolerations()) {
            tolerations.add(toleration(t));
        }
        if (spec.spotTaint() != null) {
            tolerations.add(toleration(spec.spotTaint()));
        }
        List<NodeSelectorRequirement> rules = new ArrayList<>();
        if (spec.affinityLabel() != null && !spec.affinityValues().isEmpty()) {
            rules.add(new NodeSelectorRequirementBuilder().withKey(spec.affinityLabel()).withOperator("In")
                    .withValues(spec.affinityValues()).build());
        }
        if (!avoidNodes.isEmpty()) {
            rules.add(new NodeSelectorRequirementBuilder().withKey(HOSTNAME).withOperator("NotIn")
                    .withValues(new ArrayList<>(new TreeSet<>(avoidNodes))).build());
        }
        PodBuilder b = new PodBuilder()
                .withNewMetadata().withName(podName).withLabels(labels).endMetadata()
                .withNewSpec()
                .withContainers(worker)
                .withRestartPolicy("Never")
                .withTerminationGracePeriodSeconds(spec.gracePeriodSeconds())
                .withTolerations(tolerations)
                .withNodeSelector(spec.nodeSelector().isEmpty() ? null : spec.nodeSelector())
                .endSpec();
        if (!rules.isEmpty()) {
            b.editSpec().withNewAffinity().withNewNodeAffinity()
                    .withNewRequiredDuringSchedulingIgnoredDuringExecution()
                    .addNewNodeSelectorTerm().withMatchExpressions(rules).endNodeSelectorTerm()
                    .endRequiredDuringSchedulingIgnoredDuringExecution()
                    .endNodeAffinity().endAffinity().endSpec();
        }
        return b.build();
    }

    private static Toleration toleration(Taint t) {
        return new TolerationBuilder().withKey(t.key()).withOperator(t.value() == null ? "Exists" : "Equal")
                .withValue(t.value()).withEffect(t.effect()).build();
    }
}
