package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.CompactMap;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.pickle.Pickles;
import org.cloudviper.scheduler.state.TaskState.Status;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.cloudviper.scheduler.state.TaskState.Status.ERRED;
import static org.cloudviper.scheduler.state.TaskState.Status.FORGOTTEN;
import static org.cloudviper.scheduler.state.TaskState.Status.MEMORY;
import static org.cloudviper.scheduler.state.TaskState.Status.NO_WORKER;
import static org.cloudviper.scheduler.state.TaskState.Status.PROCESSING;
import static org.cloudviper.scheduler.state.TaskState.Status.QUEUED;
import static org.cloudviper.scheduler.state.TaskState.Status.RELEASED;
import static org.cloudviper.scheduler.state.TaskState.Status.WAITING;

/**
 * The task lifecycle: every status change goes through {@link #transition}, which checks the move
 * against the table of legal moves ({@link LegalMoves}) and records it in the {@link TransitionLog}. The moves that do
 * real work have handlers named for them ({@code processingToMemory}, {@code erredToReleased}; with
 * several starts, for the finish: {@code toProcessing}, {@code toErred}), as Dask's
 * {@code transition_<start>_<finish>} functions. Unlike Dask, a handler applies a move's
 * consequences at once (a dependent whose last input arrived goes to a worker in the same call)
 * instead of returning recommendations; what nobody needs any more is collected and released by
 * {@link Release#settle} at the end of each event. Single-threaded; the caller starts each event
 * with {@link #begin}.
 */
final class Transitions {
    /** How many of a key's last transitions an illegal move's exception shows. */
    private static final int STORY_IN_ERRORS = 20;

    private final Outbox out;
    private final Workers workers;
    private final Placement placement;
    private final Retirement retirement;
    private final TransitionLog log;
    private final FreeKeys freeKeys;
    private final Stealing stealing;

    /** Tasks that may no longer be needed, checked (released, forgotten) by {@link Release#settle}. */
    private final ArrayDeque<TaskState> releaseCandidates = new ArrayDeque<>();
    /**
     * Erred tasks -> the worker that reported the error. A Dask worker keeps a key in its error state
     * (and answers a new compute-task for it with the old task-erred) until told free-keys, which
     * Dask's scheduler sends when the task leaves erred ({@code TaskState.erred_on},
     * transition_erred_released).
     */
    final HashMap<TaskState, WorkerState> erredOn = new HashMap<>();

    /** The current event's stimulus id: stamped on transitions and on the messages they cause. */
    private String stimulusId;
    /** Tasks forgotten so far (Dask's {@code dask_scheduler_tasks_forgotten}). */
    private long forgotten;
    /** Per task prefix, how often a worker died running one (Dask's {@code tasks_suspicious}). */
    private final Map<String, Long> suspiciousByPrefix = new TreeMap<>();
    private long nextRunId;

    Transitions(Outbox out, Workers workers, Placement placement,
                Retirement retirement, TransitionLog log, FreeKeys freeKeys, Stealing stealing) {
        this.out = out;
        this.workers = workers;
        this.placement = placement;
        this.retirement = retirement;
        this.log = log;
        this.freeKeys = freeKeys;
        this.stealing = stealing;
    }

    /** Starts an event: what follows is caused by {@code stimulusId}. */
    void begin(String stimulusId) {
        this.stimulusId = stimulusId;
        log.begin(stimulusId);
    }

    /**
     * An event brought the time (seconds since the epoch): later transitions are stamped with it.
     * The state has no clock of its own.
     */
    void clock(double now) {
        log.clock(now);
    }

    /** Transitions made so far. */
    long count() {
        return log.recorded();
    }

    // ------------------------------------------------------------------------------------------
    // The transition function
    // ------------------------------------------------------------------------------------------

    /**
     * Moves {@code ts} to {@code finish}: checks the move, keeps the dependencies' {@code waiters}
     * counts (a task counts while it needs its inputs) and records the move. Every status change
     * goes through here; handlers do the rest of a move's work around it.
     *
     * @throws IllegalStateException naming the key, the move and the key's recent story, if the
     *                               move is not in the table (a bug in a handler)
     */
    void transition(TaskState ts, Status finish) {
        int move = LegalMoves.move(ts.status, finish);
        if (!LegalMoves.legal(move)) {
            throw illegal(ts, finish);
        }
        ts.status = finish;
        log.record(ts.key, move);
        if (LegalMoves.changesWaiters(move)) {
            countWaiter(ts, finish.needsInputs);
        }
    }

    /** The last move of a task: to forgotten, counted. */
    void forget(TaskState ts) {
        transition(ts, FORGOTTEN);
        forgotten++;
    }

    long forgotten() {
        return forgotten;
    }

    Map<String, Long> suspiciousByPrefix() {
        return Collections.unmodifiableMap(suspiciousByPrefix);
    }

    /**
     * {@code ts} starts or stops needing its inputs: it counts in their {@code waiters}, and an input
     * nobody waits for any more may be released. Kept out of {@link #transition} so that the
     * transition function stays small enough to inline at every call site.
     */
    private void countWaiter(TaskState ts, boolean waits) {
        if (waits) {
            for (TaskState dep : ts.dependencies) {
                dep.waiters++;
            }
        } else {
            for (TaskState dep : ts.dependencies) {
                if (--dep.waiters == 0) {
                    releaseCandidates.add(dep);
                }
            }
        }
    }

    private IllegalStateException illegal(TaskState ts, Status finish) {
        StringBuilder b = new StringBuilder("Impossible transition from ").append(ts.status.daskName).append(" to ")
                .append(finish.daskName).append(" for key ").append(ts.key).append(" (stimulus ")
                .append(stimulusId).append("); story:");
        for (StoryEntry e : log.recent(ts.key, STORY_IN_ERRORS)) {
            b.append("\n  ").append(e);
        }
        return new IllegalStateException(b.toString());
    }

    // ------------------------------------------------------------------------------------------
    // released -> waiting -> (processing | queued | no-worker)
    // ------------------------------------------------------------------------------------------

    void recompute(TaskState root) {
        recompute(List.of(root));
    }

    /**
     * Brings released tasks that are needed back to work: each becomes waiting on its missing inputs,
     * which are recomputed in turn; tasks whose inputs are all in memory are scheduled, best priority
     * first. Dask sorts an update's runnable tasks by priority before recommending them, so with more
     * ready tasks than free slots the first slots go to the best tasks, not to whichever key the
     * client listed first (update_graph: {@code sorted(runnables, key=priority)}).
     */
    void recompute(Collection<TaskState> roots) {
        if (roots.isEmpty()) {
            return;
        }
        ArrayDeque<TaskState> work = new ArrayDeque<>();
        for (TaskState root : roots) {
            work.push(root);
        }
        List<TaskState> ready = new ArrayList<>();
        List<TaskState> blamed = null;
        while (!work.isEmpty()) {
            TaskState ts = work.pop();
            if (ts.status != RELEASED) {
                continue;
            }
            if (ts.spec == null) {
                // Scattered data that was lost cannot be recomputed.
                toErred(ts, "Data for key " + ts.key + " was lost with the worker holding it and"
                        + " cannot be recomputed (it was scattered, not computed)", null);
                continue;
            }
            TaskState erredDep = releasedToWaiting(ts, work);
            if (erredDep != null) {
                if (blamed == null) {
                    blamed = new ArrayList<>();
                }
                blamed.add(ts);
                ts.exceptionBlame = erredDep;
            } else if (ts.waitingOn == 0) {
                ready.add(ts);
            }
        }
        if (blamed != null) {
            for (TaskState ts : blamed) {
                TaskState dep = ts.exceptionBlame;
                if (ts.status == WAITING && dep.status == ERRED) {
                    transition(ts, RELEASED);
                    toErred(ts, dep.exception, dep.traceback);
                }
            }
        }
        // A dependency that turned erred above may have changed these; schedule what is still ready.
        if (ready.size() > 1) {
            ready.sort(TaskState::comparePriority);
        }
        for (TaskState ts : ready) {
            if (ts.status == WAITING && ts.waitingOn == 0) {
                scheduleReady(ts);
            }
        }
    }

    /**
     * Counts the inputs {@code ts} waits for and pushes the released ones onto {@code work}; returns
     * an erred input (the task cannot run), or null.
     */
    private TaskState releasedToWaiting(TaskState ts, ArrayDeque<TaskState> work) {
        transition(ts, WAITING);
        int missing = 0;
        TaskState erredDep = null;
        for (TaskState dep : ts.dependencies) {
            if (dep.status == MEMORY) {
                continue;
            }
            if (dep.status == ERRED) {
                erredDep = dep;
            }
            missing++;
            if (dep.status == RELEASED) {
                work.push(dep);
            }
        }
        ts.waitingOn = missing;
        return erredDep;
    }

    /** Recomputes the released tasks someone still needs; the others become release candidates. */
    void recomputeNeeded(List<TaskState> candidates) {
        List<TaskState> toRun = new ArrayList<>();
        for (TaskState ts : candidates) {
            if (ts.status == RELEASED && (ts.wanted() || ts.waiters > 0)) {
                toRun.add(ts);
            } else {
                releaseCandidates.add(ts);
            }
        }
        recompute(toRun);
    }

    /**
     * A waiting task whose inputs are all in memory goes to a worker now (waiting -> processing), or
     * waits in the queue for a free slot (-> queued) or for a worker that meets its restrictions
     * (-> no-worker).
     */
    private void scheduleReady(TaskState ts) {
        if (ts.hasRestrictions() || ts.actor) {
            WorkerState ws = placement.pickRestricted(ts);
            if (ws == null) {
                transition(ts, NO_WORKER);
                placement.unrunnable.add(ts);
            } else {
                toProcessing(ts, ws);
            }
            return;
        }
        WorkerState ws = placement.pickFree(ts);
        if (ws == null) {
            transition(ts, QUEUED);
            placement.enqueue(ts);
        } else {
            toProcessing(ts, ws);
        }
    }

    /** Fills free worker slots from the queue (queued -> processing). */
    void fillSlots() {
        TaskState ts;
        while ((ts = placement.nextQueued()) != null) {
            toProcessing(ts, placement.pickFree(ts));
        }
    }

    /** Sends no-worker tasks to workers that now satisfy their restrictions (no-worker -> processing). */
    void retryUnrunnable() {
        if (placement.unrunnable.isEmpty()) {
            return;
        }
        for (TaskState ts : new ArrayList<>(placement.unrunnable)) {
            WorkerState ws = placement.pickRestricted(ts);
            if (ws != null && ts.status == NO_WORKER) {
                placement.unrunnable.remove(ts);
                toProcessing(ts, ws);
            }
        }
    }

    /**
     * processing -> processing: the victim gave up {@code ts} (steal-response confirmed it had not
     * started) and the thief gets compute-task. The victim forgot the key itself.
     */
    void stolen(TaskState ts, WorkerState thief) {
        removeProcessing(ts);
        toProcessing(ts, thief);
    }

    /** waiting, queued or no-worker -> processing on {@code ws}: the worker gets compute-task. */
    private void toProcessing(TaskState ts, WorkerState ws) {
        List<Object> toFree = freeKeys.take(ws);
        if (toFree != null) {
            // A key freed and assigned again within one event: the worker must forget it first.
            out.toWorker(ws.address, new SchedulerToWorker.FreeKeys(toFree, stimulusId == null ? "reassign-" + ts.key : stimulusId));
        }
        transition(ts, PROCESSING);
        ts.processingOn = ws;
        ws.processing.add(ts);
        placement.updateFree(ws);
        ts.runId = nextRunId++;
        Map<Object, List<String>> whoHas;
        Map<Object, Long> nbytes;
        if (ts.dependencies.length == 0) {
            whoHas = Map.of();
            nbytes = Map.of();
        } else {
            whoHas = CompactMap.forSize(ts.dependencies.length);
            nbytes = CompactMap.forSize(ts.dependencies.length);
            for (TaskState dep : ts.dependencies) {
                whoHas.put(dep.key, dep.holderAddresses());
                nbytes.put(dep.key, Math.max(0, dep.nbytes));
            }
        }
        Map<String, Object> resources = ts.resourceRestrictions == null ? Map.of() : new LinkedHashMap<>(ts.resourceRestrictions);
        out.toWorker(ws.address, new SchedulerToWorker.ComputeTask(ts.key, ts.runId,
                List.of(ts.negUserPriority, ts.generation, ts.order), 0.5,
                stimulusId != null ? stimulusId : "compute-task", whoHas, nbytes, ts.runSpec(), resources, ts.actor,
                ts.annotations, null));
    }

    // ------------------------------------------------------------------------------------------
    // -> memory
    // ------------------------------------------------------------------------------------------

    /** task-finished from {@code ws} for a task processing there or (after a reschedule) elsewhere. */
    void processingToMemory(TaskState ts, WorkerState ws, long nbytes, byte[] type) {
        WorkerState on = ts.processingOn;
        removeProcessing(ts);
        if (on != ws) {
            freeOn(on, ts.key);
        }
        ts.type = type;
        addReplica(ts, ws, nbytes);
        toMemory(ts);
    }

    /**
     * Client.scatter placed data for {@code ts} (its replicas are added already). Scatter with
     * explicit keys can name a key that is being computed or has erred; the data wins (Dask's
     * update_data sets the state to memory). A worker that received the data took it over (its
     * update_data turns an executing or erred key into memory), so only other workers are told to
     * forget their run or error.
     */
    void scatteredToMemory(TaskState ts) {
        switch (ts.status) {
            case PROCESSING -> {
                WorkerState on = ts.processingOn;
                removeProcessing(ts);
                if (!ts.heldBy(on)) {
                    freeOn(on, ts.key);
                }
            }
            case ERRED -> {
                WorkerState on = erredOn.get(ts);
                if (on != null && ts.heldBy(on)) {
                    erredOn.remove(ts);
                }
                erredToReleased(ts);
            }
            case QUEUED, NO_WORKER -> unassignedToReleased(ts);
            default -> {
            }
        }
        toMemory(ts);
    }

    /** The task's result exists: wanting clients hear of it, dependents waiting only for it start. */
    private void toMemory(TaskState ts) {
        transition(ts, MEMORY);
        ts.suspicious = 0;
        if (ts.whoWants instanceof ClientState only) { // the common case, without a list per task
            out.toClient(only.id, new SchedulerToClient.KeyInMemory(ts.key, ts.type));
        } else if (ts.whoWants != null) {
            for (ClientState c : Clients.wanters(ts)) {
                out.toClient(c.id, new SchedulerToClient.KeyInMemory(ts.key, ts.type));
            }
        }
        for (int i = 0; i < ts.dependentCount; i++) {
            TaskState d = ts.dependents[i];
            if (d.status == WAITING && --d.waitingOn == 0) {
                scheduleReady(d);
            }
        }
        releaseCandidates.add(ts);
    }

    // ------------------------------------------------------------------------------------------
    // -> released
    // ------------------------------------------------------------------------------------------

    /**
     * processing -> released. {@code cancelOnWorker}: the worker still runs it and is told free-keys
     * (not when it died, erred, or gave the task back).
     */
    void processingToReleased(TaskState ts, boolean cancelOnWorker) {
        WorkerState on = ts.processingOn;
        removeProcessing(ts);
        if (cancelOnWorker) {
            freeOn(on, ts.key);
        }
        transition(ts, RELEASED);
    }

    /**
     * memory -> released because the last copy is gone: dependents that were about to run on it are
     * pulled back to waiting; clients are told ({@code lost-data}). The caller recomputes the tasks
     * added to {@code again} that are still needed.
     */
    void dataLost(TaskState ts, List<TaskState> again) {
        transition(ts, RELEASED);
        if (ts.actor && ts.wanted()) {
            // An actor's state lived on the lost worker: Dask errs it instead of making a new one
            // (transition_memory_released, "don't try to recreate").
            toErred(ts, Pickles.call("builtins", "ValueError", "Worker holding Actor was lost"), null);
            return;
        }
        for (ClientState c : Clients.wanters(ts)) {
            out.toClient(c.id, new SchedulerToClient.LostData(ts.key));
        }
        for (int i = 0; i < ts.dependentCount; i++) {
            TaskState d = ts.dependents[i];
            switch (d.status) {
                case WAITING -> d.waitingOn++;
                case PROCESSING -> {
                    processingToReleased(d, true);
                    again.add(d);
                }
                case QUEUED, NO_WORKER -> {
                    unassignedToReleased(d);
                    again.add(d);
                }
                default -> {
                }
            }
        }
        again.add(ts);
    }

    /** waiting, queued or no-worker -> released: the task was on no worker yet. */
    void unassignedToReleased(TaskState ts) {
        placement.unrunnable.remove(ts);
        transition(ts, RELEASED);
    }

    /** erred -> released: the worker that reported the error may forget it. */
    void erredToReleased(TaskState ts) {
        clearError(ts);
        transition(ts, RELEASED);
    }

    /** Drops the task's error, and tells the worker that kept the key in error to forget it. */
    private void clearError(TaskState ts) {
        WorkerState on = erredOn.remove(ts);
        if (on != null && workers.isRegistered(on)) {
            freeOn(on, ts.key);
        }
        ts.clearError();
    }

    // ------------------------------------------------------------------------------------------
    // -> erred
    // ------------------------------------------------------------------------------------------

    /**
     * {@code root} (released, or processing with its worker already let go) and every dependent that
     * waits on it err with this error; clients that want any of them are told.
     */
    void toErred(TaskState root, Object exception, Object traceback) {
        ArrayDeque<TaskState> work = new ArrayDeque<>();
        work.add(root);
        while (!work.isEmpty()) {
            TaskState ts = work.poll();
            switch (ts.status) {
                case ERRED, FORGOTTEN -> {
                    continue;
                }
                case PROCESSING -> {
                    WorkerState on = ts.processingOn;
                    removeProcessing(ts);
                    freeOn(on, ts.key);
                }
                case WAITING -> transition(ts, RELEASED); // Dask has no waiting -> erred: through released
                case NO_WORKER -> placement.unrunnable.remove(ts);
                default -> {
                }
            }
            transition(ts, ERRED);
            ts.setError(exception, traceback, root);
            for (ClientState c : Clients.wanters(ts)) {
                out.toClient(c.id, new SchedulerToClient.TaskErred(ts.key, exception, traceback));
            }
            for (int i = 0; i < ts.dependentCount; i++) {
                TaskState d = ts.dependents[i];
                if (d.needsInputs() || d.status == RELEASED && (d.wanted() || d.waiters > 0)) {
                    work.add(d);
                }
            }
            releaseCandidates.add(ts);
        }
    }

    /**
     * processing -> erred: the task failed (task-erred) or killed too many workers. The worker is not
     * told to forget it: the one that reported the error ({@code keptOn}, null if none) keeps the key
     * in its error state until the task leaves erred.
     */
    void processingToErred(TaskState ts, WorkerState keptOn, Object exception, Object traceback) {
        removeProcessing(ts);
        toErred(ts, exception, traceback);
        if (keptOn != null) {
            erredOn.put(ts, keptOn);
        }
    }

    // ------------------------------------------------------------------------------------------
    // A worker left
    // ------------------------------------------------------------------------------------------

    /**
     * {@code ws} is no longer registered: the tasks it ran go back to released and run elsewhere, or
     * err with KilledWorker once more than {@code allowedFailures} workers died running them
     * ({@code lost}: this one counts); keys only it held are lost and recomputed if still needed.
     */
    void workerLeft(WorkerState ws, boolean lost, int allowedFailures) {
        List<TaskState> toRecompute = new ArrayList<>();
        for (TaskState ts : new ArrayList<>(ws.processing)) {
            if (lost) {
                ts.suspicious++;
                suspiciousByPrefix.merge(KeyPrefix.of(ts.key), 1L, Long::sum);
            }
            if (ts.suspicious > allowedFailures) {
                byte[] exc = Pickles.call("distributed.scheduler", "KilledWorker",
                        "Attempted to run task " + ts.key + " on " + ts.suspicious
                                + " different workers, but all those workers died while running it. The last"
                                + " worker that attempt to run the task was " + ws.address + ".");
                processingToErred(ts, null, exc, null);
            } else {
                processingToReleased(ts, false);
                toRecompute.add(ts);
            }
        }
        for (TaskState ts : ws.hasWhat) {
            ts.removeHolder(ws);
            if (ts.whoHas.length == 0 && ts.status == MEMORY) {
                dataLost(ts, toRecompute);
            }
        }
        ws.hasWhat.clear();
        recomputeNeeded(toRecompute);
    }

    // ------------------------------------------------------------------------------------------
    // What settle needs: release candidates, the free-keys batch
    // ------------------------------------------------------------------------------------------

    /** {@code ts} may no longer be needed: {@link Release} releases (and forgets) it if so. */
    void releaseLater(TaskState ts) {
        releaseCandidates.add(ts);
    }

    void releaseLater(Collection<TaskState> ts) {
        releaseCandidates.addAll(ts);
    }

    /** The next release candidate, or null. */
    TaskState pollReleaseCandidate() {
        return releaseCandidates.poll();
    }

    /** Tells {@code ws} (if still registered) to forget {@code key}, in this event's free-keys. */
    void freeOn(WorkerState ws, Object key) {
        freeKeys.add(ws, key);
    }

    // ------------------------------------------------------------------------------------------
    // Bookkeeping shared by the moves
    // ------------------------------------------------------------------------------------------

    private void removeProcessing(TaskState ts) {
        WorkerState ws = ts.processingOn;
        if (ws == null) {
            return;
        }
        ws.processing.remove(ts);
        if (ts.longRunning) {
            ts.longRunning = false;
            ws.longRunning--;
        }
        ts.processingOn = null;
        stealing.leftProcessing(ts);
        placement.updateFree(ws);
    }

    void addReplica(TaskState ts, WorkerState ws, long nbytes) {
        if (nbytes >= 0 && nbytes != ts.nbytes) {
            // Holders counted the old size; move them to the new one (Dask TaskState.set_nbytes).
            long diff = nbytes - Math.max(0, ts.nbytes);
            for (WorkerState w : ts.whoHas) {
                w.nbytes += diff;
            }
            ts.nbytes = nbytes;
        }
        if (ws.hasWhat.add(ts)) {
            retirement.replicaAdded(ts, ws);
            ws.nbytes += Math.max(0, ts.nbytes);
            ts.addHolder(ws);
        }
    }
}
