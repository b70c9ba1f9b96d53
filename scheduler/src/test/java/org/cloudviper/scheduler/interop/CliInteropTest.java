package org.cloudviper.scheduler.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The command-line scheduler as a user starts it: a separate JVM running SchedulerMain with
 * {@code --port 0 --scheduler-file F}; a stock {@code dask worker --scheduler-file F} and a stock
 * {@code Client(scheduler_file=F)} find it through the file. Also checks that an unoptimized array
 * computes and that a graph the scheduler cannot expand (a layer class of the user's own) errs
 * clearly on the client.
 */
@DaskInterop
class CliInteropTest {
    private static final Pattern SCHEDULER_AT = Pattern.compile("^Scheduler at: (tcp://\\S+)$", Pattern.MULTILINE);

    @InteropTest
    void schedulerFileAndUnsupportedLayer(PythonPeers peers) throws Exception {
        Assumptions.assumeTrue(InteropScheduler.Kind.selected() == InteropScheduler.Kind.CLOUDVIPER,
                "tests cloudviper's own command line");
        Path file = peers.scratchDir("cli").resolve("scheduler.json");
        Path err = peers.logDir().resolve("cli-scheduler.err");
        Process scheduler = new ProcessBuilder(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.cloudviper.scheduler.SchedulerMain",
                "--host", "127.0.0.1", "--port", "0", "--scheduler-file", file.toString()))
                .redirectErrorStream(true).redirectOutput(err.toFile()).start();
        try {
            String address = awaitAddress(err, scheduler);
            String json = Files.readString(file, StandardCharsets.UTF_8);
            assertTrue(json.contains("\"address\": \"" + address + "\""), "scheduler file: " + json);

            Peer worker = peers.startWorker("--scheduler-file=" + peers.inPython(file), 1, false);
            worker.awaitText("Registered to", Duration.ofSeconds(60));
            ScriptResult r = peers.runClient("cli_scheduler_file.py", peers.inPython(file));
            Map<String, Object> v = r.json();
            assertEquals(2L, v.get("submit"));
            assertEquals(100.0 * 100.0, ((Number) v.get("optimized")).doubleValue());
            assertEquals(2.0 * 100.0 * 100.0, ((Number) v.get("unoptimized")).doubleValue());
            String refusal = String.valueOf(v.get("custom_layer"));
            assertTrue(refusal.contains("Doubling") && refusal.contains("cloudviper")
                            && refusal.contains("Materialize it on the client"),
                    "the refusal should name the layer and the way around it: " + refusal);
        } finally {
            scheduler.destroy();
            if (!scheduler.waitFor(10, TimeUnit.SECONDS)) {
                scheduler.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static String awaitAddress(Path log, Process p) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            Matcher m = SCHEDULER_AT.matcher(text);
            if (m.find()) {
                return m.group(1);
            }
            if (!p.isAlive()) {
                fail("the scheduler exited with " + p.exitValue() + ":\n" + text);
            }
            Thread.sleep(50);
        }
        fail("no 'Scheduler at:' line within 60 s");
        return null;
    }
}
