package org.cloudviper.bench;

import org.cloudviper.embedded.JavaClient;
import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.worker.Worker;
import org.cloudviper.worker.WorkerConfig;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.List;

/**
 * End-to-end throughput of no-op Java tasks (issue #4): cloudviper's scheduler and two one-thread
 * Java workers in this JVM, over TCP, fed by the embedded {@link JavaClient} with one graph per
 * round. "map": N independent {@code cloudviper.tasks.noop(i)}, all outputs; "tree": N/2 leaves
 * reduced pairwise ({@code noop(a, b)}) to one root (N - 1 tasks), the root the only output.
 * A round is timed from building the graph until every output is in memory (key-in-memory at
 * the client), then the keys are released. The first round is a warm-up.
 *
 * The scheduler's worker-saturation (default 1.1, as Dask) is the fifth argument ({@code inf}: no
 * queuing in the scheduler).
 *
 * <pre>java -Xmx4g -XX:+UseParallelGC -Xmn3g -cp bench/target/benchmarks.jar org.cloudviper.bench.EmbeddedThroughputMain map 100000 10 2 1.1 1</pre>
 * (the throughput collector with a large young generation: each round allocates ~2 GB, and G1
 * spends seconds copying the live graph; see docs/benchmarks.md section 12)
 *
 * <p>Arguments: shape (map|tree), tasks, rounds, workers, worker-saturation, threads per worker.
 */
public final class EmbeddedThroughputMain {
    private EmbeddedThroughputMain() {
    }

    public static void main(String[] args) throws Exception {
        String shape = args.length > 0 ? args[0] : "map";
        int n = args.length > 1 ? Integer.parseInt(args[1].replace("_", "")) : 100_000;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        int workers = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        double saturation = args.length > 4 ? (args[4].equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(args[4])) : 1.1;
        int threads = args.length > 5 ? Integer.parseInt(args[5]) : 1;
        List<Worker> ws = new ArrayList<>();
        try (Scheduler scheduler = Scheduler.start(SchedulerConfig.defaults().withPort(0)
                .withWorkerSaturation(saturation))) {
            for (int i = 0; i < workers; i++) {
                ws.add(Worker.start(WorkerConfig.defaults(scheduler.address()).withNthreads(threads).withName("java-" + i)));
            }
            run(JavaClient.connect(scheduler.address()), shape, n, rounds, workers + "x" + threads, saturation);
        } finally {
            ws.forEach(Worker::close);
        }
    }

    private static void run(JavaClient c, String shape, int n, int rounds, String workers, double saturation)
            throws Exception {
        Map<String, Long> cpu0 = Map.of();
        Map<String, Long> alloc0 = Map.of();
        long measured = 0;
        try (JavaClient client = c) {
            for (int r = 0; r < rounds; r++) {
                System.gc();
                long t0 = System.nanoTime();
                List<JavaClient.Task> outputs = shape.equals("map") ? map(client, n) : tree(client, n);
                long built = System.nanoTime();
                client.persist(outputs);
                long t1 = System.nanoTime();
                int tasks = shape.equals("map") ? n : 2 * (n / 2) - 1;
                client.release(outputs);
                double s = (t1 - t0) / 1e9;
                System.out.printf("%s workers=%s saturation=%s round %d%s: %,d tasks in %.3f s (graph built in %.3f s) = %,.0f tasks/s%n",
                        shape, workers, saturation, r, r == 0 ? " (warm-up)" : "", tasks, s, (built - t0) / 1e9, tasks / s);
                Thread.sleep(500); // let releases drain before the next round
                if (r == 0) {
                    cpu0 = threadCpu();
                    alloc0 = threadAlloc();
                } else {
                    measured += tasks;
                }
            }
            Map<String, Long> cpu1 = threadCpu();
            Map<String, Long> alloc1 = threadAlloc();
            System.out.printf("CPU and heap allocation per task after warm-up (%,d tasks), by thread:%n", measured);
            double cpuSum = 0;
            double allocSum = 0;
            for (Map.Entry<String, Long> e : cpu1.entrySet()) {
                long d = e.getValue() - cpu0.getOrDefault(e.getKey(), 0L);
                long a = alloc1.getOrDefault(e.getKey(), 0L) - alloc0.getOrDefault(e.getKey(), 0L);
                if (d > 1_000_000) {
                    System.out.printf("  %-45s %8.2f us %9.0f B%n", e.getKey(), d / 1e3 / measured, (double) a / measured);
                    cpuSum += d / 1e3 / measured;
                    allocSum += (double) a / measured;
                }
            }
            System.out.printf("  %-45s %8.2f us %9.0f B%n", "sum of the threads above", cpuSum, allocSum);
            System.out.printf("  GC: %d collections, %.0f ms in all rounds%n", gcCount(), gcMillis());
        }
    }

    /** Heap bytes allocated per live thread (name#id), from HotSpot's per-thread counters. */
    static Map<String, Long> threadAlloc() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> r = new TreeMap<>();
        if (mx instanceof com.sun.management.ThreadMXBean hs) {
            for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
                if (t != null) {
                    r.put(t.getThreadName() + "#" + t.getThreadId(), hs.getThreadAllocatedBytes(t.getThreadId()));
                }
            }
        }
        return r;
    }

    static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionCount())).sum();
    }

    static double gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(b -> Math.max(0, b.getCollectionTime())).sum();
    }

    /** CPU nanoseconds per live thread (name#id), from the JVM's thread CPU clocks. */
    static Map<String, Long> threadCpu() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, Long> r = new TreeMap<>();
        for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t != null) {
                r.put(t.getThreadName() + "#" + t.getThreadId(), mx.getThreadCpuTime(t.getThreadId()));
            }
        }
        return r;
    }

    static List<JavaClient.Task> map(JavaClient client, int n) {
        List<JavaClient.Task> out = new ArrayList<>(n);
        for (long i = 0; i < n; i++) {
            out.add(client.task("cloudviper.tasks.noop", i));
        }
        return out;
    }

    static List<JavaClient.Task> tree(JavaClient client, int n) {
        List<JavaClient.Task> level = new ArrayList<>(n / 2);
        for (long i = 0; i < n / 2; i++) {
            level.add(client.task("cloudviper.tasks.noop", i));
        }
        while (level.size() > 1) {
            List<JavaClient.Task> next = new ArrayList<>(level.size() / 2 + 1);
            for (int i = 0; i + 1 < level.size(); i += 2) {
                next.add(client.task("cloudviper.tasks.noop", level.get(i), level.get(i + 1)));
            }
            if (level.size() % 2 == 1) {
                next.add(level.get(level.size() - 1));
            }
            level = next;
        }
        return level;
    }
}
