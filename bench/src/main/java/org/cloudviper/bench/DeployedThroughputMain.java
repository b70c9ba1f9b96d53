package org.cloudviper.bench;

import org.cloudviper.embedded.JavaClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The client side of the whole-system benchmark ({@code bench/scripts/deployed.py}): the
 * {@link JavaClient} in its own JVM against a scheduler and workers that run in other processes, one
 * graph of no-op Java tasks per round ({@code map} or {@code tree}, as {@link EmbeddedThroughputMain}
 * builds them), timed from building the graph until every output is in memory, then released.
 * Every round prints one JSON line: tasks/s and, for each process named in {@code --pids}, the CPU it
 * used during the round, split into JIT compiler threads, collector threads and the rest
 * (from /proc/PID/task/TID/stat), and how long its threads waited for a core (run-queue wait, from
 * /proc/PID/task/TID/schedstat): on a machine other processes keep busy, the part of the round's
 * wall time lost to them.
 *
 * <pre>java -cp bench/target/benchmarks.jar org.cloudviper.bench.DeployedThroughputMain tcp://127.0.0.1:8786 map 20000 6 \
 *     scheduler=PID worker-0=PID worker-1=PID</pre>
 */
public final class DeployedThroughputMain {
    private static final long CLK_TCK = 100; // USER_HZ on Linux

    private DeployedThroughputMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: DeployedThroughputMain ADDRESS map|tree TASKS ROUNDS [NAME=PID ...]");
            System.exit(2);
        }
        String address = args[0];
        String shape = args[1];
        int n = Integer.parseInt(args[2].replace("_", ""));
        int rounds = Integer.parseInt(args[3]);
        Map<String, Long> pids = new LinkedHashMap<>();
        for (int i = 4; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            pids.put(kv[0], Long.parseLong(kv[1]));
        }
        pids.put("client", ProcessHandle.current().pid());
        try (JavaClient client = JavaClient.connect(address)) {
            for (int r = 0; r < rounds; r++) {
                System.gc();
                Map<String, long[]> cpu0 = cpu(pids);
                long t0 = System.nanoTime();
                List<JavaClient.Task> outputs = shape.equals("map") ? EmbeddedThroughputMain.map(client, n)
                        : EmbeddedThroughputMain.tree(client, n);
                client.persist(outputs);
                long t1 = System.nanoTime();
                Map<String, long[]> cpu1 = cpu(pids);
                int tasks = shape.equals("map") ? n : 2 * (n / 2) - 1;
                client.release(outputs);
                double s = (t1 - t0) / 1e9;
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                        "{\"shape\": \"%s\", \"round\": %d, \"tasks\": %d, \"wall_s\": %.4f, \"tasks_per_s\": %.0f",
                        shape, r, tasks, s, tasks / s));
                for (String name : pids.keySet()) {
                    long[] a = cpu0.get(name);
                    long[] b = cpu1.get(name);
                    if (a == null || b == null) {
                        continue;
                    }
                    line.append(String.format(Locale.ROOT,
                            ", \"%s\": {\"cpu_us_per_task\": %.1f, \"jit_s\": %.2f, \"gc_s\": %.2f, \"cpu_s\": %.2f,"
                                    + " \"runq_wait_s\": %.3f}",
                            name, (b[0] - a[0]) * 1e6 / CLK_TCK / tasks, (b[1] - a[1]) / (double) CLK_TCK,
                            (b[2] - a[2]) / (double) CLK_TCK, (b[0] - a[0]) / (double) CLK_TCK, (b[3] - a[3]) / 1e9));
                }
                System.out.println(line.append('}'));
                System.out.flush();
                Thread.sleep(500); // let releases drain before the next round
            }
        }
    }

    /**
     * Per process: {the process, JIT compiler threads, collector threads} in clock ticks, and the
     * nanoseconds its threads waited on a run queue (/proc/PID/task/TID/schedstat).
     */
    private static Map<String, long[]> cpu(Map<String, Long> pids) {
        Map<String, long[]> r = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : pids.entrySet()) {
            long[] t = new long[4];
            Path tasks = Path.of("/proc", e.getValue().toString(), "task");
            List<Path> threads = new ArrayList<>();
            try (var s = Files.list(tasks)) {
                s.forEach(threads::add);
            } catch (IOException x) {
                continue;
            }
            for (Path tid : threads) {
                String stat;
                try {
                    stat = Files.readString(tid.resolve("stat"));
                } catch (IOException x) {
                    continue; // the thread ended
                }
                try {
                    // run-queue wait: runnable but not running, because the cores were busy elsewhere
                    t[3] += Long.parseLong(Files.readString(tid.resolve("schedstat")).trim().split(" ")[1]);
                } catch (IOException | RuntimeException x) {
                    // the thread ended, or no schedstat in this kernel
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                if (name.contains("CompilerThre")) {
                    t[1] += ticks;
                } else if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.startsWith("VM Thread")) {
                    t[2] += ticks;
                }
            }
            try {
                // the whole process, threads that ended included
                String stat = Files.readString(Path.of("/proc", e.getValue().toString(), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                t[0] = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            } catch (IOException x) {
                continue;
            }
            r.put(e.getKey(), t);
        }
        return r;
    }
}
