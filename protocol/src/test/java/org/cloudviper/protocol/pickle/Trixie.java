package org.cloudviper.protocol.pickle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Debian trixie root with Dask 2024.12.1 ({@code scripts/dask-trixie.sh}), used to check slices
 * with the real unpickler. Scripts run as {@code chroot ROOT /usr/bin/python3 SCRIPT DIR} on a
 * work directory under {@code ROOT/tmp}, removed afterwards.
 *
 * <p>Tests using it are skipped (JUnit assumption) with {@code -Dinterop.skip=true}, when the root
 * is not built, or when this JVM cannot chroot (not root). A built root whose /proc is not mounted
 * is mounted with {@code scripts/dask-trixie.sh ensure} (which then only mounts).
 */
final class Trixie implements AutoCloseable {
    final Path root;
    final Path work;
    final String inside;

    private Trixie(Path root) throws IOException {
        this.root = root;
        this.inside = "/tmp/cloudviper-pickle-" + UUID.randomUUID();
        this.work = root.resolve(inside.substring(1));
        Files.createDirectories(work);
    }

    static Trixie open() throws IOException, InterruptedException {
        assumeTrue(!Boolean.getBoolean("interop.skip"), "-Dinterop.skip=true");
        assumeTrue(!"2022".equals(System.getProperty("interop.dask")), "-Dinterop.dask=2022 leaves out Dask 2024.12.1");
        Path repo = Path.of("").toAbsolutePath();
        if (!Files.isDirectory(repo.resolve("scripts")) && repo.getParent() != null) {
            repo = repo.getParent(); // surefire runs in the module directory
        }
        String configured = System.getProperty("dask.trixie.root", System.getenv("DASK_TRIXIE_ROOT"));
        Path root = configured != null ? Path.of(configured) : repo.resolve(".cache/dask-trixie");
        // Not built or not usable fails: a broken set-up never passes as a skip.
        assertTrue(Files.isRegularFile(root.resolve(".cloudviper-ready")), "trixie root not built: " + root
                + " (scripts/dask-trixie.sh ensure; -Dinterop.skip=true skips these tests)");
        assertTrue("root".equals(System.getProperty("user.name")), "chroot needs root");
        if (!Files.exists(root.resolve("proc/self"))) {
            Path script = repo.resolve("scripts/dask-trixie.sh");
            assertTrue(Files.isRegularFile(script), "no scripts/dask-trixie.sh to mount /proc");
            run(List.of("bash", script.toString(), "ensure"), 120);
        }
        assertTrue(Files.exists(root.resolve("proc/self")), "/proc is not mounted in " + root);
        return new Trixie(root);
    }

    /** Copies a resource of {@code /pickles} into the work directory; returns its path inside. */
    String resource(String name) throws IOException {
        Path src = Corpus.root().getParent().resolve(name);
        Files.copy(src, work.resolve(name));
        return inside + "/" + name;
    }

    record Result(int exit, String output) {
    }

    Result python(List<String> args, long timeoutSeconds) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("chroot", root.toString(), "/usr/bin/python3"));
        cmd.addAll(args);
        return run(cmd, timeoutSeconds);
    }

    private static Result run(List<String> cmd, long timeoutSeconds) throws IOException, InterruptedException {
        Path log = Files.createTempFile("cloudviper-pickle", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new IllegalStateException("timed out after " + timeoutSeconds + " s: " + cmd + "\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Override
    public void close() {
        try (Stream<Path> s = Files.walk(work)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }
}
