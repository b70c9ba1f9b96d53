package org.cloudviper.worker.interop;

import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.worker.Worker;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.testing.MiniJson;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The peers of one interop test: stock Dask 2022.12.1 processes run with {@link #PYTHON} (or the
 * interpreter given to {@link #create(String, Path)}; scheduler,
 * workers, client scripts) and in-process Java ones (the cloudviper worker under test, optionally a
 * cloudviper scheduler).
 *
 * <p>Contract: everything binds 127.0.0.1 on port 0; each Python process logs to
 * {@code target/interop-logs/<test>/<name>.out|.err} (command line in {@code <name>.cmd}); start
 * methods return once the peer is ready ("Scheduler at:" / "Registered to"). {@link #close()} stops
 * every process this fixture started, by pid and with its descendants (SIGTERM, then SIGKILL after
 * a grace period), and every in-process peer, also when the test failed; a JVM shutdown hook kills
 * what is left if the JVM dies first. Python peers get {@code PYTHONPATH=worker/python} so clients
 * can import {@code cloudviper.tasks}.
 */
final class DaskPeers implements AutoCloseable {
    static final Path PYTHON = Path.of("/usr/bin/python3");
    static final String SKIP_PROPERTY = "interop.skip";
    static final Duration READY = Duration.ofSeconds(30);
    static final Duration SCRIPT = Duration.ofSeconds(50);
    private static final Duration STOP_GRACE = Duration.ofSeconds(5);
    private static final Pattern SCHEDULER_AT = Pattern.compile("Scheduler at:\\s+(tcp://\\S+)");

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static volatile String unavailable;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(DaskPeers::killTree), "dask-peers-reaper"));
    }

    private final String test;
    private final Path logDir;
    private final Path python;
    private final List<PythonProcess> processes = new CopyOnWriteArrayList<>();
    private final List<Worker> javaWorkers = new CopyOnWriteArrayList<>();
    private final List<Scheduler> javaSchedulers = new CopyOnWriteArrayList<>();
    private int seq;
    /** The Python command prefix: {@link #python}, or (Dask 2024) the trixie chroot's python. */
    private List<String> pythonCmd;
    /** For Dask 2024: the trixie root, and the directory inside it that holds scripts and cloudviper. */
    private Path trixieRoot;
    private Path rootWorkDir;

    /** One Python process of this fixture. */
    record PythonProcess(String name, Process process, Path out, Path err) {
        /** A worker's address, from its "Start worker at:" log line. */
        String address() {
            Matcher m = Pattern.compile("Start worker at:\\s+(tcp://\\S+)").matcher(stderr());
            if (!m.find()) {
                throw new AssertionError(name + " logged no address");
            }
            return m.group(1);
        }

        String stdout() {
            return read(out);
        }

        String stderr() {
            return read(err);
        }
    }

    private DaskPeers(String test, Path logDir, Path python) {
        this.test = test;
        this.logDir = logDir;
        this.python = python;
        this.pythonCmd = List.of(python.toString());
    }

    static DaskPeers create(String test) throws IOException {
        return create(test, PYTHON);
    }

    /** Peers whose Python processes run with {@code python} (e.g. {@link #pyarrowPython()}). */
    static DaskPeers create(String test, Path python) throws IOException {
        String base = System.getProperty("basedir", System.getProperty("user.dir"));
        Path dir = Path.of(base, "target", "interop-logs", test.replaceAll("[^A-Za-z0-9._-]", "_")).toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
        return new DaskPeers(test, dir, python);
    }

    /** {@code -Dinterop.skip=true}: the only way interop tests are skipped rather than failed. */
    static boolean skipRequested() {
        return Boolean.parseBoolean(System.getProperty(SKIP_PROPERTY, "false"));
    }

    /** Why the 2022.12.1 peers cannot run here (no Dask, no numpy), or null. */
    static String unavailableReason() {
        String r = unavailable;
        if (r == null) {
            r = probe(PYTHON, "import distributed, numpy");
            unavailable = r;
        }
        return r.isEmpty() ? null : r;
    }

    private static String probe(Path python, String imports) {
        if (!Files.isExecutable(python)) {
            return python + " is not executable";
        }
        try {
            Process p = new ProcessBuilder(python.toString(), "-c", imports)
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return python + ": " + imports + " timed out";
            }
            return p.exitValue() == 0 ? "" : python + " cannot " + imports + ": "
                    + new String(out, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return python + " cannot be run: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /**
     * Dask 2022.12.1 with pyarrow: the venv scripts/setup-peers.sh makes ({@code .cache/py22}, Debian's
     * Python and packages plus pyarrow), named by the {@code cloudviper.pyarrow.python} property.
     */
    static Path pyarrowPython() {
        return Path.of(System.getProperty("cloudviper.pyarrow.python",
                Path.of(System.getProperty("basedir", System.getProperty("user.dir")), "..", ".cache", "py22", "bin",
                        "python").toString()));
    }

    private static volatile String pyarrowUnavailable;

    /** Why tests needing pyarrow cannot run here, or null. */
    static String pyarrowUnavailableReason() {
        String r = pyarrowUnavailable;
        if (r == null) {
            r = probe(pyarrowPython(), "import pyarrow, distributed, numpy");
            if (!r.isEmpty()) {
                r += " (scripts/setup-peers.sh makes that venv)";
            }
            pyarrowUnavailable = r;
        }
        return r.isEmpty() ? null : r;
    }

    Path logDir() {
        return logDir;
    }

    /**
     * Makes every Python peer this fixture starts from now on a stock Dask 2024.12.1 of the trixie
     * root ({@code -Ddask.trixie.root}, {@code $DASK_TRIXIE_ROOT}, or {@code <project>/.cache/dask-trixie}),
     * run through {@code scripts/dask-trixie.sh python}; skips the test if {@code -Dinterop.dask=2022}
     * is given and fails it if the root is not built. Python sees only the root, so client scripts and
     * {@code cloudviper} are
     * copied to {@code <root>/tmp/cloudviper-worker-interop/<test>/}, emptied first. Call it before
     * starting any Python peer.
     */
    void useDask2024() throws IOException {
        Path project = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath()
                .getParent();
        String configured = System.getProperty("dask.trixie.root", System.getenv("DASK_TRIXIE_ROOT"));
        Path root = configured != null ? Path.of(configured) : project.resolve(".cache/dask-trixie");
        Path script = project.resolve("scripts/dask-trixie.sh");
        org.junit.jupiter.api.Assumptions.assumeFalse("2022".equals(System.getProperty("interop.dask")),
                "-Dinterop.dask=2022 leaves out Dask 2024.12.1");
        org.junit.jupiter.api.Assertions.assertTrue(Files.isRegularFile(root.resolve(".cloudviper-ready"))
                && Files.isExecutable(script), () -> "Dask 2024.12.1 trixie root not built at " + root
                + " (scripts/dask-trixie.sh ensure; -Dinterop.dask=2022 leaves 2024 out)");
        Path work = root.resolve("tmp/cloudviper-worker-interop").resolve(logDir.getFileName());
        deleteTree(work);
        copyTree(pythonDir().resolve("cloudviper"), work.resolve("python/cloudviper"));
        trixieRoot = root;
        rootWorkDir = work;
        pythonCmd = List.of(script.toString(), "python");
    }

    /** {@code p} (under the trixie root) as the chroot's Python sees it. */
    private String inPython(Path p) {
        return trixieRoot == null ? p.toString() : "/" + trixieRoot.relativize(p);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                if (p.toString().contains("__pycache__")) {
                    continue;
                }
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Schedulers

    /** A stock {@code dask scheduler}; returns its address once it listens. */
    String startPythonScheduler() throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(pythonCmd);
        cmd.addAll(List.of("-m", "distributed.cli.dask_scheduler",
                "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0"));
        PythonProcess p = start("scheduler", cmd);
        return awaitPattern(p, SCHEDULER_AT).group(1);
    }

    /** The cloudviper scheduler, in this JVM. */
    /** The schedulers a Java worker must work under. */
    enum SchedulerKind {
        /** Stock {@code dask scheduler} 2022.12.1, with Python peers of that version. */
        DASK_2022,
        /** Stock {@code dask scheduler} 2024.12.1 in the trixie root, with Python peers of that version. */
        DASK_2024,
        /** cloudviper's, in this JVM, with 2022.12.1 Python peers. */
        CLOUDVIPER
    }

    /** Starts a scheduler of {@code kind} (switching the Python peers to 2024.12.1 for DASK_2024). */
    String startScheduler(SchedulerKind kind) throws IOException, InterruptedException {
        return switch (kind) {
            case DASK_2022 -> startPythonScheduler();
            case DASK_2024 -> {
                useDask2024();
                yield startPythonScheduler();
            }
            case CLOUDVIPER -> startCloudviperScheduler();
        };
    }

    String startCloudviperScheduler() throws InterruptedException {
        Scheduler s = Scheduler.start(SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0));
        javaSchedulers.add(s);
        return s.address();
    }

    // ---------------------------------------------------------------------------------------------
    // Workers

    /** A stock {@code dask worker} without nanny, one thread; returns once registered. */
    PythonProcess startPythonWorker(String scheduler, String resources) throws IOException, InterruptedException {
        String name = "pyworker-" + seq++;
        Path space = Files.createDirectories((rootWorkDir == null ? logDir : rootWorkDir).resolve(name + "-space"));
        List<String> cmd = new ArrayList<>(pythonCmd);
        cmd.addAll(List.of("-m", "distributed.cli.dask_worker", scheduler,
                "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--worker-port", "0",
                "--nthreads", "1", "--no-nanny", "--name", name, "--local-directory", inPython(space)));
        if (resources != null) {
            cmd.addAll(List.of("--resources", resources));
        }
        PythonProcess p = start(name, cmd);
        awaitText(p, "Registered to");
        return p;
    }

    /** The cloudviper Java worker under test, in this JVM; returns once registered. */
    Worker startJavaWorker(String scheduler, int nthreads) throws IOException, InterruptedException {
        return startJavaWorker(scheduler, nthreads, 2L << 30);
    }

    /** A Java worker with {@code memoryLimit} bytes (it spills above 0.6 of it, pauses above 0.8). */
    Worker startJavaWorker(String scheduler, int nthreads, long memoryLimit) throws IOException, InterruptedException {
        return startJavaWorker(scheduler, nthreads, memoryLimit, logDir.resolve("java-worker-space"));
    }

    /** The same with its own {@code --local-directory}. */
    Worker startJavaWorker(String scheduler, int nthreads, long memoryLimit, Path localDirectory)
            throws IOException, InterruptedException {
        Worker w = Worker.start(WorkerConfig.defaults(scheduler).withHost("127.0.0.1").withPort(0)
                .withNthreads(nthreads).withMemoryLimit(memoryLimit).withName("java-" + seq++)
                .withLocalDirectory(localDirectory));
        javaWorkers.add(w);
        return w;
    }

    // ---------------------------------------------------------------------------------------------
    // Clients

    /**
     * Runs {@code python3 <script> SCHEDULER args...} from {@code src/test/resources/interop/} and
     * returns its last stdout line parsed as a JSON object; fails with the script's stderr otherwise.
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> runScript(String script, String scheduler, String... args)
            throws IOException, InterruptedException {
        Path dir = Files.createDirectories((rootWorkDir == null ? logDir : rootWorkDir).resolve("scripts"));
        // the script imports its client-side helpers from the module beside it
        copyResource("interop_common.py", dir);
        Path path = copyResource(script, dir);
        List<String> cmd = new ArrayList<>(pythonCmd);
        cmd.add(inPython(path));
        cmd.add(scheduler);
        cmd.addAll(Arrays.asList(args));
        PythonProcess p = start("client-" + seq++ + "-" + script.replace(".py", ""), cmd);
        if (!p.process().waitFor(SCRIPT.toMillis(), TimeUnit.MILLISECONDS)) {
            killTree(p.process());
            throw new AssertionError(script + " did not finish within " + SCRIPT.toSeconds() + " s");
        }
        LIVE.remove(p.process());
        if (p.process().exitValue() != 0) {
            throw new AssertionError(script + " exited with " + p.process().exitValue() + ":\n" + p.stderr());
        }
        List<String> lines = p.stdout().lines().filter(l -> l.startsWith("{")).toList();
        if (lines.isEmpty()) {
            throw new AssertionError(script + " printed no JSON result; stderr:\n" + p.stderr());
        }
        return (Map<String, Object>) MiniJson.parse(lines.get(lines.size() - 1));
    }

    // ---------------------------------------------------------------------------------------------

    private PythonProcess start(String name, List<String> cmd) throws IOException {
        Path out = logDir.resolve(name + ".out");
        Path err = logDir.resolve(name + ".err");
        Files.writeString(logDir.resolve(name + ".cmd"), String.join(" ", cmd) + "\n");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(logDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("PYTHON") || k.startsWith("DASK_"));
        env.put("PYTHONPATH", rootWorkDir == null ? pythonDir().toString() : inPython(rootWorkDir.resolve("python")));
        if (trixieRoot != null) {
            env.put("DASK_TRIXIE_ROOT", trixieRoot.toString()); // built (checked): the script only mounts
        }
        env.put("PYTHONUNBUFFERED", "1");
        env.put("PYTHONDONTWRITEBYTECODE", "1");
        Process process = pb.start();
        process.getOutputStream().close();
        LIVE.add(process);
        PythonProcess p = new PythonProcess(name, process, out, err);
        processes.add(p);
        return p;
    }

    /** {@code worker/python}, where {@code cloudviper.tasks} lives. */
    static Path pythonDir() {
        String dir = System.getProperty("cloudviper.python.dir");
        if (dir != null) {
            return Path.of(dir);
        }
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir")), "python");
    }

    private static Matcher awaitPattern(PythonProcess p, Pattern pattern) throws InterruptedException {
        long deadline = System.nanoTime() + READY.toNanos();
        while (true) {
            Matcher m = pattern.matcher(p.stderr() + "\n" + p.stdout());
            if (m.find()) {
                return m;
            }
            if (!p.process().isAlive()) {
                throw new AssertionError(p.name() + " exited with " + p.process().exitValue() + " before " + pattern
                        + ":\n" + p.stderr());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(p.name() + " did not print " + pattern + " within " + READY.toSeconds() + " s");
            }
            Thread.sleep(25);
        }
    }

    private static void awaitText(PythonProcess p, String text) throws InterruptedException {
        awaitPattern(p, Pattern.compile(Pattern.quote(text)));
    }

    /** The last lines of every Python peer's logs, for a failure message. */
    String logTails() {
        StringBuilder sb = new StringBuilder("interop logs of ").append(test).append(": ").append(logDir);
        for (PythonProcess p : processes) {
            sb.append("\n===== ").append(p.name()).append(" (pid ").append(p.process().pid()).append(")");
            sb.append("\n--- stderr ---\n").append(tail(p.stderr())).append("\n--- stdout ---\n").append(tail(p.stdout()));
        }
        return sb.toString();
    }

    private static String tail(String text) {
        List<String> lines = text.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    /** Stops clients, then workers (Java and Python), then schedulers. Never throws. */
    @Override
    public void close() {
        stop(processes.stream().filter(p -> p.name().startsWith("client-")).toList());
        for (Worker w : javaWorkers) {
            try {
                w.close();
            } catch (RuntimeException e) {
                System.err.println("[interop] closing a Java worker failed: " + e);
            }
        }
        stop(processes.stream().filter(p -> p.name().startsWith("pyworker-")).toList());
        for (Scheduler s : javaSchedulers) {
            try {
                s.close();
            } catch (RuntimeException e) {
                System.err.println("[interop] closing the cloudviper scheduler failed: " + e);
            }
        }
        stop(processes);
    }

    /** SIGTERM to each (Dask's CLIs shut down on it), SIGKILL to whatever of their trees is left. */
    private static void stop(List<PythonProcess> ps) {
        List<Process> running = ps.stream().map(PythonProcess::process).filter(Process::isAlive).toList();
        running.forEach(Process::destroy);
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        for (Process p : running) {
            try {
                p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        ps.forEach(p -> killTree(p.process()));
    }

    private static void killTree(Process p) {
        Set<ProcessHandle> tree = new LinkedHashSet<>();
        tree.add(p.toHandle());
        p.descendants().forEach(tree::add);
        for (ProcessHandle h : tree) {
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                System.err.println("[interop] pid " + h.pid() + " did not exit: " + e);
            }
        }
        LIVE.remove(p);
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path copyResource(String name, Path dir) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = DaskPeers.class.getResourceAsStream("/interop/" + name)) {
            if (in == null) {
                throw new NoSuchFileException("test resource interop/" + name);
            }
            Files.write(target, in.readAllBytes());
        }
        return target;
    }
}
