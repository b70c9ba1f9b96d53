package org.cloudviper.scheduler.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The stock Dask release an interop test's Python peers run. Every interop test runs once per
 * generation; {@code -Dinterop.dask=2022|2024} skips the other one (default: both run; see
 * {@link InteropExtension}).
 *
 * <ul>
 * <li>{@link #DASK_2022}: distributed 2022.12.1 of Debian bookworm, run as {@code /usr/bin/python3}
 *     (never the python3 first on PATH).</li>
 * <li>{@link #DASK_2024}: distributed 2024.12.1 of the Debian trixie root built by
 *     {@code scripts/dask-trixie.sh} into {@code <project>/.cache/dask-trixie} (or
 *     {@code $DASK_TRIXIE_ROOT}, or {@code -Ddask.trixie.root}), run as
 *     {@code chroot <root> /usr/bin/python3}. The chroot shares the network, so 127.0.0.1 works both
 *     ways, and {@code chroot} execs Python, so the pid Java sees is the Python process. Python sees
 *     only files under the root: {@link #pythonPath} translates a host path there.</li>
 * </ul>
 *
 * <p>Tests never build the trixie root (CI's {@code scripts/test.sh} does, before Maven): without its
 * marker file {@code .cloudviper-ready} the 2024 generation is skipped. A built root whose /proc is
 * not mounted (after a reboot) is mounted with {@code scripts/dask-trixie.sh ensure}, which then only
 * mounts.
 */
enum DaskGeneration {

    DASK_2022("2022", "2022.12.1", "Debian bookworm /usr/bin/python3"),
    DASK_2024("2024", "2024.12.1", "Debian trixie chroot");

    /** The system property that selects generations: {@code 2022}, {@code 2024}, or both (default). */
    static final String PROPERTY = "interop.dask";

    private static final String TRIXIE_MARKER = ".cloudviper-ready";
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Map<DaskGeneration, String> UNAVAILABLE = new ConcurrentHashMap<>();

    /** What {@code -Dinterop.dask} is matched against, e.g. {@code 2024}. */
    final String year;
    /** The distributed release its peers must report. */
    final String version;
    private final String where;

    DaskGeneration(String year, String version, String where) {
        this.year = year;
        this.version = version;
        this.where = where;
    }

    /** The generations {@code -Dinterop.dask} selects, in release order. */
    static List<DaskGeneration> selected() {
        String value = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        if (value.isEmpty() || value.equals("both") || value.equals("all")) {
            return List.of(values());
        }
        Set<DaskGeneration> chosen = EnumSet.noneOf(DaskGeneration.class);
        for (String part : value.split("[,\\s]+")) {
            DaskGeneration g = null;
            for (DaskGeneration candidate : values()) {
                if (candidate.year.equals(part) || candidate.version.equals(part)) {
                    g = candidate;
                }
            }
            if (g == null) {
                throw new IllegalArgumentException(PROPERTY + ": " + value + " (expected: 2022, 2024 or both)");
            }
            chosen.add(g);
        }
        return List.copyOf(chosen);
    }

    /** {@code dask 2024.12.1 (Debian trixie chroot)}: the display name of a test invocation. */
    String label() {
        return "dask " + version + " (" + where + ")";
    }

    /** The prefix of every Python command line: the interpreter, inside the chroot for 2024. */
    List<String> python() {
        return this == DASK_2022 ? List.of(PYTHON.toString())
                : List.of("chroot", trixieRoot().toString(), PYTHON.toString());
    }

    /**
     * Where a fixture keeps the files its Python peers read or write (scripts, scratch directories,
     * worker spaces): {@code logDir} itself for 2022, {@code <root>/tmp/cloudviper-interop/<test>} for
     * 2024.
     */
    Path workDir(Path logDir, String test) {
        return this == DASK_2022 ? logDir : trixieRoot().resolve("tmp").resolve("cloudviper-interop").resolve(test);
    }

    /** How this generation's Python spells the host path {@code hostPath} (which it must be able to see). */
    String pythonPath(Path hostPath) {
        Path p = hostPath.toAbsolutePath().normalize();
        if (this == DASK_2022) {
            return p.toString();
        }
        Path root = trixieRoot().toAbsolutePath().normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException(p + " is outside the trixie root " + root
                    + ": Python " + version + " cannot see it (use PythonPeers.scratchDir)");
        }
        return "/" + root.relativize(p);
    }

    /**
     * Why this generation cannot run here, or null: its interpreter is missing or cannot import
     * distributed {@link #version}, or (2024) the trixie root is not built. Probed once per JVM.
     */
    String unavailableReason() {
        String reason = UNAVAILABLE.computeIfAbsent(this, DaskGeneration::probe);
        return reason.isEmpty() ? null : reason;
    }

    private String probe() {
        List<String> cmd = new ArrayList<>(python());
        if (this == DASK_2022) {
            if (!Files.isExecutable(PYTHON)) {
                return PYTHON + " is not executable (scripts/setup-peers.sh installs Dask 2022.12.1)";
            }
        } else {
            Path root = trixieRoot();
            if (!Files.isRegularFile(root.resolve(TRIXIE_MARKER))) {
                return "the Dask 2024.12.1 trixie root is not built: no " + root.resolve(TRIXIE_MARKER)
                        + " (build it with scripts/dask-trixie.sh ensure, as scripts/test.sh does)";
            }
            if (!Files.exists(root.resolve("proc/self"))) {
                String mounted = mountTrixie(root);
                if (mounted != null) {
                    return mounted;
                }
            }
        }
        cmd.addAll(List.of("-c", "import distributed; print(distributed.__version__)"));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return String.join(" ", cmd) + " timed out";
            }
            String text = new String(out, StandardCharsets.UTF_8).strip();
            if (p.exitValue() != 0) {
                return String.join(" ", python()) + " cannot import distributed: " + text;
            }
            if (!text.startsWith(version)) {
                return String.join(" ", python()) + " has distributed " + text + ", not " + version;
            }
            return "";
        } catch (IOException e) {
            return String.join(" ", python()) + " cannot be run: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while probing " + String.join(" ", python());
        }
    }

    /** Mounts /proc, /dev and /dev/shm into a built root; returns why that failed, or null. */
    private static String mountTrixie(Path root) {
        Path script = projectRoot().resolve("scripts/dask-trixie.sh");
        if (!Files.isRegularFile(script)) {
            return root + "/proc is not mounted, and there is no " + script + " to mount it";
        }
        try {
            ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), "ensure").redirectErrorStream(true);
            pb.environment().put("DASK_TRIXIE_ROOT", root.toString()); // never builds: the marker exists
            Process p = pb.start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return script + " ensure timed out";
            }
            return p.exitValue() == 0 && Files.exists(root.resolve("proc/self")) ? null
                    : root + "/proc is not mounted and " + script + " ensure failed: " + out;
        } catch (IOException e) {
            return root + "/proc is not mounted and " + script + " cannot be run: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while mounting " + root;
        }
    }

    /** {@code -Ddask.trixie.root}, {@code $DASK_TRIXIE_ROOT}, or {@code <project>/.cache/dask-trixie}. */
    static Path trixieRoot() {
        String configured = System.getProperty("dask.trixie.root", System.getenv("DASK_TRIXIE_ROOT"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        return projectRoot().resolve(".cache").resolve("dask-trixie");
    }

    /** The parent of the scheduler module, where surefire runs the tests. */
    static Path projectRoot() {
        Path module = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
        return module.getParent() != null ? module.getParent() : module;
    }
}
