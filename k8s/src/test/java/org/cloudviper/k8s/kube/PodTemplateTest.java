package org.cloudviper.k8s.kube;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Toleration;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A worker pod as the scaler creates it. */
class PodTemplateTest {
    private static final WorkerPodSpec SPEC = WorkerPodSpec.of("registry.example/cloudviper-worker:1", "tcp://s:8786",
                    8, "60Gi")
            .withSpot(Taint.parse("spot=true:NoSchedule"), "kops.k8s.io/instancegroup", List.of("spot-a", "spot-b"))
            .withNodeSelector(Map.of("kubernetes.io/arch", "amd64")).withLabels(Map.of("team", "alma"))
            .withJvmOptions("-XX:+UseParallelGC");

    @Test
    void guaranteedWholeCoresTolerationsAffinityProbes() {
        Pod p = PodTemplate.build(SPEC, "imaging", "imaging-worker-x", Set.of("spot-node-3"));
        assertEquals("imaging-worker-x", p.getMetadata().getName());
        assertEquals(Map.of("team", "alma", PodTemplate.NAME, "cloudviper", PodTemplate.INSTANCE, "imaging",
                PodTemplate.COMPONENT, "worker"), p.getMetadata().getLabels());
        Container c = p.getSpec().getContainers().get(0);
        Map<String, Quantity> expected = Map.of("cpu", new Quantity("8"), "memory", new Quantity("60Gi"));
        assertEquals(expected, c.getResources().getRequests());
        assertEquals(expected, c.getResources().getLimits(), "requests = limits: Guaranteed, pinned cores");
        assertEquals(List.of("worker", "tcp://s:8786", "--name", "imaging-worker-x", "--nthreads", "8",
                "--memory-limit", "auto", "--host", "$(POD_IP)", "--listen-port", "8789",
                "--dashboard-address", ":8788"), c.getArgs());
        assertEquals("/health", c.getLivenessProbe().getHttpGet().getPath());
        assertEquals(8788, c.getReadinessProbe().getHttpGet().getPort().getIntVal());
        assertEquals("-XX:+UseParallelGC", c.getEnv().stream().filter(e -> e.getName().equals("CLOUDVIPER_JVM_OPTIONS"))
                .findFirst().orElseThrow().getValue());
        List<Toleration> t = p.getSpec().getTolerations();
        assertEquals(2, t.size());
        assertEquals("k8s.dask.org/dedicated", t.get(0).getKey());
        assertEquals("worker", t.get(0).getValue());
        assertEquals("Equal", t.get(0).getOperator());
        assertEquals("NoSchedule", t.get(0).getEffect());
        assertEquals("spot", t.get(1).getKey());
        List<NodeSelectorRequirement> rules = p.getSpec().getAffinity().getNodeAffinity()
                .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0).getMatchExpressions();
        assertEquals("kops.k8s.io/instancegroup", rules.get(0).getKey());
        assertEquals("In", rules.get(0).getOperator());
        assertEquals(List.of("spot-a", "spot-b"), rules.get(0).getValues());
        assertEquals(PodTemplate.HOSTNAME, rules.get(1).getKey());
        assertEquals("NotIn", rules.get(1).getOperator());
        assertEquals(List.of("spot-node-3"), rules.get(1).getValues());
        assertEquals(Map.of("kubernetes.io/arch", "amd64"), p.getSpec().getNodeSelector());
        assertEquals("Never", p.getSpec().getRestartPolicy());
        assertEquals(120L, p.getSpec().getTerminationGracePeriodSeconds());
    }

    @Test
    void noAffinityWithoutRules() {
        Pod p = PodTemplate.build(WorkerPodSpec.of("img", "tcp://s:8786", 1, "1Gi"), "c", "c-worker-1", Set.of());
        assertNull(p.getSpec().getAffinity());
        assertNull(p.getSpec().getNodeSelector());
    }

    @Test
    void taintsParseAsKubectlSpellsThem() {
        assertEquals(new Taint("k8s.dask.org/dedicated", "worker", "NoSchedule"),
                Taint.parse("k8s.dask.org/dedicated=worker:NoSchedule"));
        assertEquals(new Taint("spot", null, "NoExecute"), Taint.parse("spot:NoExecute"));
        assertEquals("spot:NoExecute", Taint.parse("spot:NoExecute").toString());
        assertThrows(IllegalArgumentException.class, () -> Taint.parse("spot"));
        assertThrows(IllegalArgumentException.class, () -> Taint.parse("spot=true:Sometimes"));
        assertThrows(IllegalArgumentException.class, () -> WorkerPodSpec.of("img", "tcp://s:8786", 0, "1Gi"));
        assertTrue(PodTemplate.build(WorkerPodSpec.of("img", "tcp://s:8786", 2, "1Gi").withNthreads(4), "c", "p",
                Set.of()).getSpec().getContainers().get(0).getArgs().contains("4"));
    }
}
