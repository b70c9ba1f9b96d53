package org.cloudviper.worker.state;

import org.cloudviper.protocol.message.WorkerToScheduler;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The worker's one transition table and its handlers (distributed/worker_state_machine.py
 * {@code _TRANSITIONS_TABLE} and {@code _transition_*}): every task state change goes through
 * {@link #process}. A pair without a handler passes through "released" as in Dask, and an impossible
 * pair throws with the key's story. Handlers change the task and the indexes over tasks (through
 * the memory manager, the execution slots and the transfer planner), recommend further transitions
 * and emit instructions.
 */
final class Transitions {
    @FunctionalInterface
    private interface Handler {
        void apply(Transitions t, TaskState ts, Rec rec, Recs recs, List<Instruction> out, String sid);
    }

    /** Handlers by [from.ordinal()][to.ordinal()]; null where the pair goes through released. */
    private static final Handler[][] TABLE = new Handler[TaskStatus.values().length][TaskStatus.values().length];

    private static void on(TaskStatus from, TaskStatus to, Handler h) {
        TABLE[from.ordinal()][to.ordinal()] = h;
    }

    static {
        TaskStatus R = TaskStatus.RELEASED, W = TaskStatus.WAITING, RD = TaskStatus.READY,
                C = TaskStatus.CONSTRAINED, X = TaskStatus.EXECUTING, M = TaskStatus.MEMORY, E = TaskStatus.ERROR,
                F = TaskStatus.FETCH, FL = TaskStatus.FLIGHT, MI = TaskStatus.MISSING, CA = TaskStatus.CANCELLED,
                RS = TaskStatus.RESUMED, FG = TaskStatus.FORGOTTEN;
        on(CA, E, (t, ts, r, recs, out, sid) -> t.cancelledToReleased(ts, recs));
        on(CA, F, (t, ts, r, recs, out, sid) -> t.cancelledToFetch(ts, recs));
        on(CA, M, (t, ts, r, recs, out, sid) -> {
            t.dispose.accept(r.value()); // computed or fetched for nobody
            t.cancelledToReleased(ts, recs);
        });
        on(CA, MI, (t, ts, r, recs, out, sid) -> t.cancelledToReleased(ts, recs));
        on(CA, R, (t, ts, r, recs, out, sid) -> t.cancelledToReleased(ts, recs));
        on(CA, W, (t, ts, r, recs, out, sid) -> t.cancelledToWaiting(ts));
        on(RS, E, (t, ts, r, recs, out, sid) -> t.resumedToError(ts, recs));
        on(RS, F, (t, ts, r, recs, out, sid) -> t.resumedToFetch(ts, recs));
        on(RS, M, (t, ts, r, recs, out, sid) -> t.resumedToMemory(ts, r.value(), recs, out, sid));
        on(RS, R, (t, ts, r, recs, out, sid) -> t.resumedToReleased(ts));
        on(RS, W, (t, ts, r, recs, out, sid) -> t.resumedToWaiting(ts));
        on(C, X, (t, ts, r, recs, out, sid) -> t.readyToExecuting(ts, out, sid));
        on(C, R, (t, ts, r, recs, out, sid) -> t.genericReleased(ts, recs));
        on(E, R, (t, ts, r, recs, out, sid) -> t.genericReleased(ts, recs));
        on(X, E, (t, ts, r, recs, out, sid) -> t.genericError(ts, r.error(), out, sid));
        on(X, M, (t, ts, r, recs, out, sid) -> t.toMemory(ts, r.value(), false, recs, out, sid));
        on(X, R, (t, ts, r, recs, out, sid) -> t.executingToReleased(ts));
        on(F, FL, (t, ts, r, recs, out, sid) -> t.fetchToFlight(ts, r.worker()));
        on(F, MI, (t, ts, r, recs, out, sid) -> {
            t.transfers.notFetching();
            t.genericMissing(ts);
        });
        on(F, R, (t, ts, r, recs, out, sid) -> {
            t.transfers.notFetching();
            t.genericReleased(ts, recs);
        });
        on(FL, E, (t, ts, r, recs, out, sid) -> t.genericError(ts, r.error(), out, sid));
        on(FL, F, (t, ts, r, recs, out, sid) -> {
            if (ts.done) {
                t.genericFetch(ts, recs);
            }
        });
        on(FL, M, (t, ts, r, recs, out, sid) -> t.toMemory(ts, r.value(), true, recs, out, sid));
        on(FL, MI, (t, ts, r, recs, out, sid) -> t.genericMissing(ts));
        on(FL, R, (t, ts, r, recs, out, sid) -> t.flightToReleased(ts));
        on(M, R, (t, ts, r, recs, out, sid) -> t.memoryToReleased(ts, recs, out, sid));
        on(MI, E, (t, ts, r, recs, out, sid) -> t.genericError(ts, r.error(), out, sid));
        on(MI, F, (t, ts, r, recs, out, sid) -> t.missingToFetch(ts, recs));
        on(MI, R, (t, ts, r, recs, out, sid) -> {
            t.transfers.notMissing(ts);
            t.genericReleased(ts, recs);
        });
        on(MI, W, (t, ts, r, recs, out, sid) -> {
            t.transfers.notMissing(ts);
            t.purgeState(ts);
            t.releasedToWaiting(ts, recs);
        });
        on(RD, X, (t, ts, r, recs, out, sid) -> t.readyToExecuting(ts, out, sid));
        on(RD, R, (t, ts, r, recs, out, sid) -> t.genericReleased(ts, recs));
        on(R, E, (t, ts, r, recs, out, sid) -> t.genericError(ts, r.error(), out, sid));
        on(R, F, (t, ts, r, recs, out, sid) -> t.genericFetch(ts, recs));
        on(R, FG, (t, ts, r, recs, out, sid) -> t.releasedToForgotten(ts, recs));
        on(R, M, (t, ts, r, recs, out, sid) -> t.toMemory(ts, r.value(), true, recs, out, sid));
        on(R, MI, (t, ts, r, recs, out, sid) -> t.genericMissing(ts));
        on(R, W, (t, ts, r, recs, out, sid) -> t.releasedToWaiting(ts, recs));
        on(W, C, (t, ts, r, recs, out, sid) -> t.waitingToConstrained(ts, recs));
        on(W, RD, (t, ts, r, recs, out, sid) -> t.waitingToReady(ts, recs));
        on(W, R, (t, ts, r, recs, out, sid) -> t.genericReleased(ts, recs));
    }

    private final Map<Object, TaskState> tasks;
    private final MemoryManager memory;
    private final ExecutionSlots slots;
    private final TransferPlanner transfers;
    private final StoryLog story;
    private final Consumer<Object> dispose;

    final Set<TaskState> waiting = new LinkedHashSet<>();
    /**
     * Tasks the current free-keys event releases. Distributed's worker answers each with
     * release-worker-data, which the scheduler ignores: it dropped the replica before sending
     * free-keys (scheduler.py release_worker_data, 2022.12.1 and 2024.12.1, returns when the worker
     * is not in who_has). Saying nothing saves a message per task.
     */
    private final Set<TaskState> freedByScheduler = new HashSet<>();

    Transitions(Map<Object, TaskState> tasks, MemoryManager memory, ExecutionSlots slots, TransferPlanner transfers,
                StoryLog story, Consumer<Object> dispose) {
        this.tasks = tasks;
        this.memory = memory;
        this.slots = slots;
        this.transfers = transfers;
        this.story = story;
        this.dispose = dispose;
    }

    /** The scheduler's free-keys releases {@code ts} in the event being handled. */
    void freedByScheduler(TaskState ts) {
        freedByScheduler.add(ts);
    }

    /** The event is handled. */
    void eventDone() {
        freedByScheduler.clear();
    }

    // ---------------------------------------------------------------------------------------------
    // Machinery

    /** Applies {@code recs}, and what they recommend in turn, until none is left. */
    void process(Recs recs, List<Instruction> out, String sid) {
        Recs next = new Recs(dispose); // putAll empties it for the next round
        while (!recs.isEmpty()) {
            TaskState ts = recs.firstTask();
            transition(ts, recs.pollFirstRec(), next, out, sid);
            recs.putAll(next);
        }
    }

    private void transition(TaskState ts, Rec rec, Recs recs, List<Instruction> out, String sid) {
        TaskStatus start = ts.state;
        if (start == rec.to()) {
            if (rec.hasValue() && memory.get(ts.key) != rec.value()) {
                dispose.accept(rec.value());
            }
            return;
        }
        Handler h = TABLE[start.ordinal()][rec.to().ordinal()];
        if (h != null) {
            h.apply(this, ts, rec, recs, out, sid);
        } else if (start != TaskStatus.RELEASED && rec.to() != TaskStatus.RELEASED) {
            // start -> released -> finish, honouring what "released" recommends for ts on the way
            Recs a = new Recs(dispose);
            transition(ts, Rec.of(TaskStatus.RELEASED), a, out, sid);
            Rec v;
            while ((v = a.remove(ts)) != null) {
                if (v.to() == TaskStatus.FORGOTTEN) {
                    continue; // we are going somewhere: do not forget
                }
                transition(ts, v, a, out, sid);
            }
            transition(ts, rec, a, out, sid);
            recs.putAll(a);
        } else {
            if (rec.hasValue()) {
                dispose.accept(rec.value());
            }
            throw story.invalid(ts.key, "invalid transition " + start + " -> " + rec.to());
        }
        story.transition(ts.key, start, rec.to(), ts.state, recs, sid);
    }

    // ---------------------------------------------------------------------------------------------
    // Transitions (distributed/worker_state_machine.py _transition_*)

    private void releasedToWaiting(TaskState ts, Recs recs) {
        ts.waitingForData.clear();
        for (TaskState dep : ts.dependencies) {
            if (dep.state != TaskStatus.MEMORY) {
                ts.waitingForData.add(dep);
                dep.waiters.add(ts);
                recs.put(dep, Rec.of(TaskStatus.FETCH));
            }
        }
        if (ts.waitingForData.isEmpty()) {
            recs.put(ts, Rec.of(TaskStatus.READY));
        }
        ts.state = TaskStatus.WAITING;
        waiting.add(ts);
    }

    private void waitingToReady(TaskState ts, Recs recs) {
        if (!ts.resourceRestrictions.isEmpty()) {
            recs.put(ts, Rec.of(TaskStatus.CONSTRAINED));
            return;
        }
        ts.state = TaskStatus.READY;
        waiting.remove(ts);
        slots.ready.add(ts);
        slots.fill(recs);
    }

    private void waitingToConstrained(TaskState ts, Recs recs) {
        ts.state = TaskStatus.CONSTRAINED;
        waiting.remove(ts);
        slots.constrained.add(ts);
        slots.fill(recs);
    }

    private void readyToExecuting(TaskState ts, List<Instruction> out, String sid) {
        ts.state = TaskStatus.EXECUTING;
        Map<Object, Object> deps = new LinkedHashMap<>();
        for (TaskState d : ts.dependencies) {
            if (!memory.contains(d.key)) {
                throw story.invalid(ts.key, "executing without dependency " + d.key + " in memory");
            }
            deps.put(d.key, memory.get(d.key));
        }
        out.add(new Instruction.Execute(ts.key, ts.runSpec, deps, sid));
    }

    private void executingToReleased(TaskState ts) {
        // A running computation cannot be stopped: wait for it in "cancelled".
        ts.previous = ts.state;
        ts.state = TaskStatus.CANCELLED;
    }

    private void flightToReleased(TaskState ts) {
        ts.previous = TaskStatus.FLIGHT;
        ts.next = null;
        ts.state = TaskStatus.CANCELLED;
    }

    private void cancelledToReleased(TaskState ts, Recs recs) {
        if (!ts.done) {
            return;
        }
        ts.previous = null;
        ts.done = false;
        genericReleased(ts, recs);
    }

    private void cancelledToFetch(TaskState ts, Recs recs) {
        if (ts.previous == TaskStatus.FLIGHT) {
            if (ts.done) {
                recs.put(ts, Rec.of(TaskStatus.RELEASED));
            } else {
                ts.state = TaskStatus.FLIGHT; // forget the cancellation
                ts.previous = null;
            }
        } else {
            ts.state = TaskStatus.RESUMED;
            ts.next = TaskStatus.FETCH;
        }
    }

    private void cancelledToWaiting(TaskState ts) {
        if (ts.previous == TaskStatus.EXECUTING) {
            ts.state = TaskStatus.EXECUTING; // forget the cancellation
            ts.previous = null;
        } else {
            ts.state = TaskStatus.RESUMED;
            ts.next = TaskStatus.WAITING;
        }
    }

    private void resumedToError(TaskState ts, Recs recs) {
        // The failed attempt was not what the scheduler wants any more: go where it wants instead.
        recs.put(ts, Rec.of(ts.previous == TaskStatus.EXECUTING ? TaskStatus.FETCH : TaskStatus.WAITING));
        ts.state = TaskStatus.RELEASED;
        ts.done = false;
        ts.previous = null;
        ts.next = null;
    }

    private void resumedToFetch(TaskState ts, Recs recs) {
        if (ts.previous == TaskStatus.FLIGHT) {
            if (ts.done) {
                ts.state = TaskStatus.RELEASED;
                ts.done = false;
                ts.previous = null;
                ts.next = null;
                recs.put(ts, Rec.of(TaskStatus.WAITING));
            } else {
                ts.state = TaskStatus.FLIGHT;
                ts.previous = null;
                ts.next = null;
            }
        }
    }

    private void resumedToReleased(TaskState ts) {
        ts.state = TaskStatus.CANCELLED;
        ts.next = null;
    }

    private void resumedToWaiting(TaskState ts) {
        if (ts.previous == TaskStatus.EXECUTING) {
            ts.state = TaskStatus.EXECUTING;
            ts.next = null;
            ts.previous = null;
        }
    }

    private void resumedToMemory(TaskState ts, Object value, Recs recs, List<Instruction> out, String sid) {
        // The scheduler expects what ts.next says, not what actually finished.
        boolean addKeys = ts.previous == TaskStatus.EXECUTING;
        ts.previous = null;
        ts.next = null;
        toMemory(ts, value, addKeys, recs, out, sid);
    }

    private void toMemory(TaskState ts, Object value, boolean addKeys, Recs recs, List<Instruction> out,
                          String sid) {
        putKeyInMemory(ts, value, recs, sid);
        out.add(addKeys ? new Instruction.Send(new WorkerToScheduler.AddKeys(List.of(ts.key), sid)) : taskFinished(ts, sid));
    }

    /** Stores {@code value} as {@code ts}'s (unless it is stored already) and readies its waiting dependents. */
    void putKeyInMemory(TaskState ts, Object value, Recs recs, String sid) {
        if (memory.contains(ts.key)) {
            if (memory.get(ts.key) != value) {
                dispose.accept(value);
            }
            ts.state = TaskStatus.MEMORY;
            return;
        }
        if (ts.nbytes == null) {
            ts.nbytes = TaskState.DEFAULT_DATA_SIZE;
        }
        memory.put(ts, value);
        ts.state = TaskStatus.MEMORY;
        for (TaskState dep : ts.dependents) {
            dep.waitingForData.remove(ts);
            if (dep.waitingForData.isEmpty() && dep.state == TaskStatus.WAITING) {
                recs.put(dep, Rec.of(TaskStatus.READY));
            }
        }
        story.note(sid, ts.key, "put-in-memory");
    }

    private void memoryToReleased(TaskState ts, Recs recs, List<Instruction> out, String sid) {
        genericReleased(ts, recs);
        if (!freedByScheduler.contains(ts)) {
            out.add(new Instruction.Send(new WorkerToScheduler.ReleaseWorkerData(ts.key, sid)));
        }
    }

    private void genericReleased(TaskState ts, Recs recs) {
        purgeState(ts);
        for (TaskState dep : ts.dependencies) {
            if (dep.waiters.isEmpty() && !isReady(dep.state) && !TaskState.isProcessing(dep.state)
                    && dep.state != TaskStatus.MEMORY) {
                recs.put(dep, Rec.of(TaskStatus.RELEASED));
            }
        }
        ts.state = TaskStatus.RELEASED;
        if (ts.dependents.isEmpty()) {
            recs.put(ts, Rec.of(TaskStatus.FORGOTTEN));
        }
    }

    private void genericError(TaskState ts, Rec.ErrorInfo e, List<Instruction> out, String sid) {
        ts.exception = e.exception();
        ts.traceback = e.traceback();
        ts.exceptionText = e.exceptionText();
        ts.tracebackText = e.tracebackText();
        ts.state = TaskStatus.ERROR;
        out.add(taskErred(ts, sid));
    }

    private void genericFetch(TaskState ts, Recs recs) {
        if (ts.whoHas.isEmpty()) {
            recs.put(ts, Rec.of(TaskStatus.MISSING));
            return;
        }
        ts.state = TaskStatus.FETCH;
        ts.done = false;
        transfers.fetching(ts);
    }

    private void genericMissing(TaskState ts) {
        ts.state = TaskStatus.MISSING;
        transfers.missing(ts);
        ts.done = false;
    }

    private void missingToFetch(TaskState ts, Recs recs) {
        if (ts.whoHas.isEmpty()) {
            return;
        }
        transfers.notMissing(ts);
        genericFetch(ts, recs);
    }

    private void fetchToFlight(TaskState ts, String worker) {
        ts.done = false;
        ts.state = TaskStatus.FLIGHT;
        ts.comingFrom = worker;
        transfers.flying(ts);
    }

    private void releasedToForgotten(TaskState ts, Recs recs) {
        for (TaskState dep : ts.dependencies) {
            dep.dependents.remove(ts);
            if (dep.state == TaskStatus.RELEASED && dep.dependents.isEmpty()) {
                recs.put(dep, Rec.of(TaskStatus.FORGOTTEN));
            }
        }
        purgeState(ts);
        ts.state = TaskStatus.FORGOTTEN;
        tasks.remove(ts.key);
    }

    /** Resets a task's transient state and drops its data; idempotent. */
    private void purgeState(TaskState ts) {
        if (memory.contains(ts.key)) {
            memory.drop(ts);
        }
        transfers.forget(ts);
        ts.thread = null;
        for (TaskState d : ts.dependencies) {
            d.waiters.remove(ts);
        }
        ts.waitingForData.clear();
        ts.nbytes = null;
        ts.previous = null;
        ts.next = null;
        ts.done = false;
        ts.comingFrom = null;
        ts.exception = null;
        ts.traceback = null;
        ts.exceptionText = "";
        ts.tracebackText = "";
        slots.remove(ts);
        waiting.remove(ts);
    }

    // ---------------------------------------------------------------------------------------------
    // Messages

    static Instruction.Send taskFinished(TaskState ts, String sid) {
        return new Instruction.Send(new WorkerToScheduler.TaskFinished(ts.key, ts.nbytesOrDefault(), ts.type,
                ts.typename, null, ts.thread, List.copyOf(ts.startstops), ts.runId, sid));
    }

    static Instruction.Send taskErred(TaskState ts, String sid) {
        return new Instruction.Send(new WorkerToScheduler.TaskErred(ts.key, ts.exception, ts.traceback,
                ts.exceptionText, ts.tracebackText, ts.thread, List.copyOf(ts.startstops), ts.runId, sid));
    }

    static boolean isReady(TaskStatus s) {
        return s == TaskStatus.READY || s == TaskStatus.CONSTRAINED;
    }
}
