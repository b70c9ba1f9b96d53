package org.cloudviper.scheduler;

import org.cloudviper.testkit.JarProcess;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
 * {@code java -jar cloudviper-scheduler.jar} as a user runs it, in a JVM of its own: the manifest (main
 * class, version, Add-Opens), the command line and the logging backend inside the shaded jar. Run by
 * failsafe once the jar is packaged.
 */
class SchedulerJarIT {
    private static final Path JAR = Path.of(System.getProperty("cloudviper.jar"));
    private static final Pattern SCHEDULER_AT = Pattern.compile("^Scheduler at: (tcp://127\\.0\\.0\\.1:\\d+)$",
            Pattern.MULTILINE);

    @TempDir
    Path dir;

    private JarProcess java;

    @BeforeEach
    void jar() {
        java = new JarProcess(JAR, dir);
    }

    @Test
    void versionIsTheProjectVersion() throws Exception {
        assertEquals(new JarProcess.Exit(0, "cloudviper-scheduler " + System.getProperty("cloudviper.version") + "\n", ""),
                java.run("--version"));
    }

    @Test
    void help() throws Exception {
        JarProcess.Exit e = java.run("--help");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().startsWith("Usage: java -jar cloudviper-scheduler.jar [OPTIONS]"), e.out());
    }

    @Test
    void aBadFlagExitsWith2() throws Exception {
        JarProcess.Exit e = java.run("--port", "0", "--bogus");
        assertEquals(2, e.code(), e.err());
        List<String> lines = e.err().lines().toList();
        assertEquals("error: Unknown option: '--bogus'", lines.get(0));
        assertTrue(lines.get(1).startsWith("Usage: java -jar cloudviper-scheduler.jar"), e.err());
    }

    @Test
    void startsWritesTheSchedulerFileAndLogs() throws Exception {
        Path file = dir.resolve("scheduler.json");
        Process p = java.start("--port", "0", "--scheduler-file", file.toString());
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Matcher m = SCHEDULER_AT.matcher("");
            while (!m.reset(java.err()).find()) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    fail("no 'Scheduler at:' line (exit " + (p.isAlive() ? "-" : p.exitValue()) + "):\n" + java.err());
                }
                Thread.sleep(50);
            }
            assertTrue(Files.readString(file).contains("\"address\": \"" + m.group(1) + "\""), Files.readString(file));
            // the log line through the jar's own SLF4J backend, with the date the main asks it for
            assertTrue(Pattern.compile("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} \\[.*] INFO "
                    + "org\\.cloudviper\\.scheduler\\.server\\.SchedulerServer - Scheduler at: "
                    + Pattern.quote(m.group(1)) + "$", Pattern.MULTILINE).matcher(java.err()).find(), java.err());
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }
}
