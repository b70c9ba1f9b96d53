package org.cloudviper.bench;

import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.scheduler.state.GraphUpdate;
import org.cloudviper.scheduler.state.Outbox;
import org.cloudviper.scheduler.state.SchedulerState;
import org.cloudviper.scheduler.state.WorkerRegistration;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * Simulated workers that finish every task the instant it is assigned: the outbox queues each
 * compute-task and the driver feeds task-finished back until nothing is left, then the client
 * releases its keys. Measures the state machine alone (no codec, no sockets).
 */
final class InstantWorkers implements Outbox {
    private static final byte[] INT_TYPE = org.cloudviper.protocol.pickle.Pickles.global("builtins", "int");

    private final ArrayDeque<Object[]> assigned = new ArrayDeque<>();

    ArrayDeque<Object[]> assignedForTest() {
        return assigned;
    }
    final SchedulerState state;
    long inMemoryMessages;

    InstantWorkers(int workers, int nthreads, double saturation) {
        state = new SchedulerState(this, saturation, 3);
        for (int i = 0; i < workers; i++) {
            state.onAddWorker(new WorkerRegistration("tcp://10.0.0." + i + ":1234", "w" + i, nthreads, 1L << 34,
                    Map.of(), 0));
        }
        state.onAddClient("client");
    }

    @Override
    public void toWorker(String address, SchedulerToWorker message) {
        if (message instanceof SchedulerToWorker.ComputeTask c) {
            assigned.add(new Object[]{address, c.key()});
        }
    }

    @Override
    public void toClient(String client, SchedulerToClient message) {
        if (message instanceof SchedulerToClient.KeyInMemory) {
            inMemoryMessages++;
        }
    }

    /** Runs {@code graph} to completion and releases its wanted keys; returns tasks completed. */
    long run(GraphUpdate graph) {
        return run(graph, null);
    }

    /**
     * {@link #run(GraphUpdate)}, writing the nanoseconds spent in graph ingest, completions and
     * release to {@code phases[0..2]} when given.
     */
    long run(GraphUpdate graph, long[] phases) {
        long t0 = System.nanoTime();
        state.onUpdateGraph(graph);
        long t1 = System.nanoTime();
        long done = 0;
        Object[] a;
        while ((a = assigned.poll()) != null) {
            state.onTaskFinished((String) a[0], a[1], 28, INT_TYPE, "bench");
            done++;
        }
        long t2 = System.nanoTime();
        state.onClientReleasesKeys("client", graph.wanted(), "bench");
        if (phases != null) {
            phases[0] = t1 - t0;
            phases[1] = t2 - t1;
            phases[2] = System.nanoTime() - t2;
        }
        if (state.queries().taskCount() != 0) {
            throw new IllegalStateException("tasks left after release: " + state.queries().statusCounts());
        }
        return done;
    }

    static List<Object> keys(GraphUpdate g) {
        return g.wanted();
    }
}
