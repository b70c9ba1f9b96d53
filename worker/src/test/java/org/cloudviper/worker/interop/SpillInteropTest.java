package org.cloudviper.worker.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;
import org.cloudviper.worker.Worker;
import org.cloudviper.worker.testing.LeakCheck;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 4, test 5: a Java worker with a 64 MiB memory limit holds 160 MB of results. It spills the
 * oldest to disk (above 0.6 of the limit), says so in its heartbeat metrics, and serves every result
 * back exactly, to the client and to a task that depends on a spilled one; nothing is lost. A worker
 * that cannot write to disk keeps its values, pauses above 0.8 of the limit (worker-status-change
 * "paused" as Dask workers send it) and runs again once results are released. Under a stock
 * scheduler of both generations (and cloudviper's, in the embedded module).
 */
@DaskInterop
@ExtendWith(LeakCheck.class)
public class SpillInteropTest extends JavaWorkerInterop {
    private static final long LIMIT = 64L << 20;

    @InteropTest
    public void spills(PythonPeers peers) throws Exception {
        String scheduler = startScheduler(peers);
        Path space = Files.createDirectories(peers.logDir().resolve("java-worker-spill"));
        Worker worker = startJavaWorker(peers, scheduler, 1, LIMIT, space);
        String java = worker.address();
        Path spillDir = spillFolder(space);

        ScriptResult r = peers.runClient("spill.py", scheduler, java);

        // The client is gone: its results are freed, and so are their files.
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (fileCount(spillDir) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertEquals(0, fileCount(spillDir), "spill files left after every result was released");
        worker.close();
        assertFalse(Files.exists(spillDir), "the worker removes its spill folder when it closes");

        long n = 1_000_000;
        assertAll(
                () -> {
                    Map<?, ?> s = r.partMap("spilled");
                    long disk = ((Number) s.get("disk")).longValue();
                    long memory = ((Number) s.get("memory")).longValue();
                    long managed = ((Number) s.get("managed")).longValue();
                    assertTrue(disk > 0, "the worker reports bytes on disk: " + s);
                    // what stays in memory is at most the target, 0.6 of the limit
                    assertTrue(managed - memory <= (long) (0.6 * LIMIT), "in memory: " + s);
                    assertTrue(memory >= 160_000_000L - (long) (0.6 * LIMIT) - 8_000_000L, "spilled: " + s);
                },
                () -> assertEquals((double) n * (n - 1) / 2, r.part("dependent")),
                () -> assertEquals(Map.of("count", 20L, "wrong", List.of()), r.part("gathered")));
    }

    @InteropTest
    public void pausesWhenItCannotSpillAndResumesWhenResultsAreReleased(PythonPeers peers) throws Exception {
        String scheduler = startScheduler(peers);
        Path space = Files.createDirectories(peers.logDir().resolve("java-worker-unwritable"));
        String java = startJavaWorker(peers, scheduler, 1, LIMIT, space).address();
        // Spill writes fail from now on: the worker's spill folder becomes a plain file.
        Path spillDir = spillFolder(space);
        Files.delete(spillDir);
        Files.writeString(spillDir, "not a folder: spilling fails");

        ScriptResult r = peers.runClient("pause.py", scheduler, java);

        assertAll(
                () -> {
                    Map<?, ?> p = r.partMap("paused");
                    long done = ((Number) p.get("done")).longValue();
                    // 7 results (56 MB) are above 0.8 * 64 MiB; one task may have started just before
                    assertTrue(done >= 7 && done <= 8, "results when paused: " + p);
                    assertEquals(done, ((Number) p.get("done_2s_later")).longValue(), "a paused worker starts nothing");
                },
                () -> assertEquals(List.of(), r.part("wrong_while_paused")),
                () -> assertEquals("running", r.part("resumed")),
                () -> assertEquals(Map.of("count", 6L, "wrong", List.of()), r.part("gathered")));
    }

    /** The worker's own spill folder inside its local directory. */
    private static Path spillFolder(Path space) throws IOException {
        try (Stream<Path> dirs = Files.list(space)) {
            return dirs.filter(p -> p.getFileName().toString().startsWith("spill-")).findFirst()
                    .orElseGet(() -> fail("no spill folder in " + space));
        }
    }

    private static long fileCount(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.count();
        }
    }
}
