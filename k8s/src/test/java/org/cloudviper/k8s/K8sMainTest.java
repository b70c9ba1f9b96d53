package org.cloudviper.k8s;

import org.cloudviper.k8s.kube.KubernetesScaler;
import org.cloudviper.k8s.kube.Taint;
import org.cloudviper.k8s.kube.WorkerPodSpec;
import org.cloudviper.k8s.policy.Interruptions;
import org.cloudviper.scheduler.SchedulerMain;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The launcher's command line: the scaler's options, the scheduler's passed through. */
class K8sMainTest {

    private static K8sMain.SchedulerCommand scheduler(String... args) {
        CommandLine cl = new CommandLine(new K8sMain());
        CommandLine.ParseResult r = cl.parseArgs(args);
        return (K8sMain.SchedulerCommand) r.subcommand().commandSpec().userObject();
    }

    @Test
    void scalerOptionsBecomeSettings() {
        K8sMain.SchedulerCommand c = scheduler("scheduler", "--port", "0", "--k8s-scaler", "--k8s-image", "img:1",
                "--k8s-cluster", "imaging", "--k8s-namespace", "ns", "--k8s-worker-cpu", "8", "--k8s-worker-memory", "60Gi",
                "--k8s-spot-taint", "spot=true:NoSchedule", "--k8s-node-affinity", "kops.k8s.io/instancegroup=a,b",
                "--k8s-node-selector", "arch=amd64", "--k8s-label", "team=alma", "--k8s-min-workers", "2",
                "--k8s-max-workers", "16", "--k8s-interval", "0.5", "--k8s-interruption-taint", "example.com/preempt",
                "--worker-saturation", "inf");
        assertTrue(c.scaler);
        KubernetesScaler.Settings s = c.options.settings();
        assertEquals("ns", s.namespace());
        assertEquals("imaging", s.cluster());
        WorkerPodSpec p = s.pod();
        assertEquals("img:1", p.image());
        assertEquals("tcp://imaging-scheduler:8786", p.schedulerAddress());
        assertEquals(8, p.cpu());
        assertEquals("60Gi", p.memory());
        assertEquals(List.of(WorkerPodSpec.DASK_WORKER_TAINT), p.tolerations());
        assertEquals(Taint.parse("spot=true:NoSchedule"), p.spotTaint());
        assertEquals("kops.k8s.io/instancegroup", p.affinityLabel());
        assertEquals(List.of("a", "b"), p.affinityValues());
        assertEquals(Map.of("arch", "amd64"), p.nodeSelector());
        assertEquals(Map.of("team", "alma"), p.labels());
        assertEquals(2, s.limits().min());
        assertEquals(16, s.limits().max());
        assertEquals(Duration.ofMillis(500), s.interval());
        assertEquals(new Interruptions(Set.of("example.com/preempt")), s.interruptions());
        assertEquals(List.of("--port", "0", "--worker-saturation", "inf"), c.schedulerArgs,
                "the rest goes to the scheduler");
        assertEquals(Double.POSITIVE_INFINITY,
                SchedulerMain.parse(c.schedulerArgs.toArray(String[]::new)).config().workerSaturation());
    }

    @Test
    void mistakesAreReportedBeforeAnythingStarts() {
        K8sMain.SchedulerCommand c = scheduler("scheduler", "--k8s-scaler");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.options.settings());
        assertTrue(e.getMessage().contains("--k8s-image"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> scheduler("scheduler", "--k8s-image", "i", "--k8s-node-affinity", "novalues").options.settings());
        StringWriter err = new StringWriter();
        int code = new CommandLine(new K8sMain()).setErr(new PrintWriter(err, true))
                .execute("scheduler", "--k8s-scaler", "--port", "0");
        assertEquals(2, code, err.toString());
        assertTrue(err.toString().contains("--k8s-image"), err.toString());
        assertNull(scheduler("scheduler").options.image);
    }
}
