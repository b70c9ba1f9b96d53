package org.cloudviper.worker;

import org.cloudviper.testkit.JarProcess;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code java -jar cloudviper-worker.jar} as a user runs it, in a JVM of its own: the manifest (main
 * class, version, Add-Opens), the command line and the logging backend inside the shaded jar. Run by
 * failsafe once the jar is packaged.
 */
class WorkerJarIT {
    private static final Path JAR = Path.of(System.getProperty("cloudviper.jar"));

    @TempDir
    Path dir;

    private JarProcess java;

    @BeforeEach
    void jar() {
        java = new JarProcess(JAR, dir);
    }

    @Test
    void versionIsTheProjectVersion() throws Exception {
        assertEquals(new JarProcess.Exit(0, "cloudviper-worker " + System.getProperty("cloudviper.version") + "\n", ""),
                java.run("--version"));
    }

    @Test
    void help() throws Exception {
        JarProcess.Exit e = java.run("--help");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().startsWith("Usage: java -jar cloudviper-worker.jar [SCHEDULER] [OPTIONS]"), e.out());
    }

    @Test
    void aBadFlagExitsWith2() throws Exception {
        JarProcess.Exit e = java.run("tcp://127.0.0.1:8786", "--bogus");
        assertEquals(2, e.code(), e.err());
        List<String> lines = e.err().lines().toList();
        assertEquals("error: Unknown option: '--bogus'", lines.get(0));
        assertTrue(lines.get(1).startsWith("Usage: java -jar cloudviper-worker.jar"), e.err());
    }

    @Test
    void startsAndLogsWhileTheSchedulerIsNotThereYet() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free again once closed: nothing listens there
        }
        Process p = java.start("tcp://127.0.0.1:" + port, "--nthreads", "1");
        try {
            // the log line through the jar's own SLF4J backend, with the date the main asks it for
            Pattern waiting = Pattern.compile("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} \\[.*] INFO "
                    + "org\\.cloudviper\\.worker\\.runtime\\.SchedulerLink - Waiting to connect to: tcp://127\\.0\\.0\\.1:"
                    + port + " ", Pattern.MULTILINE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!waiting.matcher(java.err()).find()) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    fail("no 'Waiting to connect' line (exit " + (p.isAlive() ? "-" : p.exitValue()) + "):\n"
                            + java.err());
                }
                Thread.sleep(50);
            }
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
