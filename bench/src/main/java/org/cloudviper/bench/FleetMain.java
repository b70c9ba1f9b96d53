package org.cloudviper.bench;

import org.cloudviper.bench.fleet.FakeFleet;
import org.cloudviper.embedded.JavaClient;
import org.cloudviper.protocol.message.Generation;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A thousand workers on one scheduler (issue #13, targets 4 and 5): starts the scheduler in its own
 * process (cloudviper's jar as the README starts it, or Dask 2022.12.1's {@code dask scheduler}),
 * connects {@code W} fake workers speaking the real protocol ({@link FakeFleet}) and the
 * {@link JavaClient}, measures the scheduler process's CPU (utime + stime from /proc) while nothing
 * runs, then runs one graph of {@code N} independent no-op tasks across the workers and reports
 * tasks/s (submit to every key in memory at the client) and the scheduler's CPU for it, then the idle
 * CPU again.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar org.cloudviper.bench.FleetMain cloudviper \
 *     scheduler/target/cloudviper-scheduler.jar 1000 1000000 60
 * java -cp bench/target/benchmarks.jar org.cloudviper.bench.FleetMain dask - 1000 1000000 60
 * </pre>
 *
 * <p>Arguments: scheduler (cloudviper|dask), the scheduler jar (cloudviper), workers, tasks (0: idle
 * only), idle seconds; optional: worker generation (2022|2024, default 2022), the fleet's loop
 * threads (default 2), {@code pyclient} to keep a stock Python 2022.12.1 client connected as well
 * (it asks the scheduler's identity, every worker's info, every 2 s).
 */
public final class FleetMain {
    private static final long TICKS_PER_SECOND = 100; // USER_HZ on Linux

    private FleetMain() {
    }

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        String jar = args[1];
        int workers = Integer.parseInt(args[2].replace("_", ""));
        int tasks = Integer.parseInt(args[3].replace("_", ""));
        int idleSeconds = Integer.parseInt(args[4]);
        Generation generation = args.length > 5 && args[5].equals("2024")
                ? Generation.DASK_2024 : Generation.DASK_2022;
        int loopThreads = args.length > 6 ? Integer.parseInt(args[6]) : 2;
        boolean pyClient = args.length > 7 && args[7].equals("pyclient");
        Path dir = Files.createTempDirectory("fleet");
        Path schedulerFile = dir.resolve("scheduler.json");
        Process scheduler = startScheduler(kind, jar, schedulerFile, dir.resolve("scheduler.log").toFile());
        try {
            String address = waitForAddress(schedulerFile, scheduler);
            long pid = scheduler.pid();
            System.out.printf("scheduler %s (pid %d) at %s; log %s%n", kind, pid, address,
                    dir.resolve("scheduler.log"));
            long t0 = System.nanoTime();
            double cpu0 = cpuSeconds(pid);
            Process python = null;
            try (FakeFleet fleet = FakeFleet.start(address, workers, 1, generation, loopThreads, false);
                 JavaClient client = JavaClient.connect(address)) {
                if (pyClient) {
                    python = new ProcessBuilder("/usr/bin/python3", "-c", "import sys, time\n"
                            + "from distributed import Client\n"
                            + "c = Client(sys.argv[1], timeout=60)\n"
                            + "print('connected', flush=True)\n"
                            + "time.sleep(100000)\n", address).redirectErrorStream(true)
                            .redirectOutput(dir.resolve("client.log").toFile()).start();
                }
                System.out.printf("%d fake %s workers registered in %.2f s, scheduler CPU %.2f s%n", fleet.size(),
                        generation.referenceVersion(), (System.nanoTime() - t0) / 1e9, cpuSeconds(pid) - cpu0);
                // heartbeats settle at the interval the scheduler gives for this many workers
                Thread.sleep(15_000);
                idle(pid, fleet, idleSeconds, "idle before the graph");
                if (tasks > 0) {
                    run(client, fleet, pid, tasks);
                    Thread.sleep(15_000);
                    idle(pid, fleet, idleSeconds, "idle after the graph");
                }
            } finally {
                if (python != null) {
                    python.destroy();
                    python.waitFor();
                }
            }
        } finally {
            scheduler.destroy();
            scheduler.waitFor();
        }
    }

    private static void idle(long pid, FakeFleet fleet, int seconds, String what) throws Exception {
        double c0 = cpuSeconds(pid);
        long h0 = fleet.heartbeats();
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        double wall = (System.nanoTime() - t0) / 1e9;
        double cpu = cpuSeconds(pid) - c0;
        System.out.printf(Locale.ROOT, "%s: scheduler CPU %.2f s over %.1f s = %.2f%% of a core; %d heartbeats "
                        + "(%.1f/s); load average %s%n", what, cpu, wall, 100 * cpu / wall, fleet.heartbeats() - h0,
                (fleet.heartbeats() - h0) / wall, loadAverage());
    }

    private static void run(JavaClient client, FakeFleet fleet, long pid, int n) throws Exception {
        long c0 = fleet.computed();
        double cpu0 = cpuSeconds(pid);
        double own0 = cpuSeconds(ProcessHandle.current().pid());
        long t0 = System.nanoTime();
        List<JavaClient.Task> outputs = new ArrayList<>(n);
        for (long i = 0; i < n; i++) {
            outputs.add(client.task("cloudviper.tasks.noop", i));
        }
        long built = System.nanoTime();
        client.persist(outputs);
        long t1 = System.nanoTime();
        double cpu = cpuSeconds(pid) - cpu0;
        double own = cpuSeconds(ProcessHandle.current().pid()) - own0;
        double s = (t1 - t0) / 1e9;
        System.out.printf(Locale.ROOT, "graph: %,d tasks in %.2f s (built in %.2f s) = %,.0f tasks/s; %,d "
                        + "compute-tasks answered; scheduler CPU %.2f s = %.1f us per task; load generator and client "
                        + "CPU %.2f s; load average %s%n", n, s, (built - t0) / 1e9, n / s, fleet.computed() - c0, cpu,
                cpu * 1e6 / n, own, loadAverage());
        client.release(outputs);
    }

    private static Process startScheduler(String kind, String jar, Path schedulerFile, File log) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (kind.equals("cloudviper")) {
            cmd.addAll(List.of("java", "-jar", jar));
        } else if (kind.equals("dask")) {
            cmd.addAll(List.of("/usr/bin/python3", "-m", "distributed.cli.dask_scheduler"));
        } else {
            throw new IllegalArgumentException("scheduler: " + kind + " (expected: cloudviper or dask)");
        }
        cmd.addAll(List.of("--host", "127.0.0.1", "--port", "0", "--scheduler-file", schedulerFile.toString()));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
    }

    private static String waitForAddress(Path schedulerFile, Process p) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the scheduler exited with " + p.exitValue());
            }
            if (Files.exists(schedulerFile)) {
                String s = Files.readString(schedulerFile);
                int i = s.indexOf("\"address\"");
                if (i >= 0) {
                    int a = s.indexOf('"', s.indexOf(':', i) + 1);
                    return s.substring(a + 1, s.indexOf('"', a + 1));
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no scheduler file after 60 s");
    }

    /** utime + stime of process {@code pid}, in seconds (/proc/PID/stat fields 14 and 15). */
    static double cpuSeconds(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / (double) TICKS_PER_SECOND;
    }

    static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }
}
