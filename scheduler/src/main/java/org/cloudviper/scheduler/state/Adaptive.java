package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Dask's {@code Scheduler.adaptive_target} (distributed/scheduler.py, 2024.12.1): how many workers the
 * current work wants so that it finishes within {@code targetSeconds}. Queued and unrunnable tasks
 * count at the average task duration; tasks processing on a worker at that worker's average. A few long
 * tasks do not ask for more workers than there are tasks; the CPU estimate is divided by the average
 * threads per worker; memory above 60 % of the workers' limits asks for twice the workers. Below the
 * current count, the target keeps every worker but those {@link #idleToClose} names (Dask:
 * {@code len(workers) - len(workers_to_close())}), so only idle workers are ever let go.
 *
 * <p>One difference: Dask averages task durations per task prefix; the state keeps a moving average per
 * worker, so a task's expected duration here is its worker's average, and for queued tasks the mean of
 * the workers' averages ({@link #UNKNOWN_TASK_SECONDS} before any task finished).
 */
public final class Adaptive {
    /** distributed.scheduler.unknown-task-duration. */
    public static final double UNKNOWN_TASK_SECONDS = 0.5;
    /** distributed.adaptive.target-duration. */
    public static final double DEFAULT_TARGET_SECONDS = 5;

    private Adaptive() {
    }

    public static int target(ClusterSummary s, double targetSeconds) {
        if (!(targetSeconds > 0)) {
            throw new IllegalArgumentException("target duration: " + targetSeconds + " (expected: > 0)");
        }
        double mean = meanTaskSeconds(s);
        double occupancy = 0;
        for (ClusterSummary.Worker w : s.workers()) {
            double d = Double.isNaN(w.meanComputeSeconds()) ? mean : w.meanComputeSeconds();
            occupancy += w.processing() * d;
        }
        long ready = (long) s.tasks("queued") + s.tasks("no-worker");
        double queuedOccupancy = ready * mean;
        long cpu = (long) Math.ceil((occupancy + queuedOccupancy) / targetSeconds);

        long tasksReady = ready;
        boolean broke = false;
        for (ClusterSummary.Worker w : s.workers()) {
            if (tasksReady > cpu) {
                broke = true;
                break;
            }
            tasksReady += w.processing();
        }
        if (!broke) {
            cpu = Math.min(tasksReady, cpu);
        }
        int n = s.workers().size();
        if (n > 0) {
            cpu = (long) Math.ceil((double) cpu / s.threads() * n);
        }
        if (ready > 0 && n == 0) {
            cpu = Math.max(1, cpu);
        }
        long limit = 0;
        long used = 0;
        for (ClusterSummary.Worker w : s.workers()) {
            limit += w.memoryLimit();
            used += w.nbytes();
        }
        long memory = limit > 0 && used > 0.6 * limit ? 2L * n : 0;
        long target = Math.max(memory, cpu);
        if (target >= n) {
            return (int) Math.min(Integer.MAX_VALUE, target);
        }
        return n - idleToClose(s).size();
    }

    /**
     * Dask's {@code workers_to_close()} without arguments (memory_ratio 2): idle workers, those with the
     * least data first, as long as the workers left keep at least twice the memory all results take.
     * Never a worker that runs anything (nor a paused or retiring one).
     */
    public static List<String> idleToClose(ClusterSummary s) {
        long limit = 0;
        long total = 0;
        List<ClusterSummary.Worker> idle = new ArrayList<>();
        for (ClusterSummary.Worker w : s.workers()) {
            limit += w.memoryLimit();
            total += w.nbytes();
            if (w.idle()) {
                idle.add(w);
            }
        }
        idle.sort(Comparator.comparingLong(ClusterSummary.Worker::nbytes));
        List<String> r = new ArrayList<>();
        for (ClusterSummary.Worker w : idle) {
            limit -= w.memoryLimit();
            if (limit < 2 * total) {
                break;
            }
            r.add(w.address());
        }
        return r;
    }

    /** The mean of the workers' average task durations, or {@link #UNKNOWN_TASK_SECONDS}. */
    public static double meanTaskSeconds(ClusterSummary s) {
        double sum = 0;
        int known = 0;
        for (ClusterSummary.Worker w : s.workers()) {
            if (!Double.isNaN(w.meanComputeSeconds())) {
                sum += w.meanComputeSeconds();
                known++;
            }
        }
        return known == 0 ? UNKNOWN_TASK_SECONDS : sum / known;
    }
}
