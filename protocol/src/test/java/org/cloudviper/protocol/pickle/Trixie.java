package org.cloudviper.protocol.pickle;

import org.cloudviper.testkit.DaskGeneration;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.TrixieRoot;

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

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A work directory in the Debian trixie root with Dask 2024.12.1 ({@link TrixieRoot}), used to
 * check slices with the real unpickler. Scripts run as {@code chroot ROOT /usr/bin/python3 SCRIPT
 * DIR} on a work directory under {@code ROOT/tmp}, removed afterwards.
 *
 * <p>Tests using it are skipped (JUnit assumption) with {@code -Dinterop.skip=true} or
 * {@code -Dinterop.dask=2022}; an unusable root (not built, no chroot, /proc not mountable) fails
 * them: a broken set-up never passes as a skip.
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

    static Trixie open() throws IOException {
        assumeTrue(!PythonPeers.skipRequested(), "-D" + PythonPeers.SKIP_PROPERTY + "=true");
        assumeTrue(DaskGeneration.selected().contains(DaskGeneration.DASK_2024),
                "-D" + DaskGeneration.PROPERTY + " leaves out Dask 2024.12.1");
        String reason = TrixieRoot.unavailableReason();
        assertNull(reason, () -> reason + " (-D" + PythonPeers.SKIP_PROPERTY + "=true skips these tests)");
        return new Trixie(TrixieRoot.root());
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
        List<String> cmd = new ArrayList<>(TrixieRoot.python());
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
