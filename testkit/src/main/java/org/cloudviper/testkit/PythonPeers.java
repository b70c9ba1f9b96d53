package org.cloudviper.testkit;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Stock Python Dask processes around one interop test (a {@code dask scheduler}, {@code dask
 * worker}s and client scripts), all run with the interpreter of one {@link DaskGeneration}, and the
 * in-process cloudviper peers the test hands over ({@link #inProcessWorker},
 * {@link #inProcessScheduler}) so they are stopped in the right order.
 *
 * <p>Contract: every process is started on 127.0.0.1 with port 0, and its stdout and stderr go to
 * files under {@code <module>/target/interop-logs/<test>-dask<year>/} (kept after the run; the
 * command line sits next to them in {@code <name>.cmd}). Files Python reads or writes (scripts,
 * scratch directories, worker spaces) live in {@link #workDir()}, which the generation's Python can
 * see: the log directory itself for 2022, a directory under the trixie root's /tmp for 2024 (also
 * kept; both are emptied when the test starts). A path handed to a script goes through
 * {@link #inPython}. Start methods return once the peer is ready: a scheduler once it prints its
 * address, workers once they log "Registered to". {@link #close()} stops everything this fixture
 * started or was handed, children included, also when the test failed. {@link #logTails()} is what
 * {@link InteropExtension} appends to the message of a failed test.
 *
 * <p>Client scripts are test resources under {@code interop/}; {@code interop_common.py} (in this
 * module) is their side of the contract (markers, final JSON line, exit code). Directories named by
 * {@code -Dinterop.pythonpath} (separated by the path separator) are on every peer's PYTHONPATH,
 * copied into the work directory for 2024.
 */
public final class PythonPeers implements AutoCloseable {

    /** {@code -Dinterop.skip=true} skips every interop test. */
    public static final String SKIP_PROPERTY = "interop.skip";
    /** Host directories every Python peer imports from (e.g. the worker's {@code cloudviper} package). */
    public static final String PYTHONPATH_PROPERTY = "interop.pythonpath";

    public static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    /** A client script gets this long; its own faulthandler dumps its stacks 10 s earlier. */
    public static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(90);
    /** One blocking call inside a client script ({@code result(timeout=...)}). */
    public static final Duration CLIENT_CALL_TIMEOUT = Duration.ofSeconds(60);
    private static final int TAIL_LINES = 40;
    private static final int TAIL_LINE_CHARS = 1_000;

    private static final Pattern SCHEDULER_AT = Pattern.compile("Scheduler at:\\s+(tcp://\\S+)");
    private static final String REGISTERED = "Registered to";
    private static final String CLIENT = "client-";
    private static final String WORKER = "worker-";

    private final String testName;
    private final DaskGeneration dask;
    private final List<String> python;
    private final Path logDir;
    private final Path workDir;
    private final List<Peer> peers = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> inProcessWorkers = new CopyOnWriteArrayList<>();
    private final List<AutoCloseable> inProcessSchedulers = new CopyOnWriteArrayList<>();
    private final List<String> notes = new CopyOnWriteArrayList<>();
    private final AtomicInteger workerSeq = new AtomicInteger();
    private final AtomicInteger clientSeq = new AtomicInteger();
    private String pythonPath;
    private volatile boolean closed;

    private PythonPeers(String testName, DaskGeneration dask, List<String> python, Path logDir, Path workDir) {
        this.testName = testName;
        this.dask = dask;
        this.python = python;
        this.logDir = logDir;
        this.workDir = workDir;
    }

    /**
     * A fixture of {@code dask}'s peers whose logs go to a fresh
     * {@code target/interop-logs/<testName>-dask<year>/} (and work files to a fresh {@link #workDir()});
     * with {@code withPyarrow} they run the generation's interpreter that has pyarrow.
     */
    public static PythonPeers create(String testName, DaskGeneration dask, boolean withPyarrow) throws IOException {
        String name = testName.replaceAll("[^A-Za-z0-9._-]", "_") + "-dask" + dask.year;
        Path dir = logRoot().resolve(name);
        deleteRecursively(dir);
        Files.createDirectories(dir);
        Path work = dask.workDir(dir);
        if (!work.equals(dir)) {
            deleteRecursively(work);
            Files.createDirectories(work);
            Files.writeString(dir.resolve("workdir.txt"), work + "\n");
        }
        return new PythonPeers(testName, dask, dask.python(withPyarrow), dir, work);
    }

    /** {@code <module>/target/interop-logs}; surefire runs tests with the module as {@code basedir}. */
    static Path logRoot() {
        return TrixieRoot.moduleDir().resolve("target").resolve("interop-logs");
    }

    /** {@code -Dinterop.skip=true}: the only way interop tests are skipped rather than failed. */
    public static boolean skipRequested() {
        return Boolean.parseBoolean(System.getProperty(SKIP_PROPERTY, "false"));
    }

    /** The Dask release these peers run. */
    public DaskGeneration dask() {
        return dask;
    }

    public Path logDir() {
        return logDir;
    }

    /** Where this fixture's Python-visible files live (see the class comment). */
    public Path workDir() {
        return workDir;
    }

    /**
     * A directory for files both the test and its Python peers touch, such as a script's scratch
     * files or a "go on" file the test creates; hand it to Python through {@link #inPython}.
     */
    public Path scratchDir(String name) throws IOException {
        return Files.createDirectories(workDir.resolve(name));
    }

    /** How the peers' Python spells {@code hostPath}, a path under {@link #workDir()}. */
    public String inPython(Path hostPath) {
        return dask.pythonPath(hostPath);
    }

    /** A line for {@link #logTails()}, such as which scheduler the test ran against. */
    public void note(String line) {
        notes.add(line);
    }

    // ---------------------------------------------------------------------------------------------
    // In-process peers

    /** A worker running in this JVM; closed after the client scripts, before the Python workers. */
    public <T extends AutoCloseable> T inProcessWorker(T worker) {
        inProcessWorkers.add(worker);
        return worker;
    }

    /** A scheduler running in this JVM; closed after every worker. */
    public <T extends AutoCloseable> T inProcessScheduler(T scheduler) {
        inProcessSchedulers.add(scheduler);
        return scheduler;
    }

    // ---------------------------------------------------------------------------------------------
    // Python scheduler and workers

    /** A stock {@code dask scheduler} on 127.0.0.1, port 0, with Dask's defaults; returns once it listens. */
    public PythonScheduler startScheduler() throws IOException, InterruptedException {
        return startScheduler(Map.of());
    }

    /**
     * The same with Dask configuration in {@code env} ({@code DASK_...} variables), such as the HTTP
     * routes to serve; the dashboard's port is in {@code scheduler_info()["services"]}.
     */
    public PythonScheduler startScheduler(Map<String, String> env) throws IOException, InterruptedException {
        ensureOpen();
        Peer process = start("scheduler", python("-m", "distributed.cli.dask_scheduler",
                "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0"), env);
        Matcher m = process.awaitPattern(SCHEDULER_AT, READY_TIMEOUT);
        return new PythonScheduler(process, m.group(1));
    }

    /**
     * Starts {@code count} {@code dask worker}s with {@code nthreads} threads each and waits until all
     * are registered. Without a nanny the returned pid is the worker itself (what a kill test needs).
     * {@code options} go to each command line as they are (e.g. {@code "--resources", "python=1"}).
     */
    public List<Peer> startWorkers(String schedulerAddress, int count, int nthreads, boolean nanny, String... options)
            throws IOException, InterruptedException {
        List<Peer> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(startWorker(schedulerAddress, nthreads, nanny, options));
        }
        awaitWorkers(started);
        return started;
    }

    /**
     * Starts one worker without waiting for it; see {@link #awaitWorkers}. {@code schedulerAddress} is
     * passed as is (a {@code --scheduler-file=} path must come from {@link #inPython}).
     */
    public Peer startWorker(String schedulerAddress, int nthreads, boolean nanny, String... options)
            throws IOException {
        ensureOpen();
        String name = WORKER + workerSeq.getAndIncrement();
        Path local = Files.createDirectories(workDir.resolve(name + "-space"));
        List<String> cmd = python("-m", "distributed.cli.dask_worker",
                schedulerAddress, "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0",
                "--worker-port", "0", "--nthreads", Integer.toString(nthreads), "--name", name,
                "--local-directory", inPython(local));
        cmd.add(nanny ? "--nanny" : "--no-nanny");
        if (nanny) {
            cmd.addAll(List.of("--nanny-port", "0"));
        }
        cmd.addAll(Arrays.asList(options));
        return start(name, cmd, Map.of());
    }

    /** Waits until each worker logged its registration (within {@link #READY_TIMEOUT} for all). */
    public void awaitWorkers(List<Peer> workers) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        for (Peer w : workers) {
            w.awaitText(REGISTERED, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            w.rememberChildren();
        }
    }

    /** The Python workers of this fixture that are still running. */
    public long runningWorkers() {
        return peers.stream().filter(p -> p.name().startsWith(WORKER) && p.isAlive()).count();
    }

    // ---------------------------------------------------------------------------------------------
    // Clients

    /**
     * Starts {@code python3 <script> <schedulerAddress> <args...>} from the test resources'
     * {@code interop/} without waiting; for scripts the test talks to through markers. Arguments are
     * passed as is: a path among them must come from {@link #inPython}.
     */
    public Peer startClient(String script, String schedulerAddress, String... args) throws IOException {
        ensureOpen();
        Path scripts = Files.createDirectories(workDir.resolve("scripts"));
        Path path = copyResource(script, scripts);
        copyResource("interop_common.py", scripts);
        List<String> cmd = python(inPython(path), schedulerAddress);
        cmd.addAll(Arrays.asList(args));
        String name = CLIENT + clientSeq.getAndIncrement() + "-" + script.replaceFirst("\\.py$", "");
        return start(name, cmd, Map.of(
                "INTEROP_DUMP_AFTER_S", Long.toString(CLIENT_TIMEOUT.minusSeconds(10).toSeconds()),
                "INTEROP_CALL_TIMEOUT_S", Long.toString(CLIENT_CALL_TIMEOUT.toSeconds())));
    }

    /** Runs a client script to the end and returns its final JSON line; fails if it exits non-zero. */
    public ScriptResult runClient(String script, String schedulerAddress, String... args)
            throws IOException, InterruptedException {
        return startClient(script, schedulerAddress, args).awaitResult(CLIENT_TIMEOUT);
    }

    // ---------------------------------------------------------------------------------------------
    // Diagnostics and shutdown

    /** The last lines of every peer's logs, for a failure message. */
    public String logTails() {
        StringBuilder sb = new StringBuilder();
        sb.append("interop logs of ").append(testName).append(" (").append(dask.label()).append("): ").append(logDir);
        if (!workDir.equals(logDir)) {
            sb.append("\n(scripts and scratch files of the Python peers: ").append(workDir).append(')');
        }
        if (!inProcessWorkers.isEmpty() || !inProcessSchedulers.isEmpty()) {
            sb.append("\n(in-process peers log to this JVM: see target/surefire-reports/*-output.txt)");
        }
        notes.forEach(n -> sb.append('\n').append(n));
        for (Peer p : peers) {
            sb.append("\n\n===== ").append(p.describe());
            sb.append("\n----- stderr (").append(p.stderr.getFileName()).append(") -----\n").append(tail(p.stderr));
            sb.append("\n----- stdout (").append(p.stdout.getFileName()).append(") -----\n").append(tail(p.stdout));
        }
        return sb.toString();
    }

    /**
     * Stops the client scripts, the in-process workers, the Python workers, the in-process
     * schedulers, then the Python scheduler (see {@link Peer#stopAll}). Never throws: the test's own
     * failure matters more.
     */
    @Override
    public void close() {
        closed = true;
        long started = System.nanoTime();
        Peer.stopAll(peers.stream().filter(p -> p.name().startsWith(CLIENT)).toList());
        closeAll(inProcessWorkers);
        Peer.stopAll(peers.stream().filter(p -> p.name().startsWith(WORKER)).toList());
        closeAll(inProcessSchedulers);
        Peer.stopAll(peers); // the scheduler, and anything left
        System.err.printf("[interop] %s (dask %s): stopped %d processes and %d in-process peers in %d ms%n", testName,
                dask.year, peers.size(), inProcessWorkers.size() + inProcessSchedulers.size(),
                (System.nanoTime() - started) / 1_000_000);
    }

    private static void closeAll(List<AutoCloseable> inProcess) {
        for (AutoCloseable c : inProcess) {
            try {
                c.close();
            } catch (Exception e) {
                System.err.println("[interop] closing " + c + " failed: " + e);
            }
        }
    }

    /** The interpreter command followed by {@code args}, as a mutable list. */
    private List<String> python(String... args) {
        List<String> cmd = new ArrayList<>(python);
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("fixture of " + testName + " is closed");
        }
    }

    private Peer start(String name, List<String> cmd, Map<String, String> extraEnv) throws IOException {
        Path out = logDir.resolve(name + ".out");
        Path err = logDir.resolve(name + ".err");
        Files.writeString(logDir.resolve(name + ".cmd"), String.join(" ", cmd) + "\n");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(logDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        Map<String, String> env = pb.environment();
        // Stock behaviour only: no inherited Python or Dask configuration.
        env.keySet().removeIf(k -> k.startsWith("PYTHON") || k.startsWith("DASK_"));
        env.put("PYTHONUNBUFFERED", "1"); // markers and logs reach the files at once
        env.put("PYTHONDONTWRITEBYTECODE", "1");
        String path = pythonPath();
        if (!path.isEmpty()) {
            env.put("PYTHONPATH", path);
        }
        env.putAll(extraEnv);
        Process process = pb.start();
        process.getOutputStream().close();
        Peer peer = new Peer(name, process, out, err);
        peers.add(peer);
        return peer;
    }

    /** {@code -Dinterop.pythonpath} as the peers see it; for 2024 its directories are copied first. */
    private synchronized String pythonPath() throws IOException {
        if (pythonPath == null) {
            List<String> entries = new ArrayList<>();
            String configured = System.getProperty(PYTHONPATH_PROPERTY, "");
            int i = 0;
            for (String dir : configured.split(File.pathSeparator)) {
                if (dir.isBlank()) {
                    continue;
                }
                Path host = Path.of(dir).toAbsolutePath().normalize();
                if (!workDir.equals(logDir)) {
                    Path copy = workDir.resolve("pythonpath-" + i++);
                    copyTree(host, copy);
                    host = copy;
                }
                entries.add(inPython(host));
            }
            pythonPath = String.join(File.pathSeparator, entries);
        }
        return pythonPath;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.filter(p -> !p.toString().contains("__pycache__")).toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    private static Path copyResource(String name, Path dir) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = PythonPeers.class.getResourceAsStream("/interop/" + name)) {
            if (in == null) {
                throw new NoSuchFileException("test resource interop/" + name);
            }
            Files.write(target, in.readAllBytes());
        }
        return target;
    }

    private static String tail(Path file) {
        String text = Peer.read(file);
        if (text.isEmpty()) {
            return "(empty)";
        }
        List<String> lines = text.lines().toList();
        int tailStart = Math.max(0, lines.size() - TAIL_LINES);
        StringBuilder sb = new StringBuilder();
        // Python prints the root cause first in a chained traceback; keep it when the tail misses it.
        int firstTraceback = -1;
        for (int i = 0; i < tailStart; i++) {
            if (lines.get(i).startsWith("Traceback (most recent call last)")) {
                firstTraceback = i;
                break;
            }
        }
        int from = 0;
        if (firstTraceback >= 0) {
            int end = Math.min(tailStart, firstTraceback + TAIL_LINES / 2);
            sb.append("... (").append(firstTraceback).append(" lines before the first traceback)\n");
            appendLines(sb, lines.subList(firstTraceback, end));
            from = end;
        }
        if (tailStart > from) {
            sb.append("... (").append(tailStart - from).append(" lines before)\n");
        }
        appendLines(sb, lines.subList(Math.max(from, tailStart), lines.size()));
        return sb.toString();
    }

    private static void appendLines(StringBuilder sb, List<String> lines) {
        for (String line : lines) {
            sb.append(line.length() > TAIL_LINE_CHARS ? line.substring(0, TAIL_LINE_CHARS) + " ...(cut)" : line)
                    .append('\n');
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
