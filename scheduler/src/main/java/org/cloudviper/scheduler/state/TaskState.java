package org.cloudviper.scheduler.state;

import java.util.List;
import java.util.Map;

/**
 * One key's state in the scheduler. Fields are package-private and changed only by
 * {@link SchedulerState}, which keeps the counters below consistent:
 * <ul>
 *   <li>{@code waitingOn}: dependencies not in memory, while this task waits;</li>
 *   <li>{@code waiters}: dependents that are waiting, queued, processing or without worker, i.e.
 *       still need this task's data (the data is freed when this and {@code whoWants} reach zero);</li>
 *   <li>{@code liveDependents}: dependents not yet forgotten (the task is forgotten at zero, when no
 *       client wants it), so that lost results can be recomputed from their inputs.</li>
 * </ul>
 */
final class TaskState {
    static final TaskState[] NONE = new TaskState[0];
    static final WorkerState[] NOWHERE = new WorkerState[0];

    final Object key;
    /** {@link TaskTable#hash} of the key, kept so table probes and resizes need not rehash keys. */
    final int keyHash;
    /** Sequential id within one {@link SchedulerState} (wraps after 2^32 tasks): the hash of {@link TaskSet}s. */
    final int id;
    Status status = Status.RELEASED;
    RunSpec spec;
    TaskState[] dependencies = NONE;
    TaskState[] dependents = NONE;
    int dependentCount;
    int liveDependents;
    int waitingOn;
    int waiters;
    /** A {@link ClientState}, or a {@code java.util.Set<ClientState>} when more than one wants it. */
    Object whoWants;

    WorkerState processingOn;
    boolean longRunning;
    WorkerState[] whoHas = NOWHERE;
    long nbytes = -1;
    byte[] type;

    // Priority: (-user priority, generation, order); lower sorts first.
    long negUserPriority;
    long generation;
    long order;
    /** Whether this task has an entry in the scheduler's queue heap (entries are removed lazily). */
    boolean inQueue;

    int retries;
    int suspicious;
    long runId;

    /** Restrictions: names/addresses of allowed workers (null = any), required resources (null = none). */
    List<String> workerRestrictions;
    boolean looseRestrictions;
    Map<String, Double> resourceRestrictions;
    Map<String, Object> annotations = Map.of();

    /** For erred tasks: the error as sent to clients (each erred task holds its own references). */
    Object exception;
    Object traceback;
    TaskState exceptionBlame;

    TaskState(Object key, int id) {
        this.key = key;
        this.keyHash = TaskTable.hash(key);
        this.id = id;
    }

    void addDependent(TaskState d) {
        if (dependentCount == dependents.length) {
            dependents = java.util.Arrays.copyOf(dependents, Math.max(2, dependentCount * 2));
        }
        dependents[dependentCount++] = d;
        liveDependents++;
    }

    boolean hasRestrictions() {
        return workerRestrictions != null || resourceRestrictions != null;
    }

    boolean wanted() {
        return whoWants != null;
    }

    /** True while this task still needs its dependencies' data. */
    boolean needsInputs() {
        return status == Status.WAITING || status == Status.QUEUED || status == Status.PROCESSING
                || status == Status.NO_WORKER;
    }

    static int comparePriority(TaskState a, TaskState b) {
        int c = Long.compare(a.negUserPriority, b.negUserPriority);
        if (c != 0) {
            return c;
        }
        c = Long.compare(a.generation, b.generation);
        return c != 0 ? c : Long.compare(a.order, b.order);
    }

    /**
     * Identity semantics ({@code equals} is Object's) with the dense id as hash: hashing a task in a
     * HashMap or HashSet then needs no identity hash code, which the JVM computes and stores in the
     * object header on first use (a slow path per task when a million tasks pass through).
     */
    @Override
    public int hashCode() {
        return id;
    }

    @Override
    public String toString() {
        return "<Task " + key + " " + status + ">";
    }

    enum Status {
        RELEASED("released"), WAITING("waiting"), QUEUED("queued"), NO_WORKER("no-worker"),
        PROCESSING("processing"), MEMORY("memory"), ERRED("erred"), FORGOTTEN("forgotten");

        final String daskName;

        Status(String daskName) {
            this.daskName = daskName;
        }
    }
}
