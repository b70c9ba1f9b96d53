package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.SchedulerToClient;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The scheduler's state as a pure state machine: each public {@code on...} method is one event (a
 * Dask message, a connection change, a timer tick with the time inside it); it changes the state and
 * sends what follows through the {@link Outbox}. No I/O, threads or clocks here; one thread owns an
 * instance, so there are no locks.
 *
 * <p>Task lifecycle (distributed/scheduler.py, same names): released -> waiting -> queued ->
 * processing -> memory, with erred, no-worker and forgotten. Every status change goes through
 * {@link Transitions#transition}, which rejects a move Dask's transition table does not have and
 * records each move for {@link StateQueries#story}. Differences from Dask, on purpose: every ready
 * task without restrictions respects the worker-saturation cap (Dask 2022.12 caps only root-ish tasks), and a
 * freed slot is refilled within the same event, never on a timer.
 *
 * <p>This class is the event API; the work is done by one class per job: {@link Transitions} (the
 * moves), {@link Release} (releasing and forgetting), {@link Placement} (saturation caps, free
 * slots, the ready queue, choice of worker), {@link GraphIngest} and {@link GraphOrder} (new
 * graphs), {@link Clients} (who wants which key, datasets), {@link Workers}, {@link Retirement},
 * {@link StateValidator} and, for reading it, {@link StateQueries}. Every event ends with {@link Release#settle}, which releases what nobody
 * needs any more, forgets it, fills free worker slots from the queue and sends batched free-keys.
 *
 * <p>Time: the state reads no clock. Events that carry the time (a graph update's {@code now},
 * register-worker, heartbeats, the TTL tick) set the state's notion of now, and the transition log
 * stamps each move with the latest of those times, so a stamp can lag the real time by up to the
 * interval between such events.
 */
public final class SchedulerState {
    private final Outbox out;
    private final int allowedFailures;

    private final TaskTable tasks = new TaskTable();
    private final Workers workers = new Workers();
    private final Placement placement;
    private final Retirement retirement;
    private final TransitionLog log;
    private final FreeKeys freeKeys;
    private final Transitions transitions;
    private final Stealing stealing;
    private final Release release;
    private final Clients clients;
    private final Interner interner = new Interner();
    private final GraphIngest ingest;
    private final StateValidator validator;
    private final StateQueries queries;

    /** A published dataset: its data (a pickled object the client made) and the keys it holds. */
    public record Dataset(List<Object> keys, SubObject data) {
    }

    /** Where a retirement stands; see {@link #retirementOutcome}. */
    public enum RetireOutcome {
        /** Keys only this worker holds are still being copied. */
        PENDING,
        /** Every key it holds has a replica on a worker that stays: it can go. */
        READY,
        /** No running worker could take its data: call it off ({@link #onRetirementAborted}). */
        ABORTED,
        /** Not (or no longer) a registered worker. */
        GONE
    }

    /** A state with Dask's plain saturation cap (no pipelining of short tasks). */
    public SchedulerState(Outbox out, double workerSaturation, int allowedFailures) {
        this(out, workerSaturation, allowedFailures, 0);
    }

    /**
     * @param pipelineSeconds short tasks may be queued on a worker until each of its threads holds
     *                        about this much measured compute time (see {@link Placement}); 0 keeps
     *                        Dask's plain cap
     */
    public SchedulerState(Outbox out, double workerSaturation, int allowedFailures, double pipelineSeconds) {
        this(out, workerSaturation, allowedFailures, pipelineSeconds, TransitionLog.DEFAULT_LENGTH);
    }

    /**
     * @param transitionLogLength how many transitions {@link StateQueries#story} remembers (Dask's
     *                            {@code distributed.scheduler.transition-log-length}, 100,000)
     */
    public SchedulerState(Outbox out, double workerSaturation, int allowedFailures, double pipelineSeconds,
                          int transitionLogLength) {
        if (!(workerSaturation > 0)) {
            throw new IllegalArgumentException("worker saturation: " + workerSaturation + " (expected: > 0)");
        }
        if (!(pipelineSeconds >= 0) || Double.isInfinite(pipelineSeconds)) {
            throw new IllegalArgumentException("pipeline seconds: " + pipelineSeconds + " (expected: >= 0, finite)");
        }
        this.out = out;
        this.allowedFailures = allowedFailures;
        this.placement = new Placement(workers, workerSaturation, pipelineSeconds);
        this.retirement = new Retirement(out, workers, placement);
        this.log = new TransitionLog(transitionLogLength);
        this.freeKeys = new FreeKeys(out, workers);
        this.stealing = new Stealing(out, workers, placement);
        this.transitions = new Transitions(out, workers, placement, retirement, log, freeKeys, stealing);
        this.release = new Release(out, tasks, transitions, retirement, freeKeys);
        this.clients = new Clients(out, tasks, workers, transitions);
        this.ingest = new GraphIngest(tasks, release, interner);
        this.validator = new StateValidator(tasks, workers, placement, transitions, stealing);
        this.queries = new StateQueries(tasks, workers, clients, transitions, log);
    }

    // ------------------------------------------------------------------------------------------
    // Clients
    // ------------------------------------------------------------------------------------------

    public void onAddClient(String client) {
        clients.getOrAdd(client);
    }

    /** close-client, or the client's stream closed: everything it wanted is released. */
    public void onRemoveClient(String client, String stimulusId) {
        if (clients.get(client) == null) {
            return;
        }
        transitions.begin(stimulusId);
        clients.remove(client);
        release.settle(stimulusId);
    }

    /**
     * Scheduler.restart: every client, datasets' pseudo-clients included, lets go of every key it
     * wants, so every task is released and forgotten (running ones are cancelled on their workers).
     * The clients stay; the server tells them (op "restart") and restarts the workers.
     */
    public void onRestart(String stimulusId) {
        transitions.begin(stimulusId);
        for (ClientState cs : new ArrayList<>(clients.byId().values())) {
            clients.releaseAll(cs);
        }
        release.settle(stimulusId);
    }

    /** update-graph-hlg (2022) and update-graph (2024), already flattened by the server. */
    public void onUpdateGraph(GraphUpdate u) {
        transitions.begin(u.stimulusId());
        transitions.clock(u.now());
        ClientState cs = clients.getOrAdd(u.client());
        GraphIngest.Added added = ingest.add(u, cs);
        List<TaskState> toRun = new ArrayList<>(added.wanted().size());
        for (TaskState ts : added.wanted()) {
            if (ts.status == TaskState.Status.RELEASED) {
                toRun.add(ts);
            } else {
                clients.reportOnKey(ts, cs);
            }
        }
        transitions.recompute(toRun);
        // Tasks nobody needs (culled) are forgotten at once. A task that is wanted or waited for now
        // becomes a candidate again when that changes, so only the others need a look.
        for (TaskState ts : added.created()) {
            if (!ts.wanted() && ts.waiters == 0) {
                transitions.releaseLater(ts);
            }
        }
        release.settle(u.stimulusId());
    }

    public void onClientDesiresKeys(String client, Collection<?> keys, String stimulusId) {
        transitions.begin(stimulusId);
        clients.desire(clients.getOrAdd(client), keys);
        release.settle(stimulusId);
    }

    public void onClientReleasesKeys(String client, Collection<?> keys, String stimulusId) {
        transitions.begin(stimulusId);
        ClientState cs = clients.get(client);
        if (cs == null) {
            return;
        }
        clients.release(cs, keys);
        release.settle(stimulusId);
    }

    /**
     * report-key: the client asks again about a key (e.g. after a failed gather). A key the scheduler
     * no longer knows is reported as cancelled, as Dask's report_on_key does, so the client's Future
     * ends instead of waiting forever.
     */
    public void onReportKey(String client, Object key) {
        ClientState cs = clients.get(client);
        TaskState ts = tasks.get(key);
        if (ts == null) {
            out.toClient(client, new SchedulerToClient.CancelledKeys(List.of(key)));
        } else if (cs != null) {
            clients.reportOnKey(ts, cs);
        }
    }

    /**
     * Client.cancel: the client stops wanting the keys and their dependents; keys nobody else wants (or
     * all, with {@code force}) are reported as cancelled and released, which stops them on workers.
     */
    public void onCancel(String client, Collection<?> keys, boolean force, String stimulusId) {
        transitions.begin(stimulusId);
        ClientState cs = clients.get(client);
        if (cs == null) {
            return;
        }
        clients.cancel(cs, keys, force);
        release.settle(stimulusId);
    }

    /**
     * Client.retry: erred keys and the erred tasks upstream of them are computed again. Returns every
     * key retried (Dask's reply to the retry RPC).
     */
    public List<Object> onRetry(String client, Collection<?> keys, String stimulusId) {
        transitions.begin(stimulusId);
        List<Object> retried = clients.retry(keys);
        release.settle(stimulusId);
        return retried;
    }

    /**
     * Data the server placed on workers with update_data (Client.scatter): the keys are in memory where
     * {@code whoHas} says, and the client wants them.
     */
    public void onScattered(String client, Map<Object, List<String>> whoHas, Map<Object, Long> nbytes,
                            String stimulusId) {
        transitions.begin(stimulusId);
        clients.scattered(clients.getOrAdd(client), whoHas, nbytes);
        release.settle(stimulusId);
    }

    // ------------------------------------------------------------------------------------------
    // Published datasets (publish_put / publish_get / publish_delete / publish_list)
    // ------------------------------------------------------------------------------------------

    /**
     * Keeps {@code data} (retained) and makes the dataset want its keys, like Dask's
     * {@code published-<name>} pseudo-client. Returns false if the name exists and not override.
     */
    public boolean onPublishPut(String name, List<Object> keys, SubObject data, boolean override, String stimulusId) {
        if (clients.hasDataset(name) && !override) {
            return false;
        }
        List<Object> dropped = clients.putDataset(name, keys, data);
        // Want the new keys before letting go of the old ones: a key in both must not be released (and
        // forgotten, if nobody else wants it) in between. Dask's put only adds the new keys.
        onClientDesiresKeys(Clients.datasetClient(name), keys, stimulusId);
        if (dropped != null) {
            onClientReleasesKeys(Clients.datasetClient(name), dropped, stimulusId);
        }
        return true;
    }

    public Dataset dataset(String name) {
        return clients.dataset(name);
    }

    public List<String> datasetNames() {
        return clients.datasetNames();
    }

    public void onPublishDelete(String name, String stimulusId) {
        List<Object> keys = clients.removeDataset(name);
        if (keys == null) {
            return;
        }
        onClientReleasesKeys(Clients.datasetClient(name), keys, stimulusId);
        clients.remove(Clients.datasetClient(name));
    }

    // ------------------------------------------------------------------------------------------
    // Workers
    // ------------------------------------------------------------------------------------------

    /** register-worker. Returns null on success or the error Dask would send (duplicate name). */
    public String onAddWorker(WorkerRegistration r) {
        String refusal = workers.refusal(r);
        if (refusal != null) {
            return refusal;
        }
        transitions.begin("add-worker");
        transitions.clock(r.now());
        WorkerState ws = workers.register(r);
        placement.updateFree(ws);
        transitions.retryUnrunnable();
        release.settle("add-worker");
        return null;
    }

    /** The worker's connection closed, it stopped heartbeating, or it asked to unregister. */
    public void onRemoveWorker(String address, String stimulusId) {
        removeWorker(address, false, stimulusId);
    }

    /**
     * Removes a worker. {@code safe}: it was retired, not lost, so the tasks it was running go
     * elsewhere without counting against their allowed failures (Dask's remove_worker(safe=True)).
     */
    private void removeWorker(String address, boolean safe, String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = workers.remove(address);
        if (ws == null) {
            return;
        }
        placement.updateFree(ws); // unlisted: no longer registered
        freeKeys.dropWorker(ws);
        retirement.workerRemoved(ws);
        // A retiring worker that leaves (closing gracefully) was not lost either.
        transitions.workerLeft(ws, !safe && !ws.retiring, allowedFailures);
        release.settle(stimulusId);
    }

    /** heartbeat_worker. Returns false if the worker is unknown (Dask replies "missing"). */
    public boolean onHeartbeat(String address, double now) {
        transitions.clock(now);
        return workers.heard(address, now) != null;
    }

    /** Timer: removes workers that have not been heard of for longer than {@code ttlSeconds}. */
    public List<String> onTick(double now, double ttlSeconds) {
        transitions.clock(now);
        List<String> dead = workers.silentFor(now, ttlSeconds);
        for (String a : dead) {
            onRemoveWorker(a, "worker-ttl-" + now);
        }
        return dead;
    }

    public void onTaskFinished(String worker, Object key, long nbytes, byte[] type, String stimulusId) {
        onTaskFinished(worker, key, nbytes, type, Double.NaN, stimulusId);
    }

    /**
     * task-finished. {@code computeSeconds} is the task's compute time as the worker reports it
     * (its "compute" startstop; NaN if unknown): it sizes how many short tasks the worker may hold.
     */
    public void onTaskFinished(String worker, Object key, long nbytes, byte[] type, double computeSeconds,
                               String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = workers.get(worker);
        if (ws == null) {
            return;
        }
        if (computeSeconds >= 0 && !Double.isInfinite(computeSeconds)) {
            double mean = ws.meanComputeSeconds;
            ws.meanComputeSeconds = Double.isNaN(mean) ? computeSeconds : mean + 0.25 * (computeSeconds - mean);
            placement.updateFree(ws);
        }
        TaskState ts = tasks.get(key);
        if (ts == null || ts.status == TaskState.Status.ERRED || ts.status == TaskState.Status.RELEASED
                || ts.status == TaskState.Status.WAITING || ts.status == TaskState.Status.QUEUED
                || ts.status == TaskState.Status.NO_WORKER) {
            // A result nobody expects: tell the worker to drop it (Dask does the same).
            freeKeys.add(ws, key);
        } else if (ts.status == TaskState.Status.MEMORY) {
            transitions.addReplica(ts, ws, nbytes);
        } else { // PROCESSING, here or (after a reschedule) elsewhere
            transitions.processingToMemory(ts, ws, nbytes, interner.intern(type));
        }
        release.settle(stimulusId);
    }

    /**
     * task-erred. With retries left the task runs again; otherwise it and everything that depends on
     * it err, and clients that want any of them get the worker's exception and traceback.
     */
    public void onTaskErred(String worker, Object key, Object exception, Object traceback, String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = workers.get(worker);
        TaskState ts = tasks.get(key);
        if (ws != null && ts != null && ts.status == TaskState.Status.PROCESSING && ts.processingOn == ws) {
            if (ts.retries > 0) {
                ts.retries--;
                transitions.processingToReleased(ts, false);
                // The worker keeps the key in its error state until told to forget it (Dask frees it
                // on processing -> waiting); this free-keys goes out before any new compute-task.
                freeKeys.add(ws, key);
                transitions.recompute(ts);
            } else {
                transitions.processingToErred(ts, ws, exception, traceback);
            }
        }
        release.settle(stimulusId);
    }

    /** release-worker-data: the worker dropped its copy. */
    public void onReleaseWorkerData(String worker, Object key, String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = workers.get(worker);
        TaskState ts = tasks.get(key);
        if (ws == null || ts == null || !ws.hasWhat.remove(ts)) {
            return;
        }
        ws.nbytes -= Math.max(0, ts.nbytes);
        ts.removeHolder(ws);
        retirement.replicaDropped();
        if (ts.whoHas.length == 0 && ts.status == TaskState.Status.MEMORY) {
            List<TaskState> again = new ArrayList<>();
            transitions.dataLost(ts, again);
            transitions.recomputeNeeded(again);
        }
        release.settle(stimulusId);
    }

    /** add-keys: the worker now holds replicas (after fetching dependencies). */
    public void onAddKeys(String worker, Collection<?> keys, String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = workers.get(worker);
        if (ws == null) {
            return;
        }
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts != null && ts.status == TaskState.Status.MEMORY) {
                transitions.addReplica(ts, ws, ts.nbytes);
            } else {
                freeKeys.add(ws, key);
            }
        }
        release.settle(stimulusId);
    }

    /** long-running: the task seceded from its thread, so its slot is free for another task. */
    public void onLongRunning(String worker, Object key, String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = workers.get(worker);
        TaskState ts = tasks.get(key);
        if (ws != null && ts != null && ts.processingOn == ws && !ts.longRunning) {
            ts.longRunning = true;
            ws.longRunning++;
            placement.updateFree(ws);
        }
        release.settle(stimulusId);
    }

    /** reschedule: the worker gives the task back (distributed.Reschedule raised). */
    public void onReschedule(String worker, Object key, String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = workers.get(worker);
        TaskState ts = tasks.get(key);
        if (ws != null && ts != null && ts.processingOn == ws) {
            transitions.processingToReleased(ts, false);
            transitions.recompute(ts);
        }
        release.settle(stimulusId);
    }

    // ------------------------------------------------------------------------------------------
    // Work stealing (see Stealing)
    // ------------------------------------------------------------------------------------------

    /**
     * Timer (Dask's work-stealing-interval, 100 ms): asks saturated workers to give queued tasks to
     * idle ones (steal-request). Not called when work stealing is off.
     */
    public void onBalance(double now) {
        transitions.clock(now);
        stealing.balance("steal-" + (long) (now * 1000));
    }

    /** steal-response: the victim's state for a key asked for; a task not started moves to the thief. */
    public void onStealResponse(String worker, Object key, String state, String stimulusId) {
        transitions.begin(stimulusId);
        TaskState ts = tasks.get(key);
        Stealing.Answer a = stealing.answer(ts, worker, state, stimulusId);
        switch (a.outcome()) {
            case MOVE -> transitions.stolen(ts, a.thief());
            case RESCHEDULE -> {
                transitions.processingToReleased(ts, false);
                transitions.recompute(ts);
            }
            default -> {
            }
        }
        release.settle(stimulusId);
    }

    /** Steal requests not yet answered. */
    public int stealsInFlight() {
        return stealing.inFlightCount();
    }

    /** worker-status-change: a paused worker gets no new tasks until it runs again. */
    public void onWorkerStatusChange(String worker, String status, String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = workers.get(worker);
        if (ws == null) {
            return;
        }
        ws.running = "running".equals(status) && !ws.retiring;
        placement.updateFree(ws);
        if (ws.running) {
            transitions.retryUnrunnable();
        }
        release.settle(stimulusId);
    }

    // ------------------------------------------------------------------------------------------
    // Retirement (retire_workers): take workers out without losing data
    // ------------------------------------------------------------------------------------------

    /**
     * retire_workers: the named workers get no more tasks (status closing_gracefully, told to each
     * worker too), and every key that only retiring workers hold is copied to the running worker with
     * the least data (acquire-replicas; its add-keys confirms). Keys that appear on them later (tasks
     * that were running) are copied as well, while they remain retiring. Returns the addresses that
     * are registered workers; follow with {@link #retirementOutcome} after later events.
     */
    public List<String> onRetireWorkers(Collection<String> addresses, String stimulusId) {
        transitions.begin(stimulusId);
        List<String> known = retirement.retire(addresses, stimulusId);
        release.settle(stimulusId);
        return known;
    }

    public RetireOutcome retirementOutcome(String address) {
        return retirement.outcome(address);
    }

    /**
     * A retirement that cannot finish is called off: the worker keeps its data and gets back the status
     * it had before (running, or paused), as Dask's retire_workers does.
     */
    public void onRetirementAborted(String address, String stimulusId) {
        transitions.begin(stimulusId);
        WorkerState ws = retirement.abort(address, stimulusId);
        if (ws == null) {
            return;
        }
        if (ws.running) {
            transitions.retryUnrunnable();
        }
        release.settle(stimulusId);
    }

    /**
     * Timer while retirements are pending (Dask's active memory manager runs every 2 s): asks again for
     * every key still held by retiring workers alone, in case a recipient could not fetch it.
     */
    public void onRetirementTick(String stimulusId) {
        if (retirement.askAgain()) {
            transitions.begin(stimulusId);
            release.settle(stimulusId);
        }
    }

    /**
     * A retired worker leaves: like {@link #onRemoveWorker} except that the tasks it was still
     * running are rescheduled without counting as failures.
     */
    public void onRetiredWorkerRemoved(String address, String stimulusId) {
        removeWorker(address, true, stimulusId);
    }

    /**
     * Up to {@code n} running workers that could be retired at least cost: idle ones first, then
     * those holding the least data (Dask's workers_to_close, simplified). The base for scaling down.
     */
    public List<String> workersToClose(int n) {
        return retirement.workersToClose(n);
    }

    /** The read-only answers computed from this state (RPC replies, counts, a key's status). */
    public StateQueries queries() {
        return queries;
    }

    /** Throws IllegalStateException describing the first inconsistency found (see {@link StateValidator}). */
    public void validate() {
        validator.validate();
    }

    // Package-private views for tests in this package.

    TaskTable taskTable() {
        return tasks;
    }

    Map<String, WorkerState> workersByAddress() {
        return workers.byAddress();
    }

    Map<String, ClientState> clientsById() {
        return clients.byId();
    }

    Transitions transitionsForTest() {
        return transitions;
    }
}
