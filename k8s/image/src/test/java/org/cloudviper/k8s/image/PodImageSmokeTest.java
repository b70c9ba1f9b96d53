package org.cloudviper.k8s.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pod images, end to end without a registry: an offline Debian base with a headless JRE
 * (scripts/image-base.sh, cached under .cache/image-base), the scheduler and worker images built on it
 * by Jib as tars, their layers unpacked into a root, both entrypoints started under chroot, and a stock
 * Python client (Dask 2022.12.1) computing a Java task through that scheduler and worker. Measures the
 * worker's cold start (entrypoint to registered, through the image's launcher), with the JDK's default
 * class-data archive and with an application archive (AppCDS) made by a first run, which the launcher
 * then uses by itself ({@code -Xshare:on}: the JVM exits if it cannot map it).
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class PodImageSmokeTest {
    private static final Path REPO = Path.of(System.getProperty("cloudviper.root", "../..")).toAbsolutePath().normalize();
    private static final Pattern SCHEDULER_AT = Pattern.compile("Scheduler at:\\s+(tcp://\\S+)");
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> mounts = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
            }
        }
        for (int i = mounts.size() - 1; i >= 0; i--) {
            run(List.of("umount", mounts.get(i).toString()));
        }
    }

    @Test
    void theImagesRunAClusterAStockClientUses() throws Exception {
        Path target = Path.of("target").toAbsolutePath();
        String base = run(List.of(REPO.resolve("scripts/image-base.sh").toString())).strip();
        Path images = Files.createDirectories(target.resolve("images"));
        Path schedulerTar = images.resolve("cloudviper-scheduler.tar");
        Path workerTar = images.resolve("cloudviper-worker.tar");
        PodImages.main(new String[]{"tar://" + base, System.getProperty("cloudviper.k8s.jar"),
                System.getProperty("cloudviper.worker.jar"), schedulerTar.toString(), workerTar.toString()});

        Path root = target.resolve("image-root");
        run(List.of("rm", "-rf", root.toString()));
        Files.createDirectories(root);
        unpack(schedulerTar, root);
        unpack(workerTar, root);
        assertTrue(Files.isExecutable(root.resolve("opt/cloudviper/bin/entrypoint")));
        for (String launcher : List.of("cloudviper-scheduler", "cloudviper-worker")) {
            assertTrue(Files.isExecutable(root.resolve("opt/cloudviper/bin/" + launcher)), launcher);
        }
        assertTrue(Files.isRegularFile(root.resolve("opt/cloudviper/lib/cloudviper-k8s.jar")));
        assertTrue(Files.isRegularFile(root.resolve("opt/cloudviper/lib/cloudviper-worker.jar")));
        for (String m : List.of("proc", "dev")) {
            Files.createDirectories(root.resolve(m));
            run(m.equals("proc") ? List.of("mount", "-t", "proc", "proc", root.resolve(m).toString())
                    : List.of("mount", "--bind", "/dev", root.resolve(m).toString()));
            mounts.add(root.resolve(m));
        }
        List<String> entrypoint = List.of("chroot", root.toString(), PodImages.ENTRYPOINT);

        Path schedulerLog = target.resolve("image-scheduler.log");
        Process scheduler = start(concat(entrypoint, "scheduler", "--host", "127.0.0.1", "--port", "0",
                "--dashboard-address", "127.0.0.1:0"), schedulerLog, "");
        String address = await(schedulerLog, SCHEDULER_AT, 60).group(1);

        // cold start: entrypoint to registered, first with the JDK's default archive ...
        Path plainLog = target.resolve("image-worker-1.log");
        double plain = coldStart(entrypoint, address, plainLog, "");
        assertTrue(Files.readString(plainLog).contains("Sockets on Netty's epoll transport"));
        // ... then with an application class-data archive written by a first run (JDK 17: at exit) where
        // the worker's launcher looks for it, next to the jar, so the next start uses it unasked
        String archive = PodImages.HOME + "/lib/cloudviper-worker.jdk17.jsa";
        Path jsaLog = target.resolve("image-worker-dump.log");
        Process dump = start(concat(entrypoint, "worker", address, "--nthreads", "1", "--name", "dump"), jsaLog,
                "-XX:ArchiveClassesAtExit=" + archive);
        await(jsaLog, Pattern.compile("Registered to"), 120);
        dump.destroy();
        dump.waitFor(60, TimeUnit.SECONDS);
        assertTrue(Files.isRegularFile(root.resolve(archive.substring(1))), archive);
        Path cdsLog = target.resolve("image-worker-2.log");
        double cds = coldStart(entrypoint, address, cdsLog, "-Xshare:on -Xlog:cds=warning");
        assertFalse(Files.readString(cdsLog).contains("Unable to use shared archive"), Files.readString(cdsLog));

        Path script = Files.writeString(target.resolve("image_client.py"), String.join("\n",
                "import sys",
                "from distributed import Client",
                "import cloudviper.tasks as cv",
                "with Client(sys.argv[1], timeout=30) as c:",
                "    c.wait_for_workers(2, timeout=60)",
                "    a = c.submit(cv.arange_f64, 10, resources={'java': 1})",
                "    s = c.submit(cv.sum, a, resources={'java': 1})",
                "    print('RESULT', s.result(timeout=60), len(c.scheduler_info()['workers']))",
                ""));
        ProcessBuilder pb = new ProcessBuilder("/usr/bin/python3", script.toString(), address)
                .redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", REPO.resolve("worker/python").toString());
        Process client = pb.start();
        String out = new String(client.getInputStream().readAllBytes());
        assertTrue(client.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, client.exitValue(), out);
        assertTrue(out.contains("RESULT 45.0 2"), out);
        System.out.printf("BENCH pod cold start (entrypoint to registered worker): default CDS %.0f ms,"
                + " AppCDS archive %.0f ms%n", plain, cds);
        assertTrue(scheduler.isAlive());
    }

    /** Starts a worker from the image and returns the milliseconds until the scheduler registered it. */
    private double coldStart(List<String> entrypoint, String address, Path log, String jvmOptions) throws Exception {
        long t0 = System.nanoTime();
        start(concat(entrypoint, "worker", address, "--nthreads", "1"), log, jvmOptions);
        await(log, Pattern.compile("Registered to"), 120);
        return (System.nanoTime() - t0) / 1e6;
    }

    private Process start(List<String> cmd, Path log, String jvmOptions) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("CLOUDVIPER_JVM_OPTIONS", jvmOptions);
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private static Matcher await(Path log, Pattern pattern, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(Files.exists(log) ? Files.readString(log) : "");
            if (m.find()) {
                return m;
            }
            Thread.sleep(10);
        }
        throw new AssertionError(pattern + " not in " + log + " after " + seconds + " s:\n" + Files.readString(log));
    }

    /** Extracts the image's layers, in order, into {@code root} (docker-save layout: manifest.json). */
    private static void unpack(Path image, Path root) throws Exception {
        Path dir = Files.createTempDirectory(image.getParent(), "unpack-");
        run(List.of("tar", "-C", dir.toString(), "-xf", image.toString()));
        JsonNode manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        for (JsonNode layer : manifest.get(0).get("Layers")) {
            Path l = dir.resolve(layer.asText());
            run(List.of("tar", "--numeric-owner", "-C", root.toString(), "-xf", l.toString()));
        }
        run(List.of("rm", "-rf", dir.toString()));
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> r = new ArrayList<>(a);
        r.addAll(List.of(b));
        return r;
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IOException(cmd + " failed: " + err);
        }
        return out;
    }
}
