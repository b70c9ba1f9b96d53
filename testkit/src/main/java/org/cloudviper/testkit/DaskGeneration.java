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
 * default generation (2022.12.1 and 2024.12.1), and once with 2024.1.1 where it asks to
 * ({@link InteropTest#withDask2024_1()}); {@code -Dinterop.dask} chooses otherwise (see
 * {@link #PROPERTY} and {@link InteropExtension}).
 *
 * <ul>
 * <li>{@link #DASK_2022}: distributed 2022.12.1 of Debian bookworm, run as {@code /usr/bin/python3}
 *     (never the python3 first on PATH); peers that need pyarrow, which bookworm lacks, run from the
 *     venv {@code scripts/setup-peers.sh} makes over it ({@code .cache/py22}, or
 *     {@code -Dcloudviper.pyarrow.python}).</li>
 * <li>{@link #DASK_2024_1}: distributed 2024.1.1 (the Helm chart release of the deployments
 *     cloudviper grew from) from the venv {@code scripts/dask-2024.1.sh} builds from its git tags
 *     ({@code .cache/dask-2024.1}, or {@code -Dcloudviper.dask2024_1.python}); no pyarrow. Where it
 *     is not built (the script needs git repositories of dask and distributed) its runs are skipped,
 *     saying so, unless {@code -Dinterop.dask} asks for it by name.</li>
 * <li>{@link #DASK_2024}: distributed 2024.12.1 of the {@link TrixieRoot}, run in its chroot. The
 *     root has no pyarrow.</li>
 * </ul>
 */
public enum DaskGeneration {

    DASK_2022("2022", "2022.12.1", "Debian bookworm /usr/bin/python3", false),
    DASK_2024_1("2024.1", "2024.1.1", "venv of scripts/dask-2024.1.sh", true),
    DASK_2024("2024", "2024.12.1", "Debian trixie chroot", false);

    /**
     * The system property that selects generations: {@code 2022}, {@code 2024.1} or {@code 2024}
     * (or their full versions, comma-separated) run every interop test with just those; {@code all}
     * runs every test with all three; unset (or {@code both}) runs the defaults, plus 2024.1.1 for the
     * tests that ask for it.
     */
    public static final String PROPERTY = "interop.dask";
    /** The interpreter of the Dask 2024.1.1 referee. */
    public static final String DASK_2024_1_PYTHON_PROPERTY = "cloudviper.dask2024_1.python";
    /** The interpreter of Dask 2022.12.1 plus pyarrow. */
    public static final String PYARROW_PYTHON_PROPERTY = "cloudviper.pyarrow.python";

    private static final Path BOOKWORM_PYTHON = Path.of("/usr/bin/python3");
    private static final Map<String, String> UNAVAILABLE = new ConcurrentHashMap<>();

    /** What {@code -Dinterop.dask} is matched against, e.g. {@code 2024}. */
    public final String year;
    /** The distributed release its peers must report. */
    public final String version;
    private final String where;
    /** Runs only for tests that ask for it, and is skipped where it is not installed. */
    private final boolean optIn;

    DaskGeneration(String year, String version, String where, boolean optIn) {
        this.year = year;
        this.version = version;
        this.where = where;
        this.optIn = optIn;
    }

    /** Whether this generation runs only for the tests that ask for it ({@link InteropTest#withDask2024_1()}). */
    public boolean optIn() {
        return optIn;
    }

    /** Whether {@code -Dinterop.dask} names this generation (or says {@code all}). */
    public boolean explicitlySelected() {
        String value = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        return value.equals("all") || !value.isEmpty() && !value.equals("both") && selected().contains(this);
    }

    /**
     * The generations {@code -Dinterop.dask} selects, in release order: by default every one (the
     * opt-in ones then run only for the tests that ask for them).
     */
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
                throw new IllegalArgumentException(PROPERTY + ": " + value + " (expected: 2022, 2024.1, 2024, both"
                        + " or all)");
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
        if (this == DASK_2024_1) {
            return List.of(dask2024_1Python().toString());
        }
        return List.of((withPyarrow ? pyarrowPython() : BOOKWORM_PYTHON).toString());
    }

    private static Path dask2024_1Python() {
        String configured = System.getProperty(DASK_2024_1_PYTHON_PROPERTY);
        return configured != null ? Path.of(configured)
                : TrixieRoot.projectRoot().resolve(".cache").resolve("dask-2024.1").resolve("bin").resolve("python");
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
        if (this != DASK_2024) {
            return logDir;
        }
        String owner = Integer.toHexString(logDir.getParent().toString().hashCode());
        return TrixieRoot.root().resolve("tmp").resolve("cloudviper-interop").resolve(owner)
                .resolve(logDir.getFileName().toString());
    }

    /** How this generation's Python spells the host path {@code hostPath} (which it must be able to see). */
    String pythonPath(Path hostPath) {
        return this != DASK_2024 ? hostPath.toAbsolutePath().normalize().toString() : TrixieRoot.pathInside(hostPath);
    }

    /**
     * Why this generation cannot run here, or null: its interpreter is missing or cannot import
     * distributed {@link #version} and numpy (and pyarrow, {@code withPyarrow}), or (2024) the trixie
     * root is unusable. Probed once per JVM and interpreter.
     */
    public String unavailableReason(boolean withPyarrow) {
        // Keyed by interpreter too: -Dcloudviper.dask2024_1.python and the like may name another one.
        String reason = UNAVAILABLE.computeIfAbsent(name() + withPyarrow + python(withPyarrow),
                k -> probe(withPyarrow));
        return reason.isEmpty() ? null : reason;
    }

    private String probe(boolean withPyarrow) {
        List<String> python = python(withPyarrow);
        if (this == DASK_2024) {
            String root = TrixieRoot.unavailableReason();
            if (root != null) {
                return root;
            }
        } else if (this == DASK_2024_1 && !Files.isExecutable(Path.of(python.get(0)))) {
            return "the Dask 2024.1.1 referee is not built (" + python.get(0) + " is missing): scripts/dask-2024.1.sh"
                    + " ensure builds it from git repositories of dask and distributed (DASK_GIT_DIR,"
                    + " DISTRIBUTED_GIT_DIR), which this machine may not have";
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
