package org.cloudviper.worker.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * SIGTERM to the command-line Java worker ({@code WorkerMain} in its own JVM, as a pod sees it when
 * scaled down) closes it gracefully: its results, which only Java workers can compute, are all on
 * the Python worker afterwards, exact. Same script as {@link GracefulCloseInteropTest}.
 */
@DaskInterop
public class SigtermInteropTest extends JavaWorkerInterop {

    @InteropTest
    public void sigtermHandsDataOver(PythonPeers peers) throws Exception {
        String scheduler = startScheduler(peers);
        startPythonWorker(peers, scheduler);
        Path log = peers.logDir().resolve("java-cli.log");
        Path space = Files.createDirectories(peers.logDir().resolve("java-cli-space"));
        // The test JVM's class path holds the worker's classes and dependencies (surefire sets it).
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.cloudviper.worker.WorkerMain", scheduler,
                "--host", "127.0.0.1", "--nthreads", "1", "--name", "java-cli",
                "--local-directory", space.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            String java = awaitRegistered(p, log);
            ScriptResult made = peers.runClient("graceful_close.py", scheduler, "make", java);
            assertEquals(List.of(java), made.part("held_by"), "only the Java worker holds them");

            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the worker did not exit after SIGTERM");
            String text = Files.readString(log);
            assertTrue(text.contains("Stopped worker at " + java + ": worker-close-gracefully"), text);

            GracefulCloseInteropTest.assertHandedOver(peers.runClient("graceful_close.py", scheduler, "check", java));
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The worker's address once its log says it registered. */
    private static String awaitRegistered(Process p, Path log) throws Exception {
        Pattern start = Pattern.compile("Start worker at: (tcp://\\S+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && p.isAlive()) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = start.matcher(text);
            if (m.find() && text.contains("Registered to:")) {
                return m.group(1);
            }
            Thread.sleep(50);
        }
        return fail("the worker did not register:\n" + (Files.exists(log) ? Files.readString(log) : ""));
    }
}
