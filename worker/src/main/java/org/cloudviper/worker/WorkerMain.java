package org.cloudviper.worker;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.cli.Commands;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code java -jar cloudviper-worker.jar tcp://HOST:PORT [options]}: starts a worker like
 * {@code dask worker} does and runs until the scheduler goes away or the process is stopped. A bad
 * option or value ends it with a one-line error, the usage and exit code 2.
 */
@Command(name = "cloudviper-worker", customSynopsis = "java -jar cloudviper-worker.jar [SCHEDULER] [OPTIONS]",
        description = "Starts a Dask worker that runs tasks implemented in Java, like 'dask worker', and runs"
                + " until the scheduler goes away or the process is stopped.",
        mixinStandardHelpOptions = true, versionProvider = Commands.JarVersion.class, sortOptions = false,
        usageHelpWidth = 100)
public final class WorkerMain implements Callable<Integer> {
    /** How long SIGTERM waits for the worker's data to move to its peers before it closes anyway. */
    static final Duration GRACEFUL_CLOSE = Duration.ofSeconds(60);

    @Parameters(arity = "0..1", paramLabel = "SCHEDULER", description = "tcp://HOST:PORT of the scheduler")
    private String scheduler;

    @Option(names = "--scheduler-file", paramLabel = "FILE",
            description = "read the scheduler's address from FILE (as written by 'dask scheduler"
                    + " --scheduler-file'); waits for it to appear")
    private Path schedulerFile;

    @Option(names = "--nthreads", paramLabel = "N", description = "compute threads (default: number of cores)")
    private Integer nthreads;

    @Option(names = "--memory-limit", paramLabel = "LIMIT", defaultValue = "auto",
            description = "bytes (\"4GB\", \"4GiB\", \"4e9\"), a fraction of system memory (\"0.5\"), \"auto\""
                    + " (default) or 0 for no limit. Results above 0.6 of it spill to the local directory"
                    + " (oldest first); above 0.8 still in memory the worker pauses, as dask worker does")
    private String memoryLimit;

    @Option(names = "--name", paramLabel = "NAME", description = "the worker's name (default: its address)")
    private String name;

    @Option(names = "--resources", paramLabel = "\"A=1 B=2\"",
            description = "abstract resources; java=NTHREADS is always advertised")
    private String resources;

    @Option(names = "--local-directory", paramLabel = "DIR",
            description = "scratch directory reported to the scheduler; spilled values go to a folder of it"
                    + " that is removed on close")
    private Path localDirectory;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "interface to listen on (default: ${DEFAULT-VALUE})")
    private String host;

    @Option(names = {"--listen-port", "--worker-port"}, paramLabel = "PORT", defaultValue = "0",
            description = "port to listen on, 0 for any (default: ${DEFAULT-VALUE})")
    private int port;

    @Option(names = "--max-frame-size", paramLabel = "BYTES", defaultValue = "2147483647",
            description = "bytes per frame accepted from peers (default: ${DEFAULT-VALUE})")
    private long maxFrameSize;

    @Option(names = {"--nworkers", "--nprocs"}, paramLabel = "N", defaultValue = "1",
            description = "workers in this process: only 1 (start one JVM per worker)")
    private int nworkers;

    @Option(names = "--dashboard-address", paramLabel = "ADDR", defaultValue = ":0",
            description = {"/health and /metrics (pod probes, Prometheus) on [HOST]:PORT, HOST being --host;"
                    + " :0 for any free port (default: ${DEFAULT-VALUE})"})
    private String dashboardAddress;

    @Option(names = "--dashboard", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "serve /health and /metrics (default: --dashboard)")
    private boolean dashboard;

    @ArgGroup(exclusive = false, validate = false,
            heading = "Accepted for compatibility with 'dask worker', and ignored:%n")
    private DaskOnly daskOnly;

    @Spec
    private CommandSpec spec;

    private final AtomicBoolean signalled = new AtomicBoolean();

    public static void main(String[] args) {
        Commands.prepareProcess();
        WorkerMain command = new WorkerMain();
        int code = Commands.commandLine(command).execute(args);
        if (code != 0 || !command.signalled.get()) {
            System.exit(code); // e.g. the scheduler went away or closed us: leave like dask worker does
        }
    }

    @Override
    public Integer call() throws InterruptedException, IOException {
        WorkerConfig c = config(WorkerConfig.systemMemory());
        Worker w;
        try {
            w = Worker.start(c);
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            signalled.set(true);
            w.closeGracefully(GRACEFUL_CLOSE); // e.g. a pod being scaled down: hand the data over first
        }, "cloudviper-shutdown"));
        String reason = w.closed().join();
        System.err.println("Worker closed: " + reason);
        return 0;
    }

    /**
     * The configuration the options give, with a memory limit relative to {@code systemMemory}; reads
     * the scheduler file, waiting for it, if one is named.
     */
    WorkerConfig config(long systemMemory) throws IOException, InterruptedException {
        try {
            if (nworkers != 1) {
                throw new IllegalArgumentException("--nworkers " + nworkers + ": start one JVM per worker");
            }
            if (scheduler != null && schedulerFile != null) {
                throw new IllegalArgumentException("give either a scheduler address or --scheduler-file, not both");
            }
            String address = schedulerFile != null ? readSchedulerFile(schedulerFile) : scheduler;
            if (address == null) {
                throw new IllegalArgumentException("no scheduler address (tcp://HOST:PORT or --scheduler-file FILE)");
            }
            if (!address.contains("://")) {
                address = "tcp://" + address;
            } else if (!address.startsWith("tcp://")) {
                throw new IllegalArgumentException("only tcp:// schedulers are supported: " + address);
            }
            WorkerConfig c = WorkerConfig.defaults(address)
                    .withHost(host)
                    .withPort(port)
                    .withName(name)
                    .withLocalDirectory(localDirectory);
            if (nthreads != null) {
                c = c.withNthreads(nthreads);
            }
            if (resources != null) {
                c = c.withResources(parseResources(resources));
            }
            c = c.withLimits(new FrameLimits(c.limits().maxFrames(), maxFrameSize, c.limits().maxMessageSize()));
            c = c.withHttpPort(dashboard ? dashboardPort(dashboardAddress) : -1);
            return c.withMemoryLimit(parseMemoryLimit(memoryLimit, c.nthreads(), systemMemory));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    /** The port of {@code [HOST]:PORT} or {@code PORT}, as dask worker's --dashboard-address. */
    static int dashboardPort(String address) {
        String port = address.substring(address.lastIndexOf(':') + 1).trim();
        try {
            int p = Integer.parseInt(port);
            if (p < 0 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--dashboard-address: " + address + " (expected: [HOST]:PORT)");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The "address" field of a scheduler file; waits up to 60 s for the file, as dask worker does. */
    static String readSchedulerFile(Path file) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            if (Files.exists(file)) {
                try {
                    String address = JSON.readTree(file.toFile()).path("address").textValue();
                    if (address != null) {
                        return address;
                    }
                } catch (JsonProcessingException e) {
                    // still being written: read it again below
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalArgumentException("no scheduler address in " + file + " after 60 s");
            }
            Thread.sleep(100);
        }
    }

    /** {@code "GPU=2 java=4"} or {@code "GPU=2,java=4"}. */
    static Map<String, Double> parseResources(String v) {
        Map<String, Double> r = new LinkedHashMap<>();
        for (String part : v.trim().split("[\\s,]+")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            try {
                if (eq <= 0) {
                    throw new NumberFormatException();
                }
                r.put(part.substring(0, eq), Double.parseDouble(part.substring(eq + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--resources: expected NAME=AMOUNT, got " + part);
            }
        }
        return r;
    }

    private static final Pattern BYTES = Pattern.compile("([0-9.eE+-]+)\\s*([a-zA-Z]*)");

    /**
     * distributed's parse_memory_limit: "auto" (system memory times nthreads / cores), a plain number
     * up to 1 (a fraction of system memory, so "1" is all of it), otherwise dask.utils.parse_bytes;
     * 0 means no limit. A limit above system memory is lowered to it, with a warning, as Dask does.
     */
    static long parseMemoryLimit(String v, int nthreads, long systemMemory) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) {
            int cores = Runtime.getRuntime().availableProcessors();
            return (long) (systemMemory * Math.min(1.0, (double) nthreads / cores));
        }
        Matcher m = BYTES.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("--memory-limit: cannot parse " + v);
        }
        double x = Double.parseDouble(m.group(1));
        String unit = m.group(2);
        if (unit.isEmpty() && x <= 1 && x >= 0) {
            return (long) (systemMemory * x);
        }
        double mult = switch (unit) {
            case "", "b" -> 1;
            case "k", "kb" -> 1e3;
            case "m", "mb" -> 1e6;
            case "g", "gb" -> 1e9;
            case "t", "tb" -> 1e12;
            case "p", "pb" -> 1e15;
            case "ki", "kib" -> 1L << 10;
            case "mi", "mib" -> 1L << 20;
            case "gi", "gib" -> 1L << 30;
            case "ti", "tib" -> 1L << 40;
            case "pi", "pib" -> 1L << 50;
            default -> throw new IllegalArgumentException("--memory-limit: unknown unit " + unit);
        };
        long r = (long) (x * mult);
        if (r < 0) {
            throw new IllegalArgumentException("--memory-limit: " + v + " (expected: >= 0)");
        }
        if (systemMemory > 0 && r > systemMemory) {
            System.err.println("warning: ignoring --memory-limit " + v + ": above the system memory limit of "
                    + systemMemory + " bytes");
            return systemMemory;
        }
        return r;
    }

    /** Options of {@code dask worker} that mean nothing here; taken so its command lines work unchanged. */
    static final class DaskOnly {
        @Option(names = "--nanny", negatable = true, description = "cloudviper runs no nanny process")
        private boolean nanny;

        @Option(names = "--nanny-port", paramLabel = "PORT", description = "cloudviper runs no nanny process")
        private String nannyPort;

        @Option(names = "--death-timeout", paramLabel = "SECONDS",
                description = "the worker leaves as soon as the scheduler goes away")
        private String deathTimeout;
    }
}
