package org.cloudviper.scheduler;

import org.cloudviper.protocol.cli.Commands;
import org.cloudviper.protocol.FrameLimits;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line, option by option, as {@code dask scheduler} spells it where it has the option. */
class SchedulerMainTest {
    /** The configuration {@code args} give, or null for --help; a mistake throws ParameterException. */
    static SchedulerConfig parse(String... args) {
        SchedulerMain command = new SchedulerMain();
        CommandLine cl = Commands.commandLine(command);
        cl.parseArgs(args);
        return cl.isUsageHelpRequested() ? null : command.config();
    }

    /** What {@code java -jar cloudviper-scheduler.jar args} prints and exits with, for arguments that start nothing. */
    record Run(int exitCode, String out, String err) {
        static Run of(String... args) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Commands.commandLine(new SchedulerMain())
                    .setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
            return new Run(code, out.toString(), err.toString());
        }
    }

    @Test
    void noOptionsGiveTheConfigDefaults() {
        // but the HTTP side, which the command line serves on Dask's port and the library leaves off
        assertEquals(SchedulerConfig.defaults().withDashboard(":8787"), parse());
    }

    @Test
    void workStealingIsOnUnlessTurnedOff() {
        assertTrue(parse().workStealing());
        assertFalse(parse("--no-work-stealing").workStealing());
        assertTrue(parse("--no-work-stealing", "--work-stealing").workStealing());
    }

    @Test
    void dashboardOptions() {
        assertEquals("127.0.0.1:0", parse("--dashboard-address", "127.0.0.1:0").dashboard());
        assertNull(parse("--no-dashboard").dashboard());
        assertEquals(":9000", parse("--no-dashboard", "--dashboard", "--dashboard-address=:9000").dashboard());
        assertThrows(ParameterException.class, () -> parse("--dashboard-address", "host:port"));
        assertEquals(new SchedulerConfig.DashboardAddress("10.0.0.1", 8787), SchedulerConfig.DashboardAddress.parse(":8787", "10.0.0.1"));
        assertEquals(new SchedulerConfig.DashboardAddress("::1", 0), SchedulerConfig.DashboardAddress.parse("[::1]:0", "127.0.0.1"));
        assertEquals(new SchedulerConfig.DashboardAddress("127.0.0.1", 8788), SchedulerConfig.DashboardAddress.parse("8788", "127.0.0.1"));
    }

    @Test
    void everyOption() {
        SchedulerConfig c = parse("--host", "0.0.0.0", "--port=0", "--scheduler-file", "/tmp/s.json",
                "--worker-ttl", "0.5", "--worker-saturation", "inf", "--worker-pipeline-ms", "2.5",
                "--allowed-failures", "7", "--max-frames", "10", "--max-frame-size", "1000",
                "--max-message-size", "5000", "--dashboard-address", ":0", "--no-dashboard", "--dashboard-prefix", "x");
        assertEquals("0.0.0.0", c.host());
        assertEquals(0, c.port());
        assertEquals(Path.of("/tmp/s.json"), c.schedulerFile());
        assertEquals(Duration.ofMillis(500), c.workerTtl());
        assertEquals(Double.POSITIVE_INFINITY, c.workerSaturation());
        assertEquals(Duration.ofNanos(2_500_000), c.workerPipeline());
        assertEquals(7, c.allowedFailures());
        assertEquals(new FrameLimits(10, 1000, 5000), c.limits());
        assertEquals(0.9, parse("--worker-saturation=0.9").workerSaturation());
        assertEquals(9000, parse("--port", "8000", "--port", "9000").port(), "the last one counts");
    }

    @Test
    void mistakesAreReported() {
        assertNull(parse("--help"));
        assertThrows(ParameterException.class, () -> parse("--bogus"));
        assertThrows(ParameterException.class, () -> parse("--port"));
        assertThrows(ParameterException.class, () -> parse("--port", "x"));
        assertThrows(ParameterException.class, () -> parse("--worker-saturation", "lots"));
        assertThrows(ParameterException.class, () -> parse("--max-frame-size", "0"));
        assertThrows(ParameterException.class, () -> parse("--worker-pipeline-ms", "-1"));
        assertThrows(ParameterException.class, () -> parse("extra"));
    }

    @Test
    void helpListsEveryOptionAndExitsWithZero() {
        Run r = Run.of("--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().startsWith("Usage: java -jar cloudviper-scheduler.jar [OPTIONS]"), r.out());
        for (String option : List.of("--host", "--port", "--scheduler-file", "--worker-ttl", "--worker-saturation",
                "--worker-pipeline-ms", "--allowed-failures", "--max-frames", "--max-frame-size",
                "--max-message-size", "--dashboard-address", "--[no-]dashboard", "--graceful-timeout", "--help", "--version")) {
            assertTrue(r.out().contains(option), option + " in\n" + r.out());
        }
        assertTrue(r.out().contains("(default: 8786)"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void versionNamesTheScheduler() {
        Run r = Run.of("--version");
        assertEquals(0, r.exitCode());
        // the version itself comes from the jar's manifest: SchedulerJarIT checks it on the jar
        assertTrue(r.out().startsWith("cloudviper-scheduler "), r.out());
    }

    @Test
    void aBadFlagOrValueIsOneLineThenTheUsageAndExitCode2() {
        for (List<String> args : List.of(List.of("--bogus"), List.of("--port", "x"), List.of("--port"),
                List.of("--max-frame-size", "0"), List.of("--worker-saturation", "lots"))) {
            Run r = Run.of(args.toArray(String[]::new));
            assertEquals(2, r.exitCode(), args + ": " + r.err());
            String[] lines = r.err().split("\n");
            assertTrue(lines[0].startsWith("error: "), args + ": " + r.err());
            assertTrue(lines[1].startsWith("Usage: java -jar cloudviper-scheduler.jar"), args + ": " + r.err());
            assertEquals("", r.out());
        }
        assertEquals("error: Unknown option: '--bogus'", Run.of("--bogus").err().lines().findFirst().orElseThrow());
        assertEquals("error: Invalid value for option '--port': 'x' is not an int",
                Run.of("--port", "x").err().lines().findFirst().orElseThrow());
    }
}
