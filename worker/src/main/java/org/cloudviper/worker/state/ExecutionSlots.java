package org.cloudviper.worker.state;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which ready task starts next, and how many may be executing: the ready and constrained queues in
 * priority order, the executing set, the resources restricted tasks draw from, and the number of
 * execution slots, which grows past one per thread while tasks are short (distributed's
 * {@code _ensure_computing} with prefetching added; see {@link #executionSlots()}).
 */
final class ExecutionSlots {
    /** How much compute a thread may have queued behind its running task when tasks are short. */
    static final double PREFETCH_SECONDS = 0.001;
    /** The most tasks per thread that may be executing (running or queued in the pool) at once. */
    static final int MAX_PREFETCH_PER_THREAD = 16;
    /** Weight of the newest task in {@link #meanComputeSeconds}. */
    private static final double MEAN_WEIGHT = 0.1;

    private final int nthreads;
    final TreeSet<TaskState> ready = new TreeSet<>(TaskState.BY_PRIORITY);
    final TreeSet<TaskState> constrained = new TreeSet<>(TaskState.BY_PRIORITY);
    /** Tasks handed to the runtime to execute (running or queued in its pool), cancelled ones included. */
    final Set<TaskState> executing = new LinkedHashSet<>();
    final Map<String, Double> totalResources;
    final Map<String, Double> availableResources;
    /** Recent compute time per task, seconds (NaN before the first); sets {@link #executionSlots()}. */
    private double meanComputeSeconds = Double.NaN;
    /** Dask's WorkerState.running: false while the worker is paused or closing; nothing starts then. */
    private boolean running = true;

    ExecutionSlots(int nthreads, Map<String, Double> resources) {
        this.nthreads = nthreads;
        this.totalResources = new LinkedHashMap<>(resources);
        this.availableResources = new LinkedHashMap<>(resources);
    }

    boolean running() {
        return running;
    }

    void running(boolean on) {
        running = on;
    }

    int nthreads() {
        return nthreads;
    }

    /** A task reported back after {@code start..stop} seconds of compute. */
    void noteComputeTime(double start, double stop) {
        double took = Math.max(0, stop - start);
        meanComputeSeconds = Double.isNaN(meanComputeSeconds) ? took
                : meanComputeSeconds + MEAN_WEIGHT * (took - meanComputeSeconds);
    }

    /**
     * Tasks that may be executing at once. Dask starts a task only when a thread is free, so each
     * task costs two thread hand-offs (loop to pool, pool back to loop). When the recent tasks took
     * well under {@link #PREFETCH_SECONDS} each, up to that much compute per thread is handed to the
     * pool ahead, in priority order, so a pool thread goes from one task to the next without waiting
     * for the loop; a long task after short ones delays at most that much queued work.
     */
    int executionSlots() {
        double mean = meanComputeSeconds;
        if (!(mean < PREFETCH_SECONDS)) {
            return nthreads;
        }
        double perThread = Math.min(MAX_PREFETCH_PER_THREAD, Math.ceil(PREFETCH_SECONDS / Math.max(mean, 1e-7)));
        return nthreads * (int) perThread;
    }

    /**
     * Dask's {@code _ensure_computing}: while the worker runs and a slot is free, the best ready task
     * whose resources are available is recommended for executing, and takes the slot and resources.
     */
    void fill(Recs recs) {
        if (!running) {
            return;
        }
        int slots = executionSlots();
        while (executing.size() < slots) {
            TaskState ts = nextReadyTask();
            if (ts == null) {
                break;
            }
            recs.put(ts, Rec.of(TaskStatus.EXECUTING));
            acquireResources(ts);
            executing.add(ts);
        }
    }

    private TaskState nextReadyTask() {
        if (!ready.isEmpty() && !constrained.isEmpty()) {
            TaskState r = ready.first();
            TaskState c = constrained.first();
            if (TaskState.BY_PRIORITY.compare(c, r) < 0 && resourcesSatisfied(c)) {
                return constrained.pollFirst();
            }
            return ready.pollFirst();
        } else if (!ready.isEmpty()) {
            return ready.pollFirst();
        } else if (!constrained.isEmpty() && resourcesSatisfied(constrained.first())) {
            return constrained.pollFirst();
        }
        return null;
    }

    /** An execution of {@code ts} reported back: its slot and resources are free again. */
    void finished(TaskState ts) {
        if (executing.remove(ts)) {
            ts.resourceRestrictions.forEach((r, n) -> availableResources.merge(r, n, Double::sum));
        }
    }

    /**
     * Takes {@code ts} out of the ready queues while its priority (their order) changes; returns
     * the queue it was in, for {@link #requeue}, or null.
     */
    TreeSet<TaskState> unqueue(TaskState ts) {
        boolean inReady = ready.remove(ts);
        boolean inConstrained = constrained.remove(ts);
        return inReady ? ready : inConstrained ? constrained : null;
    }

    static void requeue(TreeSet<TaskState> queue, TaskState ts) {
        if (queue != null) {
            queue.add(ts);
        }
    }

    /** Forgets {@code ts} in every queue it may be in. */
    void remove(TaskState ts) {
        // The ordered sets hold a task iff it is in their state (Invariants checks it): a removal
        // there compares priorities down the tree, so it is skipped when it cannot find anything.
        if (ts.state == TaskStatus.READY) {
            ready.remove(ts);
        } else if (ts.state == TaskStatus.CONSTRAINED) {
            constrained.remove(ts);
        }
        executing.remove(ts);
    }

    private boolean resourcesSatisfied(TaskState ts) {
        for (Map.Entry<String, Double> r : ts.resourceRestrictions.entrySet()) {
            if (availableResources.getOrDefault(r.getKey(), 0.0) < r.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void acquireResources(TaskState ts) {
        ts.resourceRestrictions.forEach((r, n) -> availableResources.merge(r, -n, Double::sum));
    }
}
