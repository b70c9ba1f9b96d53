package org.cloudviper.scheduler.state;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Read-only answers computed from a {@link SchedulerState}: the RPC replies (who_has, has_what,
 * ncores, get_nbytes, get_story), the counts the dashboard, metrics and scaler read, and a key's
 * status or error for the coordination primitives. Changes nothing; like the state, used on the
 * state's own thread only ({@link #summary} makes the copy other threads may read).
 */
public final class StateQueries {
    private final TaskTable tasks;
    private final Workers workers;
    private final Clients clients;
    private final Transitions transitions;
    private final TransitionLog log;

    StateQueries(TaskTable tasks, Workers workers, Clients clients, Transitions transitions, TransitionLog log) {
        this.tasks = tasks;
        this.workers = workers;
        this.clients = clients;
        this.transitions = transitions;
        this.log = log;
    }


    /**
     * Scheduler.story / the get_story RPC: the remembered transitions (the last
     * {@code transitionLogLength}) of the given keys, and those caused by the given stimulus ids,
     * oldest first. Timestamps are the latest time an event brought in (see the class comment).
     */
    public List<StoryEntry> story(Collection<?> keysOrStimuli) {
        return log.story(keysOrStimuli);
    }

    /** who_has: key -> addresses; {@code keys == null} means every key in memory. */
    public Map<Object, List<String>> whoHas(Collection<?> keys) {
        Map<Object, List<String>> r = new LinkedHashMap<>();
        if (keys == null) {
            for (TaskState ts : tasks.values()) {
                if (ts.status == TaskState.Status.MEMORY || ts.status == TaskState.Status.ERRED) {
                    r.put(ts.key, ts.holderAddresses());
                }
            }
        } else {
            for (Object k : keys) {
                TaskState ts = tasks.get(k);
                r.put(k, ts == null ? List.of() : ts.holderAddresses());
            }
        }
        return r;
    }

    /** Scheduler.get_nbytes: the size of each key in memory (all such keys when {@code keys} is null). */
    public Map<Object, Long> nbytes(Collection<?> keys) {
        Map<Object, Long> r = new LinkedHashMap<>();
        if (keys == null) {
            for (TaskState ts : tasks.values()) {
                if (ts.status == TaskState.Status.MEMORY && ts.nbytes >= 0) {
                    r.put(ts.key, ts.nbytes);
                }
            }
        } else {
            for (Object k : keys) {
                TaskState ts = tasks.get(k);
                if (ts != null && ts.status == TaskState.Status.MEMORY && ts.nbytes >= 0) {
                    r.put(k, ts.nbytes);
                }
            }
        }
        return r;
    }

    /** has_what: address -> keys; {@code addresses == null} means all. */
    public Map<String, List<Object>> hasWhat(Collection<?> addresses) {
        return workers.hasWhat(addresses);
    }

    /** ncores: address -> threads; {@code runningOnly} for ncores_running. */
    public Map<String, Long> ncores(Collection<?> addresses, boolean runningOnly) {
        return workers.ncores(addresses, runningOnly);
    }

    /**
     * Where scatter puts each of {@code count} values: running workers (optionally only those named),
     * round robin weighted by threads, as distributed.utils_comm.scatter_to_workers does. Empty if
     * no worker can take data.
     */
    public List<String> scatterTargets(int count, Collection<?> allowed) {
        return workers.scatterTargets(count, allowed);
    }

    public boolean hasWorker(String address) {
        return workers.contains(address);
    }

    public int workerCount() {
        return workers.size();
    }

    public List<String> workerAddresses() {
        return workers.addresses();
    }

    public int taskCount() {
        return tasks.size();
    }

    public int clientCount() {
        return clients.count();
    }

    /** Dask's name for the key's state ("memory", "processing", ...), or null if forgotten. */
    public String taskStatus(Object key) {
        TaskState ts = tasks.get(key);
        return ts == null ? null : ts.status.daskName;
    }

    /**
     * The exception and traceback an erred key holds (what its clients got with task-erred), or
     * two nulls: Variables and Queues hand them out with an erred future.
     */
    public Object[] taskError(Object key) {
        TaskState ts = tasks.get(key);
        return ts == null || ts.status != TaskState.Status.ERRED ? new Object[2]
                : new Object[]{ts.exception, ts.traceback};
    }

    /** Tasks forgotten since the state was made (Dask's {@code dask_scheduler_tasks_forgotten}). */
    public long forgottenTotal() {
        return transitions.forgotten();
    }

    /**
     * Per task prefix, how often a worker died while running one of its tasks (Dask's
     * {@code dask_scheduler_tasks_suspicious{task_prefix_name}}); a read-only view.
     */
    public Map<String, Long> suspiciousByPrefix() {
        return transitions.suspiciousByPrefix();
    }

    /** Number of state transitions so far (for benchmarks). */
    public long transitions() {
        return transitions.count();
    }

    /**
     * A copy of the workers and the task counts for readers off the state's thread (dashboard, metrics,
     * scaler); with {@code groups} also the counts per task prefix. Walks every task: O(tasks).
     */
    public ClusterSummary summary(boolean groups) {
        return Summaries.of(workers.all(), tasks.values(), clients.count(), transitions.count(), groups);
    }

    /** Tasks in each state (for logs and tests). */
    public Map<String, Integer> statusCounts() {
        Map<String, Integer> r = new TreeMap<>();
        for (TaskState ts : tasks.values()) {
            r.merge(ts.status.daskName, 1, Integer::sum);
        }
        return r;
    }
}
