package org.cloudviper.worker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    record Exit(int code, String out, String err) {
    }

    private Process start(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile()).start();
    }

    private String read(String stream) throws Exception {
        Path f = dir.resolve(stream);
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }

    private Exit run(String... args) throws Exception {
        Process p = start(args);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("java -jar " + JAR + " " + String.join(" ", args) + " still runs after 60 s");
        }
        return new Exit(p.exitValue(), read("out"), read("err"));
    }

    @Test
    void versionIsTheProjectVersion() throws Exception {
        assertEquals(new Exit(0, "cloudviper-worker " + System.getProperty("cloudviper.version") + "\n", ""),
                run("--version"));
    }

    @Test
    void help() throws Exception {
        Exit e = run("--help");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().startsWith("Usage: java -jar cloudviper-worker.jar [SCHEDULER] [OPTIONS]"), e.out());
    }

    @Test
    void aBadFlagExitsWith2() throws Exception {
        Exit e = run("tcp://127.0.0.1:8786", "--bogus");
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
        Process p = start("tcp://127.0.0.1:" + port, "--nthreads", "1");
        try {
            // the log line through the jar's own SLF4J backend, with the date the main asks it for
            Pattern waiting = Pattern.compile("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} \\[.*] INFO "
                    + "org\\.cloudviper\\.worker\\.runtime\\.SchedulerLink - Waiting to connect to: tcp://127\\.0\\.0\\.1:"
                    + port + " ", Pattern.MULTILINE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!waiting.matcher(read("err")).find()) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    fail("no 'Waiting to connect' line (exit " + (p.isAlive() ? "-" : p.exitValue()) + "):\n"
                            + read("err"));
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
