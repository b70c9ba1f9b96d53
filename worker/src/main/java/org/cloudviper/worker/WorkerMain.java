package org.cloudviper.worker;

import org.cloudviper.protocol.FrameLimits;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code java -jar cloudviper-worker.jar tcp://HOST:PORT [options]}: starts a worker like
 * {@code dask worker} does and runs until the scheduler goes away or the process is stopped.
 */
public final class WorkerMain {
    private WorkerMain() {
    }

    private static final String USAGE = """
            usage: java -jar cloudviper-worker.jar [SCHEDULER] [options]
              SCHEDULER                   tcp://HOST:PORT of the scheduler
              --scheduler-file FILE       read the scheduler's address from FILE (as written by
                                          'dask scheduler --scheduler-file'); waits for it to appear
              --nthreads N                compute threads (default: number of cores)
              --memory-limit LIMIT        bytes ("4GB", "4GiB", "4e9"), a fraction of system memory
                                          ("0.5"), "auto" (default) or 0 for no limit. Results above
                                          0.6 of it spill to the local directory (oldest first); above
                                          0.8 still in memory the worker pauses, as dask worker does
              --name NAME                 the worker's name (default: its address)
              --resources "A=1 B=2"       abstract resources; java=NTHREADS is always advertised
              --local-directory DIR       scratch directory reported to the scheduler; spilled values
                                          go to a folder of it that is removed on close
              --host HOST                 interface to listen on (default 127.0.0.1)
              --listen-port PORT          port to listen on, 0 for any (default 0; alias --worker-port)
              --max-frame-size BYTES      bytes per frame accepted from peers (default 2147483647)
              --dashboard-address, --nanny/--no-nanny, --dashboard/--no-dashboard
                                          accepted for compatibility with 'dask worker'; ignored
            """;

    /** How long SIGTERM waits for the worker's data to move to its peers before it closes anyway. */
    static final java.time.Duration GRACEFUL_CLOSE = java.time.Duration.ofSeconds(60);

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd HH:mm:ss,SSS");
        // With java.nio opened (the jar's Add-Opens), Netty allocates direct buffers without the JDK's
        // zero-fill: relaying 1 GiB otherwise spends ~10 % of the process's CPU clearing memory that the
        // socket read overwrites at once (perf, docs/benchmarks.md). Must precede every Netty class.
        if (System.getProperty("io.netty.tryReflectionSetAccessible") == null) {
            System.setProperty("io.netty.tryReflectionSetAccessible", "true");
        }
        WorkerConfig c;
        try {
            c = parse(args, WorkerConfig.systemMemory());
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (c == null) {
            System.out.print(USAGE);
            return;
        }
        Worker w;
        try {
            w = Worker.start(c);
        } catch (IOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
            return;
        }
        java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            signalled.set(true);
            w.closeGracefully(GRACEFUL_CLOSE); // e.g. a pod being scaled down: hand the data over first
        }, "cloudviper-shutdown"));
        String reason = w.closed().join();
        System.err.println("Worker closed: " + reason);
        if (!signalled.get()) {
            System.exit(0); // the scheduler went away or closed us: leave like dask worker does
        }
    }

    /** The configuration for {@code args}, or null for --help. */
    static WorkerConfig parse(String[] args, long systemMemory) throws IOException, InterruptedException {
        String scheduler = null;
        Path schedulerFile = null;
        WorkerConfig c = WorkerConfig.defaults("tcp://127.0.0.1:8786").withMemoryLimit(systemMemory);
        String memoryLimit = "auto";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                return null;
            }
            if (!a.startsWith("--")) {
                if (scheduler != null) {
                    throw new IllegalArgumentException("more than one scheduler address: " + scheduler + ", " + a);
                }
                scheduler = a;
                continue;
            }
            switch (a) {
                case "--nanny", "--no-nanny", "--dashboard", "--no-dashboard" -> {
                    continue;
                }
                default -> {
                }
            }
            String v = null;
            if (a.contains("=")) {
                v = a.substring(a.indexOf('=') + 1);
                a = a.substring(0, a.indexOf('='));
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + " needs a value");
                }
                v = args[++i];
            }
            try {
                switch (a) {
                    case "--scheduler-file" -> schedulerFile = Path.of(v);
                    case "--nthreads" -> c = c.withNthreads(Integer.parseInt(v));
                    case "--memory-limit" -> memoryLimit = v;
                    case "--name" -> c = c.withName(v);
                    case "--resources" -> c = c.withResources(parseResources(v));
                    case "--local-directory" -> c = c.withLocalDirectory(Path.of(v));
                    case "--host" -> c = c.withHost(v);
                    case "--listen-port", "--worker-port" -> c = c.withPort(Integer.parseInt(v));
                    case "--max-frame-size" -> c = c.withLimits(new FrameLimits(c.limits().maxFrames(),
                            Long.parseLong(v), c.limits().maxMessageSize()));
                    case "--dashboard-address", "--nanny-port", "--death-timeout" -> {
                    }
                    case "--nworkers", "--nprocs" -> {
                        if (!v.equals("1")) {
                            throw new IllegalArgumentException(a + " " + v + ": start one JVM per worker");
                        }
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(a + ": not a number: " + v);
            }
        }
        if (scheduler != null && schedulerFile != null) {
            throw new IllegalArgumentException("give either a scheduler address or --scheduler-file, not both");
        }
        if (schedulerFile != null) {
            scheduler = readSchedulerFile(schedulerFile);
        }
        if (scheduler == null) {
            throw new IllegalArgumentException("no scheduler address (tcp://HOST:PORT or --scheduler-file FILE)");
        }
        if (!scheduler.contains("://")) {
            scheduler = "tcp://" + scheduler;
        } else if (!scheduler.startsWith("tcp://")) {
            throw new IllegalArgumentException("only tcp:// schedulers are supported: " + scheduler);
        }
        return c.withScheduler(scheduler).withMemoryLimit(parseMemoryLimit(memoryLimit, c.nthreads(), systemMemory));
    }

    private static final Pattern ADDRESS = Pattern.compile("\"address\"\\s*:\\s*\"([^\"]+)\"");

    /** The "address" field of a scheduler file; waits up to 60 s for the file, as dask worker does. */
    static String readSchedulerFile(Path file) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (true) {
            if (Files.exists(file)) {
                Matcher m = ADDRESS.matcher(Files.readString(file, StandardCharsets.UTF_8));
                if (m.find()) {
                    return m.group(1);
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
            if (eq <= 0) {
                throw new IllegalArgumentException("--resources: expected NAME=AMOUNT, got " + part);
            }
            r.put(part.substring(0, eq), Double.parseDouble(part.substring(eq + 1)));
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
}
