package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.RunSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One key's state in the scheduler. Fields are package-private; {@link #status} changes only in
 * {@link Transitions#transition}, and the state's classes keep the counters below consistent:
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
    /**
     * The run spec: a {@link RunSpec}, or the value of its {@code runSpec} alone when that is all it
     * holds (every task of a 2024 client; a record fewer per task), or null for data without one.
     */
    Object spec;
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
    /** Never modified in place (arrays may be shared, see {@link WorkerState#alone}): replaced on change. */
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
    /**
     * The task's result is an actor (update-graph's {@code actors}): it lives on its worker, which
     * answers calls to it; it is placed as a restricted task is, never queued (scheduler.py).
     */
    boolean actor;

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
            dependents = Arrays.copyOf(dependents, Math.max(2, dependentCount * 2));
        }
        dependents[dependentCount++] = d;
        liveDependents++;
    }

    /** Keeps the error (retaining sub-objects: each erred task holds its own references). */
    void setError(Object exception, Object traceback, TaskState blame) {
        this.exception = retain(exception);
        this.traceback = retain(traceback);
        this.exceptionBlame = blame;
    }

    void clearError() {
        release(exception);
        release(traceback);
        exception = null;
        traceback = null;
        exceptionBlame = null;
    }

    /** Lets go of the run spec (a forgotten task), releasing its sub-objects. */
    void dropSpec() {
        if (spec instanceof RunSpec s) {
            release(s.function());
            release(s.args());
            release(s.kwargs());
            release(s.runSpec());
        } else {
            release(spec);
        }
        spec = null;
    }

    /** The run spec as compute-task carries it. */
    RunSpec runSpec() {
        return spec instanceof RunSpec s ? s : spec == null ? null : RunSpec.of(spec);
    }

    static Object retain(Object o) {
        if (o instanceof SubObject s) {
            s.retain();
        }
        return o;
    }

    static void release(Object o) {
        if (o instanceof SubObject s && s.refCnt() > 0) {
            s.release();
        }
    }

    /** Whether {@code ws} holds a replica. */
    boolean heldBy(WorkerState ws) {
        for (WorkerState w : whoHas) {
            if (w == ws) {
                return true;
            }
        }
        return false;
    }

    void addHolder(WorkerState ws) {
        if (whoHas.length == 0) {
            whoHas = ws.alone;
            return;
        }
        WorkerState[] w = Arrays.copyOf(whoHas, whoHas.length + 1);
        w[w.length - 1] = ws;
        whoHas = w;
    }

    void removeHolder(WorkerState ws) {
        int i = Arrays.asList(whoHas).indexOf(ws);
        if (i < 0) {
            return;
        }
        if (whoHas.length == 1) {
            whoHas = NOWHERE;
            return;
        }
        if (whoHas.length == 2) {
            whoHas = whoHas[1 - i].alone;
            return;
        }
        WorkerState[] r = new WorkerState[whoHas.length - 1];
        System.arraycopy(whoHas, 0, r, 0, i);
        System.arraycopy(whoHas, i + 1, r, i, whoHas.length - i - 1);
        whoHas = r;
    }

    /** The addresses of the workers that hold a replica (who_has). */
    List<String> holderAddresses() {
        if (whoHas.length == 1) {
            return whoHas[0].addressList;
        }
        List<String> r = new ArrayList<>(whoHas.length);
        for (WorkerState w : whoHas) {
            r.add(w.address);
        }
        return r;
    }

    boolean hasRestrictions() {
        return workerRestrictions != null || resourceRestrictions != null;
    }

    boolean wanted() {
        return whoWants != null;
    }

    /** True while this task still needs its dependencies' data. */
    boolean needsInputs() {
        return status.needsInputs;
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

    /**
     * Dask's task states (distributed/scheduler.py TaskStateState). At most 8: a move is one bit of
     * a long in {@link Transitions}' table, numbered {@code start * 8 + finish}.
     */
    enum Status {
        RELEASED("released", false), WAITING("waiting", true), QUEUED("queued", true),
        NO_WORKER("no-worker", true), PROCESSING("processing", true), MEMORY("memory", false),
        ERRED("erred", false), FORGOTTEN("forgotten", false);

        private static final Status[] VALUES = values();

        final String daskName;
        /** The task still needs its dependencies' data in this state: it counts in their {@code waiters}. */
        final boolean needsInputs;

        Status(String daskName, boolean needsInputs) {
            this.daskName = daskName;
            this.needsInputs = needsInputs;
        }

        static Status of(int ordinal) {
            return VALUES[ordinal];
        }
    }
}
