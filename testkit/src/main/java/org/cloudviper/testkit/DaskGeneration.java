package org.cloudviper.testkit;

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
 *     (never the python3 first on PATH); peers that need pyarrow, which bookworm lacks, run from the
 *     venv {@code scripts/setup-peers.sh} makes over it ({@code .cache/py22}, or
 *     {@code -Dcloudviper.pyarrow.python}).</li>
 * <li>{@link #DASK_2024}: distributed 2024.12.1 of the {@link TrixieRoot}, run in its chroot. The
 *     root has no pyarrow.</li>
 * </ul>
 */
public enum DaskGeneration {

    DASK_2022("2022", "2022.12.1", "Debian bookworm /usr/bin/python3"),
    DASK_2024("2024", "2024.12.1", "Debian trixie chroot");

    /** The system property that selects generations: {@code 2022}, {@code 2024}, or both (default). */
    public static final String PROPERTY = "interop.dask";
    /** The interpreter of Dask 2022.12.1 plus pyarrow. */
    public static final String PYARROW_PYTHON_PROPERTY = "cloudviper.pyarrow.python";

    private static final Path BOOKWORM_PYTHON = Path.of("/usr/bin/python3");
    private static final Map<String, String> UNAVAILABLE = new ConcurrentHashMap<>();

    /** What {@code -Dinterop.dask} is matched against, e.g. {@code 2024}. */
    public final String year;
    /** The distributed release its peers must report. */
    public final String version;
    private final String where;

    DaskGeneration(String year, String version, String where) {
        this.year = year;
        this.version = version;
        this.where = where;
    }

    /** The generations {@code -Dinterop.dask} selects, in release order. */
    public static List<DaskGeneration> selected() {
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
    public String label() {
        return "dask " + version + " (" + where + ")";
    }

    /** The prefix of every Python command line: the interpreter, inside the chroot for 2024. */
    public List<String> python(boolean withPyarrow) {
        if (this == DASK_2024) {
            return TrixieRoot.python();
        }
        return List.of((withPyarrow ? pyarrowPython() : BOOKWORM_PYTHON).toString());
    }

    /** Whether the project's set-up installs pyarrow for this generation (2024's root has none). */
    public boolean providesPyarrow() {
        return this == DASK_2022;
    }

    private static Path pyarrowPython() {
        String configured = System.getProperty(PYARROW_PYTHON_PROPERTY);
        return configured != null ? Path.of(configured)
                : TrixieRoot.projectRoot().resolve(".cache").resolve("py22").resolve("bin").resolve("python");
    }

    /**
     * Where a fixture keeps the files its Python peers read or write (scripts, scratch directories,
     * worker spaces): {@code logDir} itself for 2022; for 2024 a directory under the root's /tmp
     * named after {@code logDir}, so that the tests of two checkouts never share one.
     */
    Path workDir(Path logDir) {
        if (this == DASK_2022) {
            return logDir;
        }
        String owner = Integer.toHexString(logDir.getParent().toString().hashCode());
        return TrixieRoot.root().resolve("tmp").resolve("cloudviper-interop").resolve(owner)
                .resolve(logDir.getFileName().toString());
    }

    /** How this generation's Python spells the host path {@code hostPath} (which it must be able to see). */
    String pythonPath(Path hostPath) {
        return this == DASK_2022 ? hostPath.toAbsolutePath().normalize().toString() : TrixieRoot.pathInside(hostPath);
    }

    /**
     * Why this generation cannot run here, or null: its interpreter is missing or cannot import
     * distributed {@link #version} and numpy (and pyarrow, {@code withPyarrow}), or (2024) the trixie
     * root is unusable. Probed once per JVM.
     */
    public String unavailableReason(boolean withPyarrow) {
        String reason = UNAVAILABLE.computeIfAbsent(name() + withPyarrow, k -> probe(withPyarrow));
        return reason.isEmpty() ? null : reason;
    }

    private String probe(boolean withPyarrow) {
        List<String> python = python(withPyarrow);
        if (this == DASK_2024) {
            String root = TrixieRoot.unavailableReason();
            if (root != null) {
                return root;
            }
        } else if (!Files.isExecutable(Path.of(python.get(0)))) {
            return python.get(0) + " is not executable (scripts/setup-peers.sh installs Dask 2022.12.1"
                    + (withPyarrow ? " and makes the pyarrow venv)" : ")");
        }
        List<String> cmd = new ArrayList<>(python);
        cmd.addAll(List.of("-c", "import distributed, numpy" + (withPyarrow ? ", pyarrow" : "")
                + "; print(distributed.__version__)"));
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
                return String.join(" ", python) + " cannot import distributed, numpy"
                        + (withPyarrow ? ", pyarrow" : "") + ": " + text;
            }
            if (!text.startsWith(version)) {
                return String.join(" ", python) + " has distributed " + text + ", not " + version;
            }
            return "";
        } catch (IOException e) {
            return String.join(" ", python) + " cannot be run: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while probing " + String.join(" ", python);
        }
    }
}
