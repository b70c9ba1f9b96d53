package org.cloudviper.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.cloudviper.k8s.control.HttpScheduler;
import org.cloudviper.k8s.control.InProcessScheduler;
import org.cloudviper.k8s.kube.KubernetesScaler;
import org.cloudviper.protocol.cli.Commands;
import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerMain;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar cloudviper-k8s.jar scheduler [SCHEDULER OPTIONS] [--k8s-scaler --k8s-... ]}: the
 * scheduler of a Kubernetes cluster, with the scaler inside its process (reading the state through the
 * scheduler's facade); {@code ... scaler --scheduler-url http://HOST:8787 --k8s-...}: the scaler alone,
 * as its own Deployment, talking to the scheduler's {@code /api/v1} routes. Inside a pod the
 * Kubernetes client uses the pod's service account.
 */
@Command(name = "cloudviper-k8s", mixinStandardHelpOptions = true, versionProvider = Commands.JarVersion.class,
        description = "The cloudviper scheduler and the worker-pod scaler for Kubernetes.",
        subcommands = {K8sMain.SchedulerCommand.class, K8sMain.ScalerCommand.class})
public final class K8sMain {

    public static void main(String[] args) {
        Commands.prepareProcess();
        int code = Commands.commandLine(new K8sMain()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Command(name = "scheduler", mixinStandardHelpOptions = true,
            description = {"Starts the scheduler; every option of cloudviper-scheduler applies (see"
                    + " 'java -jar cloudviper-scheduler.jar --help'). With --k8s-scaler it also scales the"
                    + " worker pods, in this process."})
    static final class SchedulerCommand implements Callable<Integer> {
        @Option(names = "--k8s-scaler", description = "scale worker pods from this process")
        boolean scaler;

        @Mixin
        ScalerOptions options;

        @Unmatched
        List<String> schedulerArgs = new ArrayList<>();

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            SchedulerMain.Parsed parsed;
            try {
                parsed = SchedulerMain.parse(schedulerArgs.toArray(String[]::new));
            } catch (ParameterException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage(), e);
            }
            KubernetesScaler.Settings settings = scaler ? settings(spec, options) : null; // mistakes before starting
            Scheduler s = Scheduler.start(parsed.config());
            System.err.println("Scheduler at: " + s.address());
            if (!scaler) {
                SchedulerMain.awaitShutdown(s, parsed.gracefulTimeout());
                return 0;
            }
            KubernetesClient client = new KubernetesClientBuilder().build();
            KubernetesScaler k = KubernetesScaler.start(client, new InProcessScheduler(s, options.targetDuration()),
                    settings);
            // SIGTERM: stop scaling first, then let retirements under way finish before the scheduler goes
            SchedulerMain.awaitShutdown(s, parsed.gracefulTimeout(), () -> {
                k.close();
                client.close();
            });
            return 0;
        }
    }

    @Command(name = "scaler", mixinStandardHelpOptions = true,
            description = "Scales the worker pods of a scheduler reached over its HTTP side (/api/v1).")
    static final class ScalerCommand implements Callable<Integer> {
        @Option(names = "--scheduler-url", paramLabel = "URL", required = true,
                description = "the scheduler's HTTP side, e.g. http://cloudviper-scheduler:8787")
        URI schedulerUrl;

        @Mixin
        ScalerOptions options;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            KubernetesScaler.Settings settings = settings(spec, options);
            KubernetesClient client = new KubernetesClientBuilder().build();
            KubernetesScaler k = KubernetesScaler.start(client, new HttpScheduler(schedulerUrl), settings);
            CountDownLatch done = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                k.close();
                client.close();
                done.countDown();
            }, "cloudviper-shutdown"));
            done.await();
            return 0;
        }
    }

    static KubernetesScaler.Settings settings(CommandSpec spec, ScalerOptions options) {
        try {
            return options.settings();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
