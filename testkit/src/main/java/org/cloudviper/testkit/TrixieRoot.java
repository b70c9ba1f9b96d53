package org.cloudviper.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Debian trixie root that holds Dask 2024.12.1: built by {@code scripts/dask-trixie.sh} into
 * {@code <project>/.cache/dask-trixie}, or found at {@code -Ddask.trixie.root} or
 * {@code $DASK_TRIXIE_ROOT}. Its Python runs as {@code chroot <root> /usr/bin/python3}: the chroot
 * shares the network, so 127.0.0.1 works both ways, and {@code chroot} execs Python, so the pid Java
 * sees is the Python process. Python sees only files under the root ({@link #pathInside}).
 *
 * <p>Tests never build the root (CI's {@code scripts/test.sh} does, before Maven): without its
 * marker file {@code .cloudviper-ready} it is unavailable. A built root whose /proc is not mounted
 * (after a reboot) is mounted with {@code scripts/dask-trixie.sh ensure}, which then only mounts.
 */
public final class TrixieRoot {
    private static final String MARKER = ".cloudviper-ready";
    private static final String PYTHON = "/usr/bin/python3";

    private TrixieRoot() {
    }

    /** {@code -Ddask.trixie.root}, {@code $DASK_TRIXIE_ROOT}, or {@code <project>/.cache/dask-trixie}. */
    public static Path root() {
        String configured = System.getProperty("dask.trixie.root", System.getenv("DASK_TRIXIE_ROOT"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        return projectRoot().resolve(".cache").resolve("dask-trixie");
    }

    /**
     * The project's root directory: the nearest directory at or above the module surefire runs in
     * ({@code basedir}) that holds {@code scripts/dask-trixie.sh}.
     */
    public static Path projectRoot() {
        Path module = moduleDir();
        for (Path p = module; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("scripts").resolve("dask-trixie.sh"))) {
                return p;
            }
        }
        return module.getParent() != null ? module.getParent() : module;
    }

    /** The module whose tests run: surefire's {@code basedir}, else the working directory. */
    public static Path moduleDir() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath().normalize();
    }

    /** The command prefix that runs the root's Python. */
    public static List<String> python() {
        return List.of("chroot", root().toString(), PYTHON);
    }

    /** How the root's Python spells {@code hostPath}, which must lie under the root. */
    public static String pathInside(Path hostPath) {
        Path p = hostPath.toAbsolutePath().normalize();
        Path root = root().toAbsolutePath().normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException(p + " is outside the trixie root " + root
                    + ": its Python cannot see it");
        }
        return "/" + root.relativize(p);
    }

    /**
     * Why the root's Python cannot run here, or null: the root is not built, this JVM cannot chroot
     * (not root), or its /proc is not mounted and mounting it failed. Mounts /proc when needed.
     */
    public static String unavailableReason() {
        Path root = root();
        if (!Files.isRegularFile(root.resolve(MARKER))) {
            return "the Dask 2024.12.1 trixie root is not built: no " + root.resolve(MARKER)
                    + " (build it with scripts/dask-trixie.sh ensure, as scripts/test.sh does)";
        }
        if (!"root".equals(System.getProperty("user.name"))) {
            return "running the trixie root's Python needs chroot, which needs root";
        }
        if (!Files.exists(root.resolve("proc/self"))) {
            return mount(root);
        }
        return null;
    }

    /** Mounts /proc, /dev and /dev/shm into a built root; returns why that failed, or null. */
    private static String mount(Path root) {
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
}
