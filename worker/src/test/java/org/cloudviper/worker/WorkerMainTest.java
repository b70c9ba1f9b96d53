package org.cloudviper.worker;

import org.cloudviper.protocol.cli.Commands;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line, option by option, as {@code dask worker} spells it. */
class WorkerMainTest {
    static final long GB = 1_000_000_000L;

    /** The configuration {@code args} give, or null for --help; a mistake throws ParameterException. */
    static WorkerConfig parse(String[] args, long systemMemory) throws IOException, InterruptedException {
        WorkerMain command = new WorkerMain();
        CommandLine cl = Commands.commandLine(command);
        cl.parseArgs(args);
        return cl.isUsageHelpRequested() ? null : command.config(systemMemory);
    }

    /** What {@code java -jar cloudviper-worker.jar args} prints and exits with, for arguments that start no worker. */
    record Run(int exitCode, String out, String err) {
        static Run of(String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Commands.commandLine(new WorkerMain())
                    .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
            return new Run(code, out.toString(), err.toString());
        }
    }

    @Test
    void optionsOfDaskWorker() throws Exception {
        WorkerConfig c = parse(new String[]{"tcp://10.0.0.1:8786", "--nthreads", "3", "--memory-limit",
                "2GiB", "--name", "w1", "--resources", "GPU=2 java=4", "--local-directory", "/tmp/cv",
                "--host", "127.0.0.1", "--listen-port", "0", "--no-nanny", "--dashboard-address", ":0"}, 8 * GB);
        assertEquals("tcp://10.0.0.1:8786", c.scheduler());
        assertEquals(3, c.nthreads());
        assertEquals(2L << 30, c.memoryLimit());
        assertEquals("w1", c.name());
        assertEquals(Map.of("GPU", 2.0, "java", 4.0), c.effectiveResources());
        assertEquals(Path.of("/tmp/cv"), c.localDirectory());
        assertEquals("127.0.0.1", c.host());
        assertEquals(0, c.port());
        assertEquals(0, c.httpPort());
    }

    @Test
    void httpSideForProbes() throws Exception {
        assertEquals(0, parse(new String[]{"tcp://a:1"}, GB).httpPort(), "like dask worker: on, any free port");
        assertEquals(8788, parse(new String[]{"tcp://a:1", "--dashboard-address", "0.0.0.0:8788"}, GB).httpPort());
        assertEquals(8788, parse(new String[]{"tcp://a:1", "--dashboard-address", "8788"}, GB).httpPort());
        assertEquals(-1, parse(new String[]{"tcp://a:1", "--no-dashboard"}, GB).httpPort());
        assertThrows(ParameterException.class,
                () -> parse(new String[]{"tcp://a:1", "--dashboard-address", ":http"}, GB));
    }

    @Test
    void javaResourceDefaultsToThreads() throws Exception {
        WorkerConfig c = parse(new String[]{"10.0.0.1:8786", "--nthreads=2", "--resources", "GPU=1,FPGA=2"},
                8 * GB);
        assertEquals("tcp://10.0.0.1:8786", c.scheduler());
        assertEquals(Map.of("GPU", 1.0, "FPGA", 2.0, "java", 2.0), c.effectiveResources());
    }

    @Test
    void memoryLimits() {
        assertEquals(4 * GB, WorkerMain.parseMemoryLimit("4GB", 1, 8 * GB));
        assertEquals(4L << 30, WorkerMain.parseMemoryLimit("4 GiB", 1, 8 * GB));
        assertEquals(4 * GB, WorkerMain.parseMemoryLimit("0.5", 1, 8 * GB));
        assertEquals(0, WorkerMain.parseMemoryLimit("0", 1, 8 * GB));
        assertEquals(8 * GB, WorkerMain.parseMemoryLimit("1", 1, 8 * GB), "a plain 1 is all of it, as in Dask");
        assertEquals(500_000_000L, WorkerMain.parseMemoryLimit("500MB", 1, 8 * GB));
        assertEquals(2L << 30, WorkerMain.parseMemoryLimit("2GiB", 1, 8 * GB));
        assertEquals(8 * GB, WorkerMain.parseMemoryLimit("16GB", 1, 8 * GB), "capped at system memory");
        assertEquals(2_000_000_000L, WorkerMain.parseMemoryLimit("2e9", 1, 8 * GB));
        assertTrue(WorkerMain.parseMemoryLimit("auto", 1, 8 * GB) > 0);
        assertThrows(IllegalArgumentException.class, () -> WorkerMain.parseMemoryLimit("lots", 1, 8 * GB));
    }

    @Test
    void schedulerFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler.json");
        Files.writeString(f, "{\"type\": \"Scheduler\", \"id\": \"Scheduler-1\", \"address\": \"tcp://127.0.0.1:4321\","
                + " \"services\": {}}");
        assertEquals("tcp://127.0.0.1:4321", parse(new String[]{"--scheduler-file", f.toString()}, GB)
                .scheduler());
    }

    @Test
    void mistakesAreReported() throws Exception {
        assertNull(parse(new String[]{"--help"}, GB));
        assertThrows(ParameterException.class, () -> parse(new String[]{}, GB));
        assertThrows(ParameterException.class, () -> parse(new String[]{"tcp://a:1", "--bogus", "1"}, GB));
        assertThrows(ParameterException.class, () -> parse(new String[]{"tcp://a:1", "--nthreads"}, GB));
        assertThrows(ParameterException.class, () -> parse(new String[]{"tcp://a:1", "--nthreads", "x"}, GB));
        assertThrows(ParameterException.class, () -> parse(new String[]{"tls://a:1"}, GB));
        assertThrows(ParameterException.class,
                () -> parse(new String[]{"tcp://a:1", "--resources", "GPU"}, GB));
        assertThrows(ParameterException.class, () -> parse(new String[]{"tcp://a:1", "tcp://b:2"}, GB));
        assertThrows(ParameterException.class, () -> parse(new String[]{"tcp://a:1", "--nworkers", "2"}, GB));
    }

    @Test
    void theOptionsDaskWorkerHasAndCloudviperIgnores() throws Exception {
        WorkerConfig c = parse(new String[]{"tcp://a:1", "--nanny",
                "--nanny-port", "0", "--death-timeout", "60", "--nworkers", "1", "--worker-port", "4000",
                "--nthreads", "1", "--nthreads", "2"}, GB);
        assertEquals(4000, c.port());
        assertEquals(2, c.nthreads(), "the last one counts");
    }

    @Test
    void helpListsEveryOptionAndExitsWithZero() {
        Run r = Run.of("--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().startsWith("Usage: java -jar cloudviper-worker.jar [SCHEDULER] [OPTIONS]"), r.out());
        for (String option : List.of("--scheduler-file", "--nthreads", "--memory-limit", "--name", "--resources",
                "--local-directory", "--host", "--listen-port", "--worker-port", "--max-frame-size", "--nworkers",
                "--dashboard-address", "--[no-]dashboard", "--[no-]nanny", "--nanny-port", "--death-timeout",
                "--help", "--version")) {
            assertTrue(r.out().contains(option), option + " in\n" + r.out());
        }
        assertEquals("", r.err());
    }

    @Test
    void versionNamesTheWorker() {
        Run r = Run.of("--version");
        assertEquals(0, r.exitCode());
        // the version itself comes from the jar's manifest: WorkerJarIT checks it on the jar
        assertTrue(r.out().startsWith("cloudviper-worker "), r.out());
    }

    @Test
    void aBadFlagOrValueIsOneLineThenTheUsageAndExitCode2() {
        for (List<String> args : List.of(List.of("tcp://a:1", "--bogus"), List.of("tcp://a:1", "--nthreads", "x"),
                List.of("tcp://a:1", "--nthreads"), List.of("tls://a:1"), List.<String>of(),
                List.of("tcp://a:1", "--resources", "GPU"), List.of("tcp://a:1", "--memory-limit", "lots"))) {
            Run r = Run.of(args.toArray(String[]::new));
            assertEquals(2, r.exitCode(), args + ": " + r.err());
            String[] lines = r.err().split("\n");
            assertTrue(lines[0].startsWith("error: "), args + ": " + r.err());
            assertTrue(lines[1].startsWith("Usage: java -jar cloudviper-worker.jar"), args + ": " + r.err());
            assertEquals("", r.out());
        }
        assertEquals("error: Unknown option: '--bogus'", Run.of("tcp://a:1", "--bogus").err().lines().findFirst()
                .orElseThrow());
        assertEquals("error: --resources: expected NAME=AMOUNT, got GPU",
                Run.of("tcp://a:1", "--resources", "GPU").err().lines().findFirst().orElseThrow());
    }
}
