package org.cloudviper.scheduler;

import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.cli.Commands;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar cloudviper-scheduler.jar [--host H] [--port P] [--scheduler-file F] ...}: starts a
 * scheduler like {@code dask scheduler} does and runs until killed. A bad option or value ends it with
 * a one-line error, the usage and exit code 2.
 */
@Command(name = "cloudviper-scheduler", customSynopsis = "java -jar cloudviper-scheduler.jar [OPTIONS]",
        description = "Starts a Dask scheduler, like 'dask scheduler', and runs until stopped.",
        mixinStandardHelpOptions = true, versionProvider = Commands.JarVersion.class, sortOptions = false,
        usageHelpWidth = 100)
public final class SchedulerMain implements Callable<Integer> {
    // The defaults below are SchedulerConfig.defaults() in the units of the command line (a test holds
    // them equal); given as text so that --help shows them as they are typed.

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "interface to bind (default: ${DEFAULT-VALUE})")
    private String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8786",
            description = "TCP port, 0 for any free port (default: ${DEFAULT-VALUE})")
    private int port;

    @Option(names = "--scheduler-file", paramLabel = "FILE",
            description = "write the address as JSON for 'dask worker --scheduler-file'")
    private Path schedulerFile;

    @Option(names = "--worker-ttl", paramLabel = "SECONDS", defaultValue = "300",
            description = "remove workers silent for longer (default: ${DEFAULT-VALUE})")
    private double workerTtlSeconds;

    @Option(names = "--worker-saturation", paramLabel = "X", defaultValue = "1.1", converter = Saturation.class,
            description = "tasks per worker thread before queuing; inf disables queuing (default: ${DEFAULT-VALUE})")
    private double workerSaturation;

    @Option(names = "--worker-pipeline-ms", paramLabel = "MS", defaultValue = "5",
            description = {"queue short tasks on a worker until each thread holds about MS of compute, at most 64"
                    + " per thread, refilled when half has run; 0 = Dask's cap only (default: ${DEFAULT-VALUE})"})
    private double workerPipelineMs;

    @Option(names = "--work-stealing", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "move tasks not started from saturated workers to idle ones (default: --work-stealing)")
    private boolean workStealing;

    @Option(names = "--allowed-failures", paramLabel = "N", defaultValue = "3",
            description = "worker deaths a task survives before KilledWorker (default: ${DEFAULT-VALUE})")
    private int allowedFailures;

    @Option(names = "--max-frames", paramLabel = "N", defaultValue = "1000000",
            description = "frames per message (default: ${DEFAULT-VALUE})")
    private long maxFrames;

    @Option(names = "--max-frame-size", paramLabel = "BYTES", defaultValue = "2147483647",
            description = "bytes per frame (default: ${DEFAULT-VALUE})")
    private long maxFrameSize;

    @Option(names = "--max-message-size", paramLabel = "BYTES", defaultValue = "17179869184",
            description = "bytes per message (default: ${DEFAULT-VALUE})")
    private long maxMessageSize;

    @Option(names = "--dashboard-address", paramLabel = "ADDR", defaultValue = ":8787",
            description = {"HTTP side (health, metrics, /api/v1, status page): HOST:PORT, or :PORT on --host;"
                    + " a port in use gives way to a free one (default: ${DEFAULT-VALUE})"})
    private String dashboardAddress;

    @Option(names = "--dashboard", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "serve the HTTP side (default: --dashboard)")
    private boolean dashboard;

    @Option(names = "--graceful-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "on SIGTERM, wait this long for retirements under way to move their data (default: ${DEFAULT-VALUE})")
    private double gracefulSeconds;

    @ArgGroup(exclusive = false, validate = false,
            heading = "Accepted for compatibility with 'dask scheduler', and ignored:%n")
    private DaskOnly daskOnly;

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        Commands.prepareProcess();
        int code = Commands.commandLine(new SchedulerMain()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** What a launcher needs of the command line: the configuration and the SIGTERM grace. */
    public record Parsed(SchedulerConfig config, Duration gracefulTimeout) {
    }

    /**
     * The command line {@code args} as {@code cloudviper-scheduler} takes them, for a launcher that
     * starts the scheduler with more around it (the Kubernetes scaler); a mistake throws
     * {@link ParameterException}.
     */
    public static Parsed parse(String... args) {
        SchedulerMain command = new SchedulerMain();
        Commands.commandLine(command).parseArgs(args);
        return new Parsed(command.config(), command.gracefulTimeout());
    }

    /** The usage text, for such a launcher's --help. */
    public static String usage() {
        return Commands.commandLine(new SchedulerMain()).getUsageMessage();
    }

    /** The configuration the options give. */
    SchedulerConfig config() {
        try {
            return SchedulerConfig.defaults()
                    .withHost(host)
                    .withPort(port)
                    .withSchedulerFile(schedulerFile)
                    .withWorkerTtl(Duration.ofMillis((long) (workerTtlSeconds * 1000)))
                    .withWorkerSaturation(workerSaturation)
                    .withWorkerPipeline(Duration.ofNanos((long) (workerPipelineMs * 1e6)))
                    .withAllowedFailures(allowedFailures)
                    .withWorkStealing(workStealing)
                    .withLimits(new FrameLimits(maxFrames, maxFrameSize, maxMessageSize))
                    .withDashboard(dashboard ? dashboardAddress : null);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        Scheduler s = Scheduler.start(config());
        System.err.println("Scheduler at: " + s.address());
        awaitShutdown(s, gracefulTimeout());
        return 0;
    }

    /** The --graceful-timeout. */
    Duration gracefulTimeout() {
        return Duration.ofMillis((long) (gracefulSeconds * 1000));
    }

    /**
     * Blocks until the JVM shuts down (SIGTERM, SIGINT), then closes {@code s} gracefully: retirements
     * under way (a scaler's) finish moving their data first, within {@code timeout}.
     */
    public static void awaitShutdown(Scheduler s, Duration timeout) throws InterruptedException {
        awaitShutdown(s, timeout, () -> { });
    }

    /** The same, running {@code first} (e.g. stopping a scaler) before the scheduler closes. */
    public static void awaitShutdown(Scheduler s, Duration timeout, Runnable first) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            first.run();
            s.closeGracefully(timeout);
            done.countDown();
        }, "cloudviper-shutdown"));
        done.await();
    }

    /** Options of {@code dask scheduler} that mean nothing here; taken so its command lines work unchanged. */
    static final class DaskOnly {
        @Option(names = "--dashboard-prefix", paramLabel = "PREFIX", description = "the routes have no prefix")
        private String dashboardPrefix;
    }

    /** A number, or {@code inf} for no limit, as Dask's worker-saturation setting accepts. */
    static final class Saturation implements CommandLine.ITypeConverter<Double> {
        @Override
        public Double convert(String v) {
            return v.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v);
        }
    }
}
