package org.cloudviper.worker.interop;

import org.cloudviper.worker.Worker;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.cloudviper.worker.interop.JavaWorkerInteropTest.part;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link Worker#closeGracefully}: a Java worker holding the only copies of Java task results asks
 * the scheduler (stock 2022.12.1, stock 2024.12.1, cloudviper) to retire it; the results move to the
 * Python worker, which fetches them from the Java worker with get_data during the retirement. The
 * tasks need the {@code java} resource, which no remaining worker has: a lost result could not be
 * recomputed, so exact values after the close prove the data moved.
 */
@JavaWorkerInterop
class GracefulCloseInteropTest {

    @Test
    void pythonScheduler2022(DaskPeers peers) throws Exception {
        closeGracefully(peers, peers.startPythonScheduler());
    }

    @Test
    void pythonScheduler2024(DaskPeers peers) throws Exception {
        peers.useDask2024();
        closeGracefully(peers, peers.startPythonScheduler());
    }

    @Test
    void cloudviperScheduler2022Peers(DaskPeers peers) throws Exception {
        closeGracefully(peers, peers.startCloudviperScheduler());
    }

    @Test
    void cloudviperScheduler2024Peers(DaskPeers peers) throws Exception {
        peers.useDask2024();
        closeGracefully(peers, peers.startCloudviperScheduler());
    }

    /** The command-line worker (WorkerMain in its own JVM) gets SIGTERM: it closes gracefully. */
    @Test
    void sigtermToTheCliUnderPythonScheduler2024(DaskPeers peers) throws Exception {
        peers.useDask2024();
        sigterm(peers, peers.startPythonScheduler());
    }

    @Test
    void sigtermToTheCliUnderCloudviperScheduler(DaskPeers peers) throws Exception {
        sigterm(peers, peers.startCloudviperScheduler());
    }

    private static void sigterm(DaskPeers peers, String scheduler) throws Exception {
        String python = peers.startPythonWorker(scheduler, null).address();
        Path err = peers.logDir().resolve("java-cli.err");
        Path space = Files.createDirectories(peers.logDir().resolve("java-cli-space"));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.cloudviper.worker.WorkerMain", scheduler,
                "--host", "127.0.0.1", "--nthreads", "2", "--name", "java-cli",
                "--local-directory", space.toString())
                .redirectErrorStream(true).redirectOutput(err.toFile()).start();
        try {
            String address = awaitCliAddress(p, err);
            Map<String, Object> put = peers.runScript("retire_java.py", scheduler, "put");
            assertEquals(List.of(address), part(put, "holders"), "results are only on the Java worker");

            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the CLI worker did not exit after SIGTERM");
            String log = Files.readString(err);
            assertTrue(log.contains("Closing worker gracefully"), log);
            assertTrue(log.contains("Stopped worker at " + address + ": worker-close-gracefully"), log);
            assertAfterClose(peers, scheduler, python);
        } finally {
            p.destroyForcibly();
        }
    }

    private static String awaitCliAddress(Process p, Path err) throws Exception {
        Pattern start = Pattern.compile("Start worker at: (tcp://\\S+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && p.isAlive()) {
            String log = Files.exists(err) ? Files.readString(err) : "";
            Matcher m = start.matcher(log);
            if (m.find() && log.contains("Registered to:")) {
                return m.group(1);
            }
            Thread.sleep(50);
        }
        return fail("the CLI worker did not register:\n" + (Files.exists(err) ? Files.readString(err) : ""));
    }

    private static void closeGracefully(DaskPeers peers, String scheduler) throws Exception {
        String python = peers.startPythonWorker(scheduler, null).address();
        Worker java = peers.startJavaWorker(scheduler, 2);

        Map<String, Object> put = peers.runScript("retire_java.py", scheduler, "put");
        assertEquals(List.of(java.address()), part(put, "holders"), "results are only on the Java worker");

        assertTrue(java.closeGracefully(Duration.ofSeconds(30)), "the scheduler confirmed the retirement");
        assertTrue(java.closed().isDone(), "closed after the retirement");
        assertAfterClose(peers, scheduler, python);
    }

    private static void assertAfterClose(DaskPeers peers, String scheduler, String python) throws Exception {
        Map<String, Object> r = peers.runScript("retire_java.py", scheduler, "get");
        Map<?, ?> after = (Map<?, ?>) part(r, "after");
        List<Object> arrays = new ArrayList<>();
        List<Object> sums = new ArrayList<>();
        for (int n : new int[]{3, 5, 8, 13}) {
            List<Object> a = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                a.add((double) i);
            }
            arrays.add(a);
            sums.add(n * (n - 1) / 2.0);
        }
        assertAll(
                () -> assertEquals(arrays, after.get("arrays")),
                () -> assertEquals(sums, after.get("sums")),
                () -> assertEquals(List.of(python), after.get("holders"), "who_has after the close"),
                () -> assertEquals(List.of(python), after.get("workers"), "workers after the close"));
    }
}
