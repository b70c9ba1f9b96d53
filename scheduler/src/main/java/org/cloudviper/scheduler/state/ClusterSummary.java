package org.cloudviper.scheduler.state;

import java.util.List;
import java.util.Map;

/**
 * A read-only copy of what the state knows about its workers and tasks, taken on the state's thread
 * ({@link SchedulerState#summary}) and then free to travel: the dashboard, the Prometheus metrics, the
 * {@code /api/v1} routes and a scaler read it, never the live state.
 *
 * @param workers     every registered worker, in registration order
 * @param taskCounts  tasks per state, Dask's state names ("memory", "processing", "no-worker", ...);
 *                    states without tasks are absent
 * @param groups      per task prefix (Dask's {@code key_split} of the key: a graph's layer, such as
 *                    "inc" or "sum"), tasks per state; empty unless asked for
 * @param clients     connected clients
 * @param transitions task state transitions since the state was made (changes whenever anything moves)
 */
public record ClusterSummary(List<Worker> workers, Map<String, Integer> taskCounts,
                             Map<String, Map<String, Integer>> groups, int clients, long transitions) {

    /** The state's status of a worker, Dask's names. */
    public enum WorkerStatus {
        RUNNING("running"), PAUSED("paused"), CLOSING_GRACEFULLY("closing_gracefully");

        public final String daskName;

        WorkerStatus(String daskName) {
            this.daskName = daskName;
        }
    }

    /**
     * One worker.
     *
     * @param nbytes             bytes of the results it holds, as the workers reported them
     * @param processing         tasks assigned to it and not yet finished
     * @param held               results it holds
     * @param meanComputeSeconds moving average of its tasks' compute times; NaN before its first task
     */
    public record Worker(String address, String name, int nthreads, long memoryLimit, long nbytes, int processing,
                         int held, WorkerStatus status, double meanComputeSeconds) {

        /** Running and given nothing to do: what a scaler may retire without losing work in flight. */
        public boolean idle() {
            return status == WorkerStatus.RUNNING && processing == 0;
        }
    }

    public int tasks(String state) {
        return taskCounts.getOrDefault(state, 0);
    }

    public int taskTotal() {
        int n = 0;
        for (int c : taskCounts.values()) {
            n += c;
        }
        return n;
    }

    public int threads() {
        int n = 0;
        for (Worker w : workers) {
            n += w.nthreads();
        }
        return n;
    }
}
