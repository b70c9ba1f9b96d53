package org.cloudviper.scheduler.interop;

import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Stock Python Dask processes around one interop test: a reference {@code dask scheduler} (when
 * {@code -Dinterop.scheduler=python}), {@code dask worker}s and client scripts, all run with the
 * interpreter of one {@link DaskGeneration} (distributed 2022.12.1 of bookworm, or 2024.12.1 in the
 * trixie chroot).
 *
 * <p>Contract: every process is started on 127.0.0.1 with port 0, and its stdout and stderr go to
 * files under {@code target/interop-logs/<test>-dask<year>/} (kept after the run; the command line
 * sits next to them in {@code <name>.cmd}). Files Python reads or writes (scripts, scratch
 * directories, worker spaces) live in {@link #workDir()}, which the generation's Python can see:
 * the log directory itself for 2022, {@code <trixie root>/tmp/cloudviper-interop/<test>-dask2024/}
 * for 2024 (also kept; both are emptied when the test starts). A path handed to a script goes
 * through {@link #inPython}. Start methods return once the peer is ready: a scheduler once it
 * prints its address, workers once they log "Registered to" (and, for cloudviper, once the scheduler
 * counts them). {@link #close()} stops every process this fixture started, children included, also
 * when the test failed; a JVM shutdown hook kills whatever is left if the JVM dies first.
 * {@link #logTails()} is what {@link InteropExtension} appends to the message of a failed test.
 *
 * <p>Client scripts live in {@code src/test/resources/interop/}; see {@code interop_common.py} for
 * their side of the contract (markers, final JSON line, exit code).
 */
public final class PythonPeers implements AutoCloseable {

    /** {@code -Dinterop.skip=true} skips every interop test. */
    static final String SKIP_PROPERTY = "interop.skip";

    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    /** A client script gets this long; its own faulthandler dumps its stacks 10 s earlier. */
    static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(90);
    /** One blocking call inside a client script ({@code result(timeout=...)}). */
    static final Duration CLIENT_CALL_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration KILL_GRACE = Duration.ofSeconds(5);
    private static final int TAIL_LINES = 40;
    private static final int TAIL_LINE_CHARS = 1_000;

    private static final Pattern SCHEDULER_AT = Pattern.compile("Scheduler at:\\s+(tcp://\\S+)");
    private static final String REGISTERED = "Registered to";

    /** Every running peer of every fixture, for the shutdown hook. */
    private static final Set<Peer> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Peer::killTree), "interop-peers-reaper"));
    }

    private final String testName;
    private final DaskGeneration dask;
    private final Path logDir;
    private final Path workDir;
    private final List<Peer> peers = new CopyOnWriteArrayList<>();
    private final List<InteropScheduler> schedulers = new CopyOnWriteArrayList<>();
    private final AtomicInteger workerSeq = new AtomicInteger();
    private final AtomicInteger clientSeq = new AtomicInteger();
    private volatile boolean closed;

    private PythonPeers(String testName, DaskGeneration dask, Path logDir, Path workDir) {
        this.testName = testName;
        this.dask = dask;
        this.logDir = logDir;
        this.workDir = workDir;
    }

    /**
     * A fixture of {@code dask}'s peers whose logs go to a fresh
     * {@code target/interop-logs/<testName>-dask<year>/} (and work files to a fresh {@link #workDir()}).
     */
    public static PythonPeers create(String testName, DaskGeneration dask) throws IOException {
        String name = testName.replaceAll("[^A-Za-z0-9._-]", "_") + "-dask" + dask.year;
        Path dir = logRoot().resolve(name);
        deleteRecursively(dir);
        Files.createDirectories(dir);
        Path work = dask.workDir(dir, name);
        if (!work.equals(dir)) {
            deleteRecursively(work);
            Files.createDirectories(work);
            Files.writeString(dir.resolve("workdir.txt"), work + "\n");
        }
        return new PythonPeers(testName, dask, dir, work);
    }

    /** {@code <module>/target/interop-logs}; surefire runs tests with the module as {@code basedir}. */
    static Path logRoot() {
        String base = System.getProperty("basedir", System.getProperty("user.dir"));
        return Path.of(base, "target", "interop-logs").toAbsolutePath();
    }

    /** {@code -Dinterop.skip=true}: the only way interop tests are skipped rather than failed. */
    static boolean skipRequested() {
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

    // ---------------------------------------------------------------------------------------------
    // Scheduler

    /** The selected scheduler (see {@link InteropScheduler}) on 127.0.0.1, port 0. */
    public InteropScheduler startScheduler() throws IOException, InterruptedException {
        return startScheduler(SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0));
    }

    /**
     * The selected scheduler; {@code config} applies to cloudviper only (the reference scheduler
     * always runs with Dask's defaults on 127.0.0.1, port 0).
     */
    public InteropScheduler startScheduler(SchedulerConfig config) throws IOException, InterruptedException {
        ensureOpen();
        InteropScheduler scheduler;
        if (InteropScheduler.Kind.selected() == InteropScheduler.Kind.CLOUDVIPER) {
            scheduler = new InteropScheduler.Cloudviper(Scheduler.start(config));
        } else {
            Peer process = start("scheduler", python("-m", "distributed.cli.dask_scheduler",
                    "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0"), Map.of());
            Matcher m = process.awaitPattern(SCHEDULER_AT, READY_TIMEOUT);
            scheduler = new InteropScheduler.Python(process, m.group(1));
        }
        schedulers.add(scheduler);
        return scheduler;
    }

    // ---------------------------------------------------------------------------------------------
    // Workers

    /**
     * Starts {@code count} {@code dask worker}s with {@code nthreads} threads each and waits until all
     * are registered. Without a nanny the returned pid is the worker itself (what a kill test needs).
     */
    public List<Peer> startWorkers(InteropScheduler scheduler, int count, int nthreads, boolean nanny)
            throws IOException, InterruptedException {
        List<Peer> started = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            started.add(startWorker(scheduler.address(), nthreads, nanny));
        }
        awaitWorkers(scheduler, started);
        return started;
    }

    /**
     * Starts one worker without waiting for it; see {@link #awaitWorkers}. {@code schedulerAddress} is
     * passed as is (a {@code --scheduler-file=} path must come from {@link #inPython}).
     */
    public Peer startWorker(String schedulerAddress, int nthreads, boolean nanny) throws IOException {
        ensureOpen();
        String name = "worker-" + workerSeq.getAndIncrement();
        Path local = Files.createDirectories(workDir.resolve(name + "-space"));
        List<String> cmd = python("-m", "distributed.cli.dask_worker",
                schedulerAddress, "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0",
                "--worker-port", "0", "--nthreads", Integer.toString(nthreads), "--name", name,
                "--local-directory", inPython(local));
        cmd.add(nanny ? "--nanny" : "--no-nanny");
        if (nanny) {
            cmd.addAll(List.of("--nanny-port", "0"));
        }
        return start(name, cmd, Map.of());
    }

    /**
     * Waits until each worker logged its registration and, for cloudviper, until the scheduler counts
     * at least as many workers as this fixture has running.
     */
    public void awaitWorkers(InteropScheduler scheduler, List<Peer> workers) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        for (Peer w : workers) {
            w.awaitText(REGISTERED, remaining(deadline));
            w.rememberChildren();
        }
        OptionalInt count = scheduler.workerCount();
        if (count.isEmpty()) {
            return;
        }
        long expected = peers.stream().filter(p -> p.name.startsWith("worker-") && p.isAlive()).count();
        while (scheduler.workerCount().orElseThrow() < expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the scheduler counts " + scheduler.workerCount().orElseThrow()
                        + " workers after " + READY_TIMEOUT.toSeconds() + " s (expected: >= " + expected + ")");
            }
            Thread.sleep(50);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Clients

    /**
     * Starts {@code python3 <script> <schedulerAddress> <args...>} from {@code resources/interop/}
     * without waiting; for scripts the test talks to through markers. Arguments are passed as is: a
     * path among them must come from {@link #inPython}.
     */
    public Peer startClient(String script, String schedulerAddress, String... args) throws IOException {
        ensureOpen();
        Path scripts = Files.createDirectories(workDir.resolve("scripts"));
        Path path = copyResource(script, scripts);
        copyResource("interop_common.py", scripts);
        List<String> cmd = python(inPython(path), schedulerAddress);
        cmd.addAll(Arrays.asList(args));
        String name = "client-" + clientSeq.getAndIncrement() + "-" + script.replaceFirst("\\.py$", "");
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
        sb.append("interop logs of ").append(testName).append(" (").append(dask.label()).append(", scheduler: ")
                .append(InteropScheduler.Kind.selected().name().toLowerCase()).append("): ").append(logDir);
        if (!workDir.equals(logDir)) {
            sb.append("\n(scripts and scratch files of the Python peers: ").append(workDir).append(')');
        }
        if (schedulers.stream().anyMatch(InteropScheduler::isCloudviper)) {
            sb.append("\n(the cloudviper scheduler logs to this JVM: see target/surefire-reports/*-output.txt)");
        }
        for (Peer p : peers) {
            sb.append("\n\n===== ").append(p.describe());
            sb.append("\n----- stderr (").append(p.stderr.getFileName()).append(") -----\n").append(tail(p.stderr));
            sb.append("\n----- stdout (").append(p.stdout.getFileName()).append(") -----\n").append(tail(p.stdout));
        }
        return sb.toString();
    }

    /**
     * Stops clients and workers (SIGTERM, then SIGKILL to whatever is left of each process tree after
     * {@link #STOP_GRACE}), then the schedulers. Never throws: the test's own failure matters more.
     */
    @Override
    public void close() {
        closed = true;
        long started = System.nanoTime();
        stopAll(peers.stream().filter(p -> !isSchedulerProcess(p)).toList());
        for (InteropScheduler s : schedulers) {
            try {
                s.close();
            } catch (RuntimeException e) {
                System.err.println("[interop] closing " + s.kind() + " scheduler failed: " + e);
            }
        }
        stopAll(peers); // anything left
        System.err.printf("[interop] %s (dask %s): stopped %d processes and %d scheduler(s) in %d ms%n", testName,
                dask.year, peers.size(), schedulers.size(), (System.nanoTime() - started) / 1_000_000);
    }

    private boolean isSchedulerProcess(Peer p) {
        return schedulers.stream().anyMatch(s -> s instanceof InteropScheduler.Python py && py.process() == p);
    }

    /** SIGTERM to all at once (Dask's CLIs shut down gracefully on it), then SIGKILL to stragglers. */
    private static void stopAll(List<Peer> toStop) {
        List<Peer> running = toStop.stream().filter(Peer::isAlive).toList();
        running.forEach(Peer::rememberChildren); // a nanny's worker is orphaned once the nanny exits
        running.forEach(p -> p.process.destroy());
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        for (Peer p : running) {
            try {
                p.process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        toStop.forEach(Peer::killTree);
    }

    /** The generation's interpreter command followed by {@code args}, as a mutable list. */
    private List<String> python(String... args) {
        List<String> cmd = new ArrayList<>(dask.python());
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
        env.putAll(extraEnv);
        Process process = pb.start();
        process.getOutputStream().close();
        Peer peer = new Peer(name, process, out, err);
        peers.add(peer);
        LIVE.add(peer);
        return peer;
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
        String text = read(file);
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

    static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Duration remaining(long deadlineNanos) {
        return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
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

    /** One Python process started by the fixture. */
    public static final class Peer {
        private final String name;
        private final Process process;
        private final Path stdout;
        private final Path stderr;
        private final Set<ProcessHandle> children = ConcurrentHashMap.newKeySet();

        private Peer(String name, Process process, Path stdout, Path stderr) {
            this.name = name;
            this.process = process;
            this.stdout = stdout;
            this.stderr = stderr;
        }

        public String name() {
            return name;
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        public String stdoutText() {
            return read(stdout);
        }

        public String stderrText() {
            return read(stderr);
        }

        /** Waits until the script prints {@code @@marker} (see {@code interop_common.marker}). */
        public void awaitMarker(String marker, Duration timeout) throws InterruptedException {
            String line = "@@" + marker;
            awaitLog(() -> stdoutText().lines().anyMatch(line::equals), "the marker " + line, timeout);
        }

        /** Waits until stdout or stderr contains {@code text}. */
        public void awaitText(String text, Duration timeout) throws InterruptedException {
            awaitLog(() -> stderrText().contains(text) || stdoutText().contains(text), '"' + text + '"', timeout);
        }

        Matcher awaitPattern(Pattern pattern, Duration timeout) throws InterruptedException {
            Matcher[] found = new Matcher[1];
            awaitLog(() -> {
                Matcher m = pattern.matcher(stderrText() + "\n" + stdoutText());
                if (m.find()) {
                    found[0] = m;
                    return true;
                }
                return false;
            }, "/" + pattern + "/", timeout);
            return found[0];
        }

        private void awaitLog(java.util.function.BooleanSupplier condition, String what, Duration timeout)
                throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!condition.getAsBoolean()) {
                if (!process.isAlive() && !condition.getAsBoolean()) {
                    throw new AssertionError(name + " exited with code " + process.exitValue()
                            + " before printing " + what);
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(name + " did not print " + what + " within " + timeout.toSeconds() + " s");
                }
                Thread.sleep(50);
            }
        }

        /** Waits for the exit code; on timeout the process is killed and the test fails. */
        public int awaitExit(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killTree();
                throw new AssertionError(name + " did not finish within " + timeout.toSeconds() + " s (killed)");
            }
            LIVE.remove(this);
            return process.exitValue();
        }

        /** Waits for a client script's exit and parses its final JSON line; fails on a non-zero exit. */
        public ScriptResult awaitResult(Duration timeout) throws InterruptedException {
            int code = awaitExit(timeout);
            if (code != 0) {
                throw new AssertionError(name + " exited with code " + code + " (traceback in its stderr below)");
            }
            List<String> lines = stdoutText().lines().filter(l -> l.startsWith("{")).toList();
            if (lines.isEmpty()) {
                throw new AssertionError(name + " printed no JSON result line");
            }
            return new ScriptResult(name, Json.parseObject(lines.get(lines.size() - 1)));
        }

        /** SIGKILL, as a crashing machine would; waits until the process is gone. */
        public void kill() throws InterruptedException {
            process.destroyForcibly();
            if (!process.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError(name + " (pid " + pid() + ") survived SIGKILL");
            }
        }

        /** Graceful stop of this peer alone; see {@link PythonPeers#close()}. */
        void stop() {
            stopAll(List.of(this));
        }

        /** Notes the current descendants, so they can still be killed after the parent is gone. */
        void rememberChildren() {
            process.descendants().forEach(children::add);
        }

        /** SIGKILL to the process and every descendant it has or had when last looked at. */
        private void killTree() {
            Set<ProcessHandle> tree = new LinkedHashSet<>();
            tree.add(process.toHandle());
            process.descendants().forEach(tree::add);
            tree.addAll(children);
            tree.forEach(ProcessHandle::destroyForcibly);
            for (ProcessHandle h : tree) {
                try {
                    h.onExit().get(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                } catch (Exception e) {
                    System.err.println("[interop] pid " + h.pid() + " of " + name + " did not exit: " + e);
                }
            }
            LIVE.remove(this);
        }

        String describe() {
            String state = process.isAlive() ? "running" : "exit code " + process.exitValue();
            return name + " (pid " + pid() + ", " + state + ")";
        }

        @Override
        public String toString() {
            return describe();
        }
    }
}
