package org.cloudviper.k8s.chart;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.cloudviper.k8s.kube.PodTemplate;
import org.cloudviper.k8s.testing.MockCluster;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Helm chart through real Helm (helm-java embeds it): lint, template with the defaults and with the
 * spot example; the rendered manifests parse with fabric8 and are created on the mock API server; what
 * the values set (tolerations, affinity, resources, probes, the scaler's options) is where it belongs.
 */
class ChartTest {
    private static final Path CHART = Path.of("chart", "cloudviper");
    private static final Path SPOT_VALUES = Path.of("chart", "examples", "values-spot.yaml");

    @Test
    void lintPasses() {
        LintResult r = new Helm(CHART).lint().strict().call();
        assertFalse(r.isFailed(), String.join("\n", r.getMessages()));
    }

    @Test
    void theSpotExampleRendersWhatItsValuesSay() throws Exception {
        String yaml = new Helm(CHART).template().withName("imaging").withNamespace("imaging")
                .withValuesFile(SPOT_VALUES).call();
        try (MockCluster c = new MockCluster()) {
            List<HasMetadata> objects = c.client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)))
                    .items();
            assertEquals(Set.of("Deployment/imaging-cloudviper-scheduler", "Service/imaging-cloudviper-scheduler",
                    "ServiceAccount/imaging-cloudviper-scaler", "Role/imaging-cloudviper-scaler",
                    "RoleBinding/imaging-cloudviper-scaler", "ClusterRole/imaging-cloudviper-imaging-nodes",
                    "ClusterRoleBinding/imaging-cloudviper-imaging-nodes",
                    "PodDisruptionBudget/imaging-cloudviper-scheduler", "PodDisruptionBudget/imaging-cloudviper-worker"),
                    objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).collect(Collectors.toSet()));
            createAll(c.client, objects);

            Deployment d = c.client.apps().deployments().inNamespace(MockCluster.NAMESPACE)
                    .withName("imaging-cloudviper-scheduler").get();
            PodSpec spec = d.getSpec().getTemplate().getSpec();
            assertEquals("imaging-cloudviper-scaler", spec.getServiceAccountName());
            assertEquals(90L, spec.getTerminationGracePeriodSeconds());
            assertEquals(Map.of("kops.k8s.io/instancegroup", "nodes"), spec.getNodeSelector());
            Container s = spec.getContainers().get(0);
            assertEquals("registry.example.org/cloudviper/cloudviper-scheduler:0.1.0", s.getImage());
            assertEquals(Map.of("cpu", new Quantity("2"), "memory", new Quantity("6Gi")), s.getResources().getLimits());
            assertEquals("/health", s.getLivenessProbe().getHttpGet().getPath());
            assertEquals("/health", s.getReadinessProbe().getHttpGet().getPath());
            assertEquals(List.of("sleep", "5"), s.getLifecycle().getPreStop().getExec().getCommand());
            List<String> args = s.getArgs();
            assertEquals("scheduler", args.get(0));
            for (String a : List.of("--dashboard-address=:8787", "--k8s-scaler", "--k8s-namespace=imaging",
                    "--k8s-cluster=imaging-cloudviper", "--k8s-image=registry.example.org/cloudviper/cloudviper-worker:0.1.0",
                    "--k8s-scheduler-address=tcp://imaging-cloudviper-scheduler.imaging:8786",
                    "--k8s-worker-cpu=8", "--k8s-worker-memory=60Gi", "--k8s-grace-period=110",
                    "--k8s-toleration=k8s.dask.org/dedicated=worker:NoSchedule", "--k8s-spot-taint=spot=true:NoSchedule",
                    "--k8s-node-affinity=kops.k8s.io/instancegroup=spot-workers-a,spot-workers-b",
                    "--k8s-label=team=imaging", "--k8s-min-workers=0", "--k8s-max-workers=32",
                    "--k8s-target-duration=30", "--k8s-interruption-taint=aws-node-termination-handler/spot-itn")) {
                assertTrue(args.contains(a), a + " in " + args);
            }
            assertEquals("-XX:+UseParallelGC -Xmn3g -XX:+UseTransparentHugePages", s.getEnv().get(0).getValue());

            Service svc = c.client.services().inNamespace(MockCluster.NAMESPACE).withName("imaging-cloudviper-scheduler").get();
            assertEquals(List.of(8786, 8787), svc.getSpec().getPorts().stream().map(p -> p.getPort()).toList());
            Role role = c.client.rbac().roles().inNamespace(MockCluster.NAMESPACE).withName("imaging-cloudviper-scaler").get();
            assertEquals(List.of("pods"), role.getRules().get(0).getResources());
            assertTrue(role.getRules().get(0).getVerbs().containsAll(List.of("create", "delete", "watch")));
            ClusterRole nodes = c.client.rbac().clusterRoles().withName("imaging-cloudviper-imaging-nodes").get();
            assertEquals(List.of("nodes"), nodes.getRules().get(0).getResources());
            PodDisruptionBudget workers = c.client.policy().v1().podDisruptionBudget().inNamespace(MockCluster.NAMESPACE)
                    .withName("imaging-cloudviper-worker").get();
            assertEquals(1, workers.getSpec().getMaxUnavailable().getIntVal());
            assertEquals(PodTemplate.selector("imaging-cloudviper"),
                    workers.getSpec().getSelector().getMatchLabels(), "selects the pods the scaler makes");
        }
    }

    @Test
    void withoutTheScalerAFixedWorkerDeploymentCarriesTheWorkerValues() throws Exception {
        String yaml = new Helm(CHART).template().withName("fixed").withNamespace("imaging")
                .withValuesFile(SPOT_VALUES).set("scaler.enabled", "false").set("worker.replicas", "4").call();
        try (MockCluster c = new MockCluster()) {
            List<HasMetadata> objects = c.client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)))
                    .items();
            createAll(c.client, objects);
            assertTrue(objects.stream().noneMatch(o -> o.getKind().endsWith("Role")), "no RBAC without the scaler");
            Deployment d = c.client.apps().deployments().inNamespace(MockCluster.NAMESPACE)
                    .withName("fixed-cloudviper-worker").get();
            assertNotNull(d);
            assertEquals(4, d.getSpec().getReplicas());
            PodSpec spec = d.getSpec().getTemplate().getSpec();
            assertEquals(110L, spec.getTerminationGracePeriodSeconds());
            Container w = spec.getContainers().get(0);
            Map<String, Quantity> eight = Map.of("cpu", new Quantity("8"), "memory", new Quantity("60Gi"));
            assertEquals(eight, w.getResources().getRequests());
            assertEquals(eight, w.getResources().getLimits(), "Guaranteed: pinned whole cores");
            assertEquals("http", w.getLivenessProbe().getHttpGet().getPort().getStrVal());
            assertEquals(List.of("sleep", "5"), w.getLifecycle().getPreStop().getExec().getCommand());
            assertEquals(List.of("k8s.dask.org/dedicated=worker:NoSchedule", "spot=true:NoSchedule"),
                    spec.getTolerations().stream().map(t -> t.getKey() + "=" + t.getValue() + ":" + t.getEffect()).toList());
            assertEquals(List.of("spot-workers-a", "spot-workers-b"), spec.getAffinity().getNodeAffinity()
                    .getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms().get(0)
                    .getMatchExpressions().get(0).getValues());
            assertTrue(w.getArgs().contains("--nthreads=8"), w.getArgs().toString());
            assertTrue(w.getArgs().contains("tcp://fixed-cloudviper-scheduler.imaging:8786"), w.getArgs().toString());
        }
    }

    @Test
    void theScalerAsItsOwnDeployment() throws Exception {
        String yaml = new Helm(CHART).template().withName("cv").withNamespace("imaging")
                .set("scaler.inScheduler", "false").call();
        try (MockCluster c = new MockCluster()) {
            List<HasMetadata> objects = c.client.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8)))
                    .items();
            createAll(c.client, objects);
            Deployment scaler = c.client.apps().deployments().inNamespace(MockCluster.NAMESPACE)
                    .withName("cv-cloudviper-scaler").get();
            List<String> args = scaler.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
            assertEquals("scaler", args.get(0));
            assertTrue(args.contains("--scheduler-url=http://cv-cloudviper-scheduler:8787"), args.toString());
            assertEquals("cv-cloudviper-scaler", scaler.getSpec().getTemplate().getSpec().getServiceAccountName());
            Deployment scheduler = c.client.apps().deployments().inNamespace(MockCluster.NAMESPACE)
                    .withName("cv-cloudviper-scheduler").get();
            assertFalse(scheduler.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs()
                    .contains("--k8s-scaler"));
        }
    }

    private static void createAll(KubernetesClient client, List<HasMetadata> objects) {
        for (HasMetadata o : objects) {
            client.resource(o).inNamespace(MockCluster.NAMESPACE).create();
        }
    }

}
