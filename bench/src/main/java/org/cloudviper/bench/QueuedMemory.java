package org.cloudviper.bench;

import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.scheduler.state.GraphUpdate;
import org.cloudviper.scheduler.state.Outbox;
import org.cloudviper.scheduler.state.SchedulerState;
import org.cloudviper.scheduler.state.WorkerRegistration;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.util.Map;

/**
 * Retained heap of the scheduler state holding {@code N} queued map tasks: one client submits
 * {@code client.map(inc, range(N))} (keys {@code "inc-<32 hex>"}, a shared 476-byte function pickle,
 * 16-byte args per task) while one worker with one thread is registered, so all but
 * ceil(1 x 1.1) = 2 tasks stay queued on the scheduler. The figure is used heap after full GCs
 * minus the same before the state existed; the GraphUpdate itself is dropped before measuring,
 * since the server lets go of it once the event is handled.
 *
 * <pre>java -Xmx2g -XX:+UseG1GC -cp bench/target/benchmarks.jar org.cloudviper.bench.QueuedMemory [N]</pre>
 */
public final class QueuedMemory {
    private QueuedMemory() {
    }

    /** Counts what the state sends; holds on to nothing. */
    private static final class CountingOutbox implements Outbox {
        long computeTasks;
        long other;

        @Override
        public void toWorker(String address, SchedulerToWorker message) {
            if (message instanceof SchedulerToWorker.ComputeTask) {
                computeTasks++;
            } else {
                other++;
            }
        }

        @Override
        public void toClient(String client, SchedulerToClient message) {
            other++;
        }
    }

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0].replace("_", "")) : 1_000_000;
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        Graphs.key("warm", 0); // load and initialise the classes the graph needs before the baseline
        long baseline = usedAfterGc(mem);

        CountingOutbox out = new CountingOutbox();
        SchedulerState state = new SchedulerState(out, 1.1, 3);
        state.onAddWorker(new WorkerRegistration("tcp://127.0.0.1:40000", "worker-0", 1, 1L << 34,
                Map.of(), 0));
        state.onAddClient("client-0");
        GraphUpdate graph = Graphs.map("client-0", n, "inc");
        long withGraph = usedAfterGc(mem);
        long t0 = System.nanoTime();
        state.onUpdateGraph(graph);
        long ingestNanos = System.nanoTime() - t0;
        graph = null; // the server drops the decoded message after the event
        long retained = usedAfterGc(mem) - baseline;

        Map<String, Integer> counts = state.queries().statusCounts();
        System.out.printf("tasks: %,d  states: %s  compute-task sent: %d%n", n, counts, out.computeTasks);
        System.out.printf("GraphUpdate input (state empty, for reference): %.1f MiB%n",
                (withGraph - baseline) / 1048576.0);
        System.out.printf("onUpdateGraph: %.2f s (%.0f tasks/s, one cold run)%n", ingestNanos / 1e9,
                n / (ingestNanos / 1e9));
        System.out.printf("retained heap of the state: %.1f MiB (%.0f bytes/task)%n", retained / 1048576.0,
                (double) retained / n);
        System.out.printf("retained heap MB (10^6 bytes): %.1f%n", retained / 1e6);
        Reference.reachabilityFence(state);
    }

    /** Used heap after repeated full collections, once it stops shrinking. */
    static long usedAfterGc(MemoryMXBean mem) {
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            long used = mem.getHeapMemoryUsage().getUsed();
            if (Math.abs(last - used) < (1 << 16)) {
                return used;
            }
            last = used;
        }
        return last;
    }
}
