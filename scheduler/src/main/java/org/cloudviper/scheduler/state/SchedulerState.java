package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.CompactMap;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.pickle.Pickles;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The scheduler's state as a pure state machine: each public {@code on...} method is one event (a
 * Dask message, a connection change, a timer tick with the time inside it); it changes the state and
 * sends what follows through the {@link Outbox}. No I/O, threads or clocks here; one thread owns an
 * instance, so there are no locks.
 *
 * <p>Task lifecycle (distributed/scheduler.py, same names): released -> waiting -> queued ->
 * processing -> memory, with erred, no-worker and forgotten. Differences from Dask, on purpose:
 * every ready task without restrictions respects the worker-saturation cap (Dask 2022.12 caps only
 * root-ish tasks), and a freed slot is refilled within the same event, never on a timer.
 *
 * <p>Every event method ends with {@link #settle()}, which releases what nobody needs any more,
 * forgets it, fills free worker slots from the queue and sends batched free-keys.
 */
public final class SchedulerState {
    private final Outbox out;
    private final double saturation;
    private final double pipelineSeconds;
    private final int allowedFailures;

    private final TaskTable tasks = new TaskTable();
    /** The next {@link TaskState#id}. */
    private int nextTaskId;
    private final LinkedHashMap<String, WorkerState> workers = new LinkedHashMap<>();
    /** Workers being retired, and the recipient asked to fetch each key only they hold. */
    private final Set<WorkerState> retiring = new LinkedHashSet<>();
    private final Map<TaskState, WorkerState> replicating = new HashMap<>();
    /**
     * Whether a key may have become held by retiring workers alone since the last scan: set where that
     * can happen (a retirement starts, a replica lands on a retiring worker, a holder or recipient goes
     * away), so ordinary events do not rescan every retiring worker's keys.
     */
    private boolean retirementDirty;
    private final HashMap<String, ClientState> clients = new HashMap<>();
    private final LinkedHashMap<String, Dataset> datasets = new LinkedHashMap<>();

    /** Ready tasks waiting for a worker slot, best priority first; stale entries are skipped. */
    private final TaskQueue queue = new TaskQueue();
    /** Running workers with at least one free slot. */
    private final FreeWorkers withFreeSlots = new FreeWorkers();
    /** Ready tasks whose restrictions no current worker satisfies. */
    private final LinkedHashSet<TaskState> unrunnable = new LinkedHashSet<>();

    // Work deferred to settle(): candidates to release/forget, and free-keys batched per worker.
    private final ArrayDeque<TaskState> releaseCandidates = new ArrayDeque<>();
    private final LinkedHashMap<WorkerState, List<Object>> pendingFree = new LinkedHashMap<>();
    private String pendingFreeStimulus;

    /**
     * Erred tasks -> the worker that reported the error. A Dask worker keeps a key in its error state
     * (and answers a new compute-task for it with the old task-erred) until told free-keys, which
     * Dask's scheduler sends when the task leaves erred ({@code TaskState.erred_on},
     * transition_erred_released).
     */
    private final HashMap<TaskState, WorkerState> erredOn = new HashMap<>();

    /** Interned byte arrays (function pickles repeat for every task of a map; result types repeat). */
    private final HashMap<BytesKey, byte[]> interned = new HashMap<>();

    private long generation;
    private double generationTime = Double.NEGATIVE_INFINITY;
    private long nextRunId;
    private long transitions;

    /** A published dataset: its data (a pickled object the client made) and the keys it holds. */
    public record Dataset(List<Object> keys, SubObject data) {
    }

    /** A state with Dask's plain saturation cap (no pipelining of short tasks). */
    public SchedulerState(Outbox out, double workerSaturation, int allowedFailures) {
        this(out, workerSaturation, allowedFailures, 0);
    }

    /**
     * @param pipelineSeconds short tasks may be queued on a worker until each of its threads holds
     *                        about this much measured compute time (see {@link #slots}); 0 keeps
     *                        Dask's plain cap
     */
    public SchedulerState(Outbox out, double workerSaturation, int allowedFailures, double pipelineSeconds) {
        if (!(workerSaturation > 0)) {
            throw new IllegalArgumentException("worker saturation: " + workerSaturation + " (expected: > 0)");
        }
        if (!(pipelineSeconds >= 0) || Double.isInfinite(pipelineSeconds)) {
            throw new IllegalArgumentException("pipeline seconds: " + pipelineSeconds + " (expected: >= 0, finite)");
        }
        this.out = out;
        this.saturation = workerSaturation;
        this.allowedFailures = allowedFailures;
        this.pipelineSeconds = pipelineSeconds;
    }

    // ------------------------------------------------------------------------------------------
    // Clients
    // ------------------------------------------------------------------------------------------

    public void onAddClient(String client) {
        clients.computeIfAbsent(client, ClientState::new);
    }

    /** close-client, or the client's stream closed: everything it wanted is released. */
    public void onRemoveClient(String client, String stimulusId) {
        ClientState cs = clients.remove(client);
        if (cs == null) {
            return;
        }
        for (TaskState ts : cs.wants) {
            removeWanter(ts, cs);
        }
        cs.wants.clear();
        settle(stimulusId);
    }

    /** update-graph-hlg (2022) and update-graph (2024), already flattened by the server. */
    public void onUpdateGraph(GraphUpdate u) {
        pendingFreeStimulus = u.stimulusId();
        ClientState cs = client(u.client());
        if (u.now() - generationTime > u.fifoTimeout()) {
            generation++;
            generationTime = u.now();
        }
        tasks.reserve(u.tasks().size());
        List<TaskState> created = new ArrayList<>(u.tasks().size());
        List<List<Object>> createdDeps = new ArrayList<>(u.tasks().size());
        long[] createdOrder = u.clientOrder() ? new long[u.tasks().size()] : null;
        for (GraphUpdate.NewTask nt : u.tasks()) {
            // One probe: the new task goes in unless the key is known.
            TaskState fresh = newTask(nt.key());
            TaskState known = tasks.putIfAbsent(fresh);
            TaskState ts;
            if (known == null) {
                ts = fresh;
            } else if (known.spec == null && known.status == TaskState.Status.RELEASED
                    && known.dependencies.length == 0) {
                // A placeholder: a client or dataset wanted the key before its graph arrived (publish
                // RPCs can overtake the client's stream). It takes this spec, as Dask's update_graph
                // gives run_spec to known keys that have none.
                ts = known;
            } else {
                continue; // known key (or repeated in this graph): keep its state, as Dask does
            }
            createdDeps.add(nt.dependencies());
            if (createdOrder != null) {
                createdOrder[created.size()] = nt.order();
            }
            ts.spec = internSpec(nt.spec());
            applyOptions(ts, nt.options());
            ts.generation = generation;
            ts.order = -1;
            created.add(ts);
        }
        // Link dependencies; a task whose dependency is unknown cannot run (lost future).
        Set<TaskState> lost = null;
        for (int c = 0; c < created.size(); c++) {
            TaskState ts = created.get(c);
            List<Object> deps = createdDeps.get(c);
            if (deps.isEmpty()) {
                continue;
            }
            TaskState[] arr = new TaskState[deps.size()];
            int n = 0;
            for (Object dk : deps) {
                TaskState dep = tasks.get(dk);
                if (dep == null || dep == ts) {
                    if (dep == null) {
                        if (lost == null) {
                            lost = new HashSet<>();
                        }
                        lost.add(ts);
                    }
                    continue;
                }
                if (!contains(arr, n, dep)) {
                    arr[n++] = dep;
                }
            }
            ts.dependencies = n == arr.length ? arr : Arrays.copyOf(arr, n);
            for (TaskState dep : ts.dependencies) {
                dep.addDependent(ts);
            }
        }
        if (lost != null) {
            dropLostTasks(lost, cs);
        }
        if (u.clientOrder()) {
            long next = 0;
            for (int c = 0; c < created.size(); c++) {
                TaskState ts = created.get(c);
                long o = createdOrder[c];
                ts.order = o != GraphUpdate.NewTask.NO_ORDER ? o : next;
                next = Math.max(next, ts.order + 1);
            }
        } else {
            order(created);
        }
        List<TaskState> wanted = new ArrayList<>(u.wanted().size());
        // Clients list the wanted keys in the order of their tasks (map, submit, compute): try the
        // next created task before probing the table, a random memory access per key (not when lost
        // tasks were dropped from the table: the table alone says which tasks exist then).
        int guess = lost == null ? 0 : created.size();
        for (Object key : u.wanted()) {
            TaskState ts;
            if (guess < created.size() && Objects.equals(created.get(guess).key, key)) {
                ts = created.get(guess++);
            } else {
                ts = tasks.get(key);
            }
            if (ts == null) {
                continue;
            }
            addWanter(ts, cs);
            wanted.add(ts);
        }
        List<TaskState> toRun = new ArrayList<>(wanted.size());
        for (TaskState ts : wanted) {
            if (ts.status == TaskState.Status.RELEASED) {
                toRun.add(ts);
            } else {
                reportOnKey(ts, cs);
            }
        }
        recompute(toRun);
        // Tasks nobody needs (culled) are forgotten at once.
        releaseCandidates.addAll(created);
        settle(u.stimulusId());
    }

    public void onClientDesiresKeys(String client, Collection<?> keys, String stimulusId) {
        pendingFreeStimulus = stimulusId;
        ClientState cs = client(client);
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts == null) {
                // Dask creates a spec-less task (publish, queues); it can only become available by scatter.
                ts = newTask(key);
                tasks.putIfAbsent(ts);
            }
            addWanter(ts, cs);
            if (ts.status == TaskState.Status.RELEASED && ts.spec != null) {
                recompute(ts);
            } else {
                reportOnKey(ts, cs);
            }
        }
        settle(stimulusId);
    }

    public void onClientReleasesKeys(String client, Collection<?> keys, String stimulusId) {
        pendingFreeStimulus = stimulusId;
        ClientState cs = clients.get(client);
        if (cs == null) {
            return;
        }
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts != null && cs.wants.remove(ts)) {
                removeWanter(ts, cs);
            }
        }
        settle(stimulusId);
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
            out.toClient(client, new ToClient.CancelledKey(key));
        } else if (cs != null) {
            reportOnKey(ts, cs);
        }
    }

    /**
     * Client.cancel: the client stops wanting the keys and their dependents; keys nobody else wants (or
     * all, with {@code force}) are reported as cancelled and released, which stops them on workers.
     */
    public void onCancel(String client, Collection<?> keys, boolean force, String stimulusId) {
        pendingFreeStimulus = stimulusId;
        ClientState cs = clients.get(client);
        if (cs == null) {
            return;
        }
        ArrayDeque<TaskState> work = new ArrayDeque<>();
        Set<TaskState> seen = new HashSet<>();
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts != null && seen.add(ts)) {
                work.add(ts);
            }
        }
        while (!work.isEmpty()) {
            TaskState ts = work.poll();
            if (ts.whoWants == null) {
                continue;
            }
            boolean onlyThisClient = ts.whoWants == cs;
            if (force || onlyThisClient) {
                for (int i = 0; i < ts.dependentCount; i++) {
                    TaskState d = ts.dependents[i];
                    if (d.status != TaskState.Status.FORGOTTEN && seen.add(d)) {
                        work.add(d);
                    }
                }
                for (ClientState c : wanters(ts)) {
                    out.toClient(c.id, new ToClient.CancelledKey(ts.key));
                }
            }
            List<ClientState> releasing = force ? wanters(ts) : List.of(cs);
            for (ClientState c : releasing) {
                if (c.wants.remove(ts)) {
                    removeWanter(ts, c);
                }
            }
        }
        settle(stimulusId);
    }

    /**
     * Client.retry: erred keys and the erred tasks upstream of them are computed again. Returns every
     * key retried (Dask's reply to the retry RPC).
     */
    public List<Object> onRetry(String client, Collection<?> keys, String stimulusId) {
        ArrayDeque<TaskState> stack = new ArrayDeque<>();
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts != null) {
                stack.push(ts);
            }
        }
        LinkedHashSet<TaskState> seen = new LinkedHashSet<>();
        List<TaskState> roots = new ArrayList<>();
        while (!stack.isEmpty()) {
            TaskState ts = stack.pop();
            if (!seen.add(ts)) {
                continue;
            }
            boolean erredDeps = false;
            for (TaskState dep : ts.dependencies) {
                if (dep.status == TaskState.Status.ERRED) {
                    erredDeps = true;
                    stack.push(dep);
                }
            }
            if (!erredDeps && ts.status == TaskState.Status.ERRED) {
                roots.add(ts);
            }
        }
        // Clear the error on the roots and on everything downstream that erred because of them.
        ArrayDeque<TaskState> down = new ArrayDeque<>(roots);
        List<TaskState> cleared = new ArrayList<>();
        while (!down.isEmpty()) {
            TaskState ts = down.poll();
            if (ts.status != TaskState.Status.ERRED) {
                continue;
            }
            clearError(ts);
            setStatus(ts, TaskState.Status.RELEASED);
            cleared.add(ts);
            for (ClientState c : wanters(ts)) {
                out.toClient(c.id, new ToClient.TaskRetried(ts.key));
            }
            for (int i = 0; i < ts.dependentCount; i++) {
                down.add(ts.dependents[i]);
            }
        }
        List<TaskState> toRun = new ArrayList<>();
        for (TaskState ts : cleared) {
            if (ts.wanted() || ts.waiters > 0) {
                toRun.add(ts);
            }
        }
        recompute(toRun);
        releaseCandidates.addAll(cleared);
        settle(stimulusId);
        List<Object> result = new ArrayList<>(seen.size());
        for (TaskState ts : seen) {
            result.add(ts.key);
        }
        return result;
    }

    /**
     * Data the server placed on workers with update_data (Client.scatter): the keys are in memory where
     * {@code whoHas} says, and the client wants them.
     */
    public void onScattered(String client, Map<Object, List<String>> whoHas, Map<Object, Long> nbytes,
                            String stimulusId) {
        ClientState cs = client(client);
        for (Map.Entry<Object, List<String>> e : whoHas.entrySet()) {
            TaskState ts = tasks.get(e.getKey());
            if (ts == null) {
                ts = newTask(e.getKey());
                tasks.putIfAbsent(ts);
            }
            long nb = nbytes.getOrDefault(e.getKey(), 0L);
            boolean placed = false;
            for (String addr : e.getValue()) {
                WorkerState ws = workers.get(addr);
                if (ws != null) {
                    addReplica(ts, ws, nb);
                    placed = true;
                }
            }
            if (placed && ts.status != TaskState.Status.MEMORY) {
                scatteredOver(ts);
                becameMemory(ts);
            }
            addWanter(ts, cs);
            reportOnKey(ts, cs);
        }
        settle(stimulusId);
    }

    /**
     * Client.scatter with explicit keys can name a key that is being computed or has erred; the data
     * wins (Dask's update_data sets the state to memory). A worker that received the data took it over
     * (its update_data turns an executing or erred key into memory), so only other workers are told
     * to forget their run or error.
     */
    private void scatteredOver(TaskState ts) {
        if (ts.status == TaskState.Status.PROCESSING) {
            WorkerState on = ts.processingOn;
            removeProcessing(ts);
            if (!contains(ts.whoHas, on)) {
                freeOn(on, ts.key, pendingFreeStimulus);
            }
        } else if (ts.status == TaskState.Status.ERRED) {
            WorkerState on = erredOn.get(ts);
            if (on != null && contains(ts.whoHas, on)) {
                erredOn.remove(ts);
            }
            clearError(ts);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Published datasets (publish_put / publish_get / publish_delete / publish_list)
    // ------------------------------------------------------------------------------------------

    /**
     * Keeps {@code data} (retained) and makes the dataset want its keys, like Dask's
     * {@code published-<name>} pseudo-client. Returns false if the name exists and not override.
     */
    public boolean onPublishPut(String name, List<Object> keys, SubObject data, boolean override, String stimulusId) {
        if (datasets.containsKey(name) && !override) {
            return false;
        }
        Dataset old = datasets.put(name, new Dataset(List.copyOf(keys), data == null ? null : (SubObject) data.retain()));
        // Want the new keys before letting go of the old ones: a key in both must not be released (and
        // forgotten, if nobody else wants it) in between. Dask's put only adds the new keys.
        onClientDesiresKeys(datasetClient(name), keys, stimulusId);
        if (old != null) {
            if (old.data() != null) {
                old.data().release();
            }
            List<Object> dropped = new ArrayList<>(old.keys());
            dropped.removeAll(new HashSet<>(keys));
            onClientReleasesKeys(datasetClient(name), dropped, stimulusId);
        }
        return true;
    }

    public Dataset dataset(String name) {
        return datasets.get(name);
    }

    public List<String> datasetNames() {
        return new ArrayList<>(datasets.keySet());
    }

    public void onPublishDelete(String name, String stimulusId) {
        Dataset d = datasets.remove(name);
        if (d == null) {
            return;
        }
        if (d.data() != null) {
            d.data().release();
        }
        onClientReleasesKeys(datasetClient(name), d.keys(), stimulusId);
        clients.remove(datasetClient(name));
    }

    private static String datasetClient(String name) {
        return "published-" + name;
    }

    // ------------------------------------------------------------------------------------------
    // Workers
    // ------------------------------------------------------------------------------------------

    /** register-worker. Returns null on success or the error Dask would send (duplicate name). */
    public String onAddWorker(WorkerRegistration r) {
        if (workers.containsKey(r.address())) {
            return "Worker at " + r.address() + " is already registered";
        }
        for (WorkerState other : workers.values()) {
            if (other.name.equals(r.name())) {
                return "name taken, " + r.name();
            }
        }
        WorkerState ws = new WorkerState(r.address(), r.name(), Math.max(1, r.nthreads()), r.memoryLimit(),
                r.resources() == null ? Map.of() : Map.copyOf(r.resources()), r.daskGeneration(), r.now());
        workers.put(ws.address, ws);
        updateFree(ws);
        retryUnrunnable();
        settle("add-worker");
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
        pendingFreeStimulus = stimulusId;
        WorkerState ws = workers.remove(address);
        if (ws == null) {
            return;
        }
        withFreeSlots.remove(ws);
        pendingFree.remove(ws);
        retiring.remove(ws);
        replicating.values().removeIf(to -> to == ws); // those keys get another recipient at settle
        retirementDirty = !retiring.isEmpty();
        List<TaskState> toRecompute = new ArrayList<>();
        for (TaskState ts : new ArrayList<>(ws.processing)) {
            ts.processingOn = null;
            ts.longRunning = false;
            if (!safe && !ws.retiring) { // a retiring worker that leaves (closing gracefully) was not lost
                ts.suspicious++;
            }
            if (ts.suspicious > allowedFailures) {
                setStatus(ts, TaskState.Status.RELEASED);
                byte[] exc = Pickles.call("distributed.scheduler", "KilledWorker",
                        "Attempted to run task " + ts.key + " on " + ts.suspicious
                                + " different workers, but all those workers died while running it. The last"
                                + " worker that attempt to run the task was " + address + ".");
                markErred(ts, exc, null);
            } else {
                setStatus(ts, TaskState.Status.RELEASED);
                toRecompute.add(ts);
            }
        }
        ws.processing.clear();
        for (TaskState ts : ws.hasWhat) {
            ts.whoHas = without(ts.whoHas, ws);
            if (ts.whoHas.length == 0 && ts.status == TaskState.Status.MEMORY) {
                lost(ts, toRecompute);
            }
        }
        ws.hasWhat.clear();
        recomputeNeeded(toRecompute);
        settle(stimulusId);
    }

    /** heartbeat_worker. Returns false if the worker is unknown (Dask replies "missing"). */
    public boolean onHeartbeat(String address, double now) {
        WorkerState ws = workers.get(address);
        if (ws == null) {
            return false;
        }
        ws.lastSeen = now;
        return true;
    }

    /** Timer: removes workers that have not been heard of for longer than {@code ttlSeconds}. */
    public List<String> onTick(double now, double ttlSeconds) {
        List<String> dead = new ArrayList<>();
        for (WorkerState ws : workers.values()) {
            if (now - ws.lastSeen > ttlSeconds) {
                dead.add(ws.address);
            }
        }
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
        pendingFreeStimulus = stimulusId;
        WorkerState ws = workers.get(worker);
        if (ws == null) {
            return;
        }
        if (computeSeconds >= 0 && !Double.isInfinite(computeSeconds)) {
            double mean = ws.meanComputeSeconds;
            ws.meanComputeSeconds = Double.isNaN(mean) ? computeSeconds : mean + 0.25 * (computeSeconds - mean);
            updateFree(ws);
        }
        TaskState ts = tasks.get(key);
        if (ts == null || ts.status == TaskState.Status.ERRED || ts.status == TaskState.Status.RELEASED
                || ts.status == TaskState.Status.WAITING || ts.status == TaskState.Status.QUEUED
                || ts.status == TaskState.Status.NO_WORKER) {
            // A result nobody expects: tell the worker to drop it (Dask does the same).
            freeOn(ws, key, stimulusId);
        } else if (ts.status == TaskState.Status.MEMORY) {
            addReplica(ts, ws, nbytes);
        } else { // PROCESSING, here or (after a reschedule) elsewhere
            WorkerState on = ts.processingOn;
            removeProcessing(ts);
            if (on != ws) {
                freeOn(on, key, stimulusId);
            }
            ts.type = type == null ? null : intern(type);
            addReplica(ts, ws, nbytes);
            becameMemory(ts);
        }
        settle(stimulusId);
    }

    /**
     * task-erred. With retries left the task runs again; otherwise it and everything that depends on
     * it err, and clients that want any of them get the worker's exception and traceback.
     */
    public void onTaskErred(String worker, Object key, Object exception, Object traceback, String stimulusId) {
        pendingFreeStimulus = stimulusId;
        WorkerState ws = workers.get(worker);
        TaskState ts = tasks.get(key);
        if (ws == null || ts == null || ts.status != TaskState.Status.PROCESSING || ts.processingOn != ws) {
            settle(stimulusId);
            return;
        }
        removeProcessing(ts);
        setStatus(ts, TaskState.Status.RELEASED);
        if (ts.retries > 0) {
            ts.retries--;
            // The worker keeps the key in its error state until told to forget it (Dask frees it
            // on processing -> waiting); sendToWorker sends this free-keys before any new compute-task.
            freeOn(ws, key, stimulusId);
            recompute(ts);
        } else {
            markErred(ts, exception, traceback);
            erredOn.put(ts, ws);
        }
        settle(stimulusId);
    }

    /** release-worker-data: the worker dropped its copy. */
    public void onReleaseWorkerData(String worker, Object key, String stimulusId) {
        WorkerState ws = workers.get(worker);
        TaskState ts = tasks.get(key);
        if (ws == null || ts == null || !ws.hasWhat.remove(ts)) {
            return;
        }
        ws.nbytes -= Math.max(0, ts.nbytes);
        ts.whoHas = without(ts.whoHas, ws);
        retirementDirty |= !retiring.isEmpty();
        if (ts.whoHas.length == 0 && ts.status == TaskState.Status.MEMORY) {
            List<TaskState> again = new ArrayList<>();
            lost(ts, again);
            recomputeNeeded(again);
        }
        settle(stimulusId);
    }

    /** add-keys: the worker now holds replicas (after fetching dependencies). */
    public void onAddKeys(String worker, Collection<?> keys, String stimulusId) {
        WorkerState ws = workers.get(worker);
        if (ws == null) {
            return;
        }
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts != null && ts.status == TaskState.Status.MEMORY) {
                addReplica(ts, ws, ts.nbytes);
            } else {
                freeOn(ws, key, stimulusId);
            }
        }
        settle(stimulusId);
    }

    /** long-running: the task seceded from its thread, so its slot is free for another task. */
    public void onLongRunning(String worker, Object key, String stimulusId) {
        WorkerState ws = workers.get(worker);
        TaskState ts = tasks.get(key);
        if (ws != null && ts != null && ts.processingOn == ws && !ts.longRunning) {
            ts.longRunning = true;
            ws.longRunning++;
            updateFree(ws);
        }
        settle(stimulusId);
    }

    /** reschedule: the worker gives the task back (distributed.Reschedule raised). */
    public void onReschedule(String worker, Object key, String stimulusId) {
        WorkerState ws = workers.get(worker);
        TaskState ts = tasks.get(key);
        if (ws != null && ts != null && ts.processingOn == ws) {
            removeProcessing(ts);
            setStatus(ts, TaskState.Status.RELEASED);
            recompute(ts);
        }
        settle(stimulusId);
    }

    /** worker-status-change: a paused worker gets no new tasks until it runs again. */
    public void onWorkerStatusChange(String worker, String status, String stimulusId) {
        WorkerState ws = workers.get(worker);
        if (ws == null) {
            return;
        }
        ws.running = "running".equals(status) && !ws.retiring;
        updateFree(ws);
        if (ws.running) {
            retryUnrunnable();
        }
        settle(stimulusId);
    }

    // ------------------------------------------------------------------------------------------
    // Retirement (retire_workers): take workers out without losing data
    // ------------------------------------------------------------------------------------------

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

    /**
     * retire_workers: the named workers get no more tasks (status closing_gracefully, told to each
     * worker too), and every key that only retiring workers hold is copied to the running worker with
     * the least data (acquire-replicas; its add-keys confirms). Keys that appear on them later (tasks
     * that were running) are copied as well, while they remain retiring. Returns the addresses that
     * are registered workers; follow with {@link #retirementOutcome} after later events.
     */
    public List<String> onRetireWorkers(Collection<String> addresses, String stimulusId) {
        List<String> known = new ArrayList<>();
        for (String a : addresses) {
            WorkerState ws = workers.get(a);
            if (ws == null || known.contains(a)) {
                continue;
            }
            known.add(a);
            if (retiring.add(ws)) {
                ws.retiring = true;
                ws.noRecipients = false;
                ws.pausedBeforeRetiring = !ws.running;
                ws.running = false;
                updateFree(ws);
                out.toWorker(a, new ToWorker.StatusChange("closing_gracefully", stimulusId));
            }
        }
        retirementDirty = !retiring.isEmpty();
        settle(stimulusId);
        return known;
    }

    public RetireOutcome retirementOutcome(String address) {
        WorkerState ws = workers.get(address);
        if (ws == null) {
            return RetireOutcome.GONE;
        }
        if (!ws.retiring || ws.noRecipients) {
            return RetireOutcome.ABORTED;
        }
        for (TaskState ts : ws.hasWhat) {
            if (!heldOutsideRetiring(ts)) {
                return RetireOutcome.PENDING;
            }
        }
        return RetireOutcome.READY;
    }

    /**
     * A retirement that cannot finish is called off: the worker keeps its data and gets back the status
     * it had before (running, or paused), as Dask's retire_workers does.
     */
    public void onRetirementAborted(String address, String stimulusId) {
        WorkerState ws = workers.get(address);
        if (ws == null || !ws.retiring) {
            return;
        }
        retiring.remove(ws);
        ws.retiring = false;
        ws.noRecipients = false;
        ws.running = !ws.pausedBeforeRetiring;
        replicating.entrySet().removeIf(e -> e.getKey().whoHas.length > 0 && Arrays.asList(e.getKey().whoHas)
                .contains(ws));
        updateFree(ws);
        retirementDirty = !retiring.isEmpty();
        out.toWorker(address, new ToWorker.StatusChange(ws.running ? "running" : "paused", stimulusId));
        if (ws.running) {
            retryUnrunnable();
        }
        settle(stimulusId);
    }

    /**
     * Timer while retirements are pending (Dask's active memory manager runs every 2 s): asks again for
     * every key still held by retiring workers alone, in case a recipient could not fetch it.
     */
    public void onRetirementTick(String stimulusId) {
        if (retiring.isEmpty()) {
            return;
        }
        replicating.clear();
        retirementDirty = true;
        settle(stimulusId);
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
        List<WorkerState> candidates = new ArrayList<>();
        for (WorkerState ws : workers.values()) {
            if (!ws.retiring) {
                candidates.add(ws);
            }
        }
        candidates.sort((a, b) -> a.processing.isEmpty() != b.processing.isEmpty()
                ? (a.processing.isEmpty() ? -1 : 1) : Long.compare(a.nbytes, b.nbytes));
        List<String> r = new ArrayList<>();
        for (int i = 0; i < Math.min(n, candidates.size()); i++) {
            r.add(candidates.get(i).address);
        }
        return r;
    }

    private boolean heldOutsideRetiring(TaskState ts) {
        for (WorkerState w : ts.whoHas) {
            if (!w.retiring) {
                return true;
            }
        }
        return false;
    }

    /** Asks recipients for every key that only retiring workers hold and nobody is fetching yet. */
    private void replicateOffRetiring(String stimulusId) {
        Map<WorkerState, Long> planned = new HashMap<>();
        Map<WorkerState, Map<Object, List<String>>> asks = new LinkedHashMap<>();
        Map<WorkerState, Map<Object, Long>> sizes = new HashMap<>();
        for (WorkerState ws : retiring) {
            if (ws.noRecipients) {
                continue;
            }
            for (TaskState ts : ws.hasWhat) {
                if (ts.status != TaskState.Status.MEMORY || heldOutsideRetiring(ts) || replicating.containsKey(ts)) {
                    continue;
                }
                WorkerState to = null;
                for (WorkerState w : workers.values()) {
                    if (w.running && !w.retiring && (to == null
                            || w.nbytes + planned.getOrDefault(w, 0L) < to.nbytes + planned.getOrDefault(to, 0L))) {
                        to = w;
                    }
                }
                if (to == null) {
                    ws.noRecipients = true;
                    break;
                }
                planned.merge(to, Math.max(0, ts.nbytes), Long::sum);
                replicating.put(ts, to);
                List<String> holders = new ArrayList<>(ts.whoHas.length);
                for (WorkerState h : ts.whoHas) {
                    holders.add(h.address);
                }
                asks.computeIfAbsent(to, w -> new LinkedHashMap<>()).put(ts.key, holders);
                sizes.computeIfAbsent(to, w -> new LinkedHashMap<>()).put(ts.key, Math.max(0, ts.nbytes));
            }
        }
        for (Map.Entry<WorkerState, Map<Object, List<String>>> e : asks.entrySet()) {
            out.toWorker(e.getKey().address, new ToWorker.AcquireReplicas(e.getValue(), sizes.get(e.getKey()),
                    stimulusId));
        }
        if (retiring.isEmpty()) {
            replicating.clear();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Queries (RPC replies computed from the state)
    // ------------------------------------------------------------------------------------------

    /** who_has: key -> addresses; {@code keys == null} means every key in memory. */
    public Map<Object, List<String>> whoHas(Collection<?> keys) {
        Map<Object, List<String>> r = new LinkedHashMap<>();
        if (keys == null) {
            for (TaskState ts : tasks.values()) {
                if (ts.status == TaskState.Status.MEMORY || ts.status == TaskState.Status.ERRED) {
                    r.put(ts.key, addresses(ts.whoHas));
                }
            }
        } else {
            for (Object k : keys) {
                TaskState ts = tasks.get(k);
                r.put(k, ts == null ? List.of() : addresses(ts.whoHas));
            }
        }
        return r;
    }

    /** has_what: address -> keys; {@code workers == null} means all. */
    public Map<String, List<Object>> hasWhat(Collection<?> addresses) {
        Map<String, List<Object>> r = new LinkedHashMap<>();
        for (WorkerState ws : selectWorkers(addresses)) {
            List<Object> keys = new ArrayList<>(ws.hasWhat.size());
            for (TaskState ts : ws.hasWhat) {
                keys.add(ts.key);
            }
            r.put(ws.address, keys);
        }
        return r;
    }

    /** ncores: address -> threads; {@code runningOnly} for ncores_running. */
    public Map<String, Long> ncores(Collection<?> addresses, boolean runningOnly) {
        Map<String, Long> r = new LinkedHashMap<>();
        for (WorkerState ws : selectWorkers(addresses)) {
            if (!runningOnly || ws.running) {
                r.put(ws.address, (long) ws.nthreads);
            }
        }
        return r;
    }

    /**
     * Where scatter puts each of {@code count} values: running workers (optionally only those named),
     * round robin weighted by threads, as distributed.utils_comm.scatter_to_workers does. Empty if
     * no worker can take data.
     */
    public List<String> scatterTargets(int count, Collection<?> allowed) {
        List<String> slots = new ArrayList<>();
        for (WorkerState ws : workers.values()) {
            if (ws.running && (allowed == null || allowed.contains(ws.address) || allowed.contains(ws.name))) {
                for (int i = 0; i < ws.nthreads; i++) {
                    slots.add(ws.address);
                }
            }
        }
        List<String> r = new ArrayList<>(count);
        if (slots.isEmpty()) {
            return r;
        }
        int start = (int) (scatterCounter % slots.size());
        for (int i = 0; i < count; i++) {
            r.add(slots.get((start + i) % slots.size()));
        }
        scatterCounter += count;
        return r;
    }

    private long scatterCounter;

    public boolean hasWorker(String address) {
        return workers.containsKey(address);
    }

    public int workerCount() {
        return workers.size();
    }

    public List<String> workerAddresses() {
        return new ArrayList<>(workers.keySet());
    }

    public int taskCount() {
        return tasks.size();
    }

    public int clientCount() {
        return clients.size();
    }

    /** Dask's name for the key's state ("memory", "processing", ...), or null if forgotten. */
    public String taskStatus(Object key) {
        TaskState ts = tasks.get(key);
        return ts == null ? null : ts.status.daskName;
    }

    /** Number of state transitions so far (for benchmarks). */
    public long transitions() {
        return transitions;
    }

    /**
     * A copy of the workers and the task counts for readers off the state's thread (dashboard, metrics,
     * scaler); with {@code groups} also the counts per task prefix. Walks every task: O(tasks).
     */
    public ClusterSummary summary(boolean groups) {
        return Summaries.of(workers.values(), tasks.values(), clients.size(), transitions, groups);
    }

    /** Tasks in each state (for logs and tests). */
    public Map<String, Integer> statusCounts() {
        Map<String, Integer> r = new java.util.TreeMap<>();
        for (TaskState ts : tasks.values()) {
            r.merge(ts.status.daskName, 1, Integer::sum);
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------
    // Transitions
    // ------------------------------------------------------------------------------------------

    private void setStatus(TaskState ts, TaskState.Status s) {
        boolean before = ts.needsInputs();
        ts.status = s;
        transitions++;
        boolean after = ts.needsInputs();
        if (before != after) {
            for (TaskState dep : ts.dependencies) {
                if (after) {
                    dep.waiters++;
                } else {
                    dep.waiters--;
                    if (dep.waiters == 0) {
                        releaseCandidates.add(dep);
                    }
                }
            }
        }
    }

    private void recompute(TaskState root) {
        recompute(List.of(root));
    }

    /**
     * Brings released tasks that are needed back to work: each becomes waiting on its missing inputs,
     * which are recomputed in turn; tasks whose inputs are all in memory are scheduled, best priority
     * first. Dask sorts an update's runnable tasks by priority before recommending them, so with more
     * ready tasks than free slots the first slots go to the best tasks, not to whichever key the
     * client listed first (update_graph: {@code sorted(runnables, key=priority)}).
     */
    private void recompute(Collection<TaskState> roots) {
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
            if (ts.status != TaskState.Status.RELEASED) {
                continue;
            }
            if (ts.spec == null) {
                // Scattered data that was lost cannot be recomputed.
                markErred(ts, "Data for key " + ts.key + " was lost with the worker holding it and"
                        + " cannot be recomputed (it was scattered, not computed)", null);
                continue;
            }
            setStatus(ts, TaskState.Status.WAITING);
            int missing = 0;
            TaskState erredDep = null;
            for (TaskState dep : ts.dependencies) {
                if (dep.status == TaskState.Status.MEMORY) {
                    continue;
                }
                if (dep.status == TaskState.Status.ERRED) {
                    erredDep = dep;
                }
                missing++;
                if (dep.status == TaskState.Status.RELEASED) {
                    work.push(dep);
                }
            }
            ts.waitingOn = missing;
            if (erredDep != null) {
                if (blamed == null) {
                    blamed = new ArrayList<>();
                }
                blamed.add(ts);
                ts.exceptionBlame = erredDep;
            } else if (missing == 0) {
                ready.add(ts);
            }
        }
        if (blamed != null) {
            for (TaskState ts : blamed) {
                TaskState dep = ts.exceptionBlame;
                if (ts.status == TaskState.Status.WAITING && dep.status == TaskState.Status.ERRED) {
                    setStatus(ts, TaskState.Status.RELEASED);
                    markErred(ts, dep.exception, dep.traceback);
                }
            }
        }
        // A dependency that turned erred above may have changed these; schedule what is still ready.
        if (ready.size() > 1) {
            ready.sort(TaskState::comparePriority);
        }
        for (TaskState ts : ready) {
            if (ts.status == TaskState.Status.WAITING && ts.waitingOn == 0) {
                scheduleReady(ts);
            }
        }
    }

    /** Recomputes the released tasks someone still needs; the others become release candidates. */
    private void recomputeNeeded(List<TaskState> candidates) {
        List<TaskState> toRun = new ArrayList<>();
        for (TaskState ts : candidates) {
            if (ts.status == TaskState.Status.RELEASED && (ts.wanted() || ts.waiters > 0)) {
                toRun.add(ts);
            } else {
                releaseCandidates.add(ts);
            }
        }
        recompute(toRun);
    }

    /** A waiting task whose inputs are all in memory: to a worker now, or to the queue. */
    private void scheduleReady(TaskState ts) {
        if (ts.hasRestrictions()) {
            WorkerState ws = pickRestricted(ts);
            if (ws == null) {
                setStatus(ts, TaskState.Status.NO_WORKER);
                unrunnable.add(ts);
            } else {
                sendToWorker(ts, ws);
            }
            return;
        }
        WorkerState ws = pickFree(ts);
        if (ws == null) {
            setStatus(ts, TaskState.Status.QUEUED);
            if (!ts.inQueue) {
                ts.inQueue = true;
                queue.add(ts);
            }
        } else {
            sendToWorker(ts, ws);
        }
    }

    private void sendToWorker(TaskState ts, WorkerState ws) {
        List<Object> toFree = pendingFree.remove(ws);
        if (toFree != null) {
            // A key freed and assigned again within one event: the worker must forget it first.
            out.toWorker(ws.address, new ToWorker.FreeKeys(toFree, pendingFreeStimulus == null ? "reassign-" + ts.key : pendingFreeStimulus));
        }
        setStatus(ts, TaskState.Status.PROCESSING);
        ts.processingOn = ws;
        ws.processing.add(ts);
        updateFree(ws);
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
                whoHas.put(dep.key, addresses(dep.whoHas));
                nbytes.put(dep.key, Math.max(0, dep.nbytes));
            }
        }
        Map<String, Object> resources = ts.resourceRestrictions == null ? Map.of() : new LinkedHashMap<>(ts.resourceRestrictions);
        out.toWorker(ws.address, new ToWorker.ComputeTask(ts.key, ts.runId,
                new long[]{ts.negUserPriority, ts.generation, ts.order}, 0.5, computeStimulus(),
                whoHas, nbytes, ts.spec, resources, ts.annotations));
    }

    private void becameMemory(TaskState ts) {
        setStatus(ts, TaskState.Status.MEMORY);
        ts.suspicious = 0;
        unrunnable.remove(ts);
        if (ts.whoWants instanceof ClientState only) { // the common case, without a list per task
            out.toClient(only.id, new ToClient.KeyInMemory(ts.key, ts.type));
        } else if (ts.whoWants != null) {
            for (ClientState c : wanters(ts)) {
                out.toClient(c.id, new ToClient.KeyInMemory(ts.key, ts.type));
            }
        }
        for (int i = 0; i < ts.dependentCount; i++) {
            TaskState d = ts.dependents[i];
            if (d.status == TaskState.Status.WAITING && --d.waitingOn == 0) {
                scheduleReady(d);
            }
        }
        releaseCandidates.add(ts);
    }

    /**
     * A task's only copy is gone: it goes back to released; dependents that were about to run on it
     * are pulled back to waiting; clients are told ({@code lost-data}). The caller recomputes the
     * tasks added to {@code again} that are still needed.
     */
    private void lost(TaskState ts, List<TaskState> again) {
        setStatus(ts, TaskState.Status.RELEASED);
        for (ClientState c : wanters(ts)) {
            out.toClient(c.id, new ToClient.LostData(ts.key));
        }
        for (int i = 0; i < ts.dependentCount; i++) {
            TaskState d = ts.dependents[i];
            switch (d.status) {
                case WAITING -> d.waitingOn++;
                case PROCESSING -> {
                    WorkerState on = d.processingOn;
                    removeProcessing(d);
                    freeOn(on, d.key, "lost-dependency");
                    setStatus(d, TaskState.Status.RELEASED);
                    again.add(d);
                }
                case QUEUED, NO_WORKER -> {
                    unrunnable.remove(d);
                    setStatus(d, TaskState.Status.RELEASED);
                    again.add(d);
                }
                default -> {
                }
            }
        }
        again.add(ts);
    }

    /** {@code ts} (currently released) and every dependent that waits on it err with this error. */
    private void markErred(TaskState root, Object exception, Object traceback) {
        ArrayDeque<TaskState> work = new ArrayDeque<>();
        work.add(root);
        while (!work.isEmpty()) {
            TaskState ts = work.poll();
            if (ts.status == TaskState.Status.ERRED || ts.status == TaskState.Status.FORGOTTEN) {
                continue;
            }
            if (ts.status == TaskState.Status.PROCESSING) {
                WorkerState on = ts.processingOn;
                removeProcessing(ts);
                freeOn(on, ts.key, "erred-dependency");
            }
            unrunnable.remove(ts);
            setStatus(ts, TaskState.Status.ERRED);
            ts.exception = retain(exception);
            ts.traceback = retain(traceback);
            ts.exceptionBlame = root;
            for (ClientState c : wanters(ts)) {
                out.toClient(c.id, new ToClient.TaskErred(ts.key, exception, traceback));
            }
            for (int i = 0; i < ts.dependentCount; i++) {
                TaskState d = ts.dependents[i];
                if (d.needsInputs() || d.status == TaskState.Status.RELEASED && (d.wanted() || d.waiters > 0)) {
                    work.add(d);
                }
            }
            releaseCandidates.add(ts);
        }
    }

    private void clearError(TaskState ts) {
        WorkerState on = erredOn.remove(ts);
        if (on != null && workers.get(on.address) == on) {
            freeOn(on, ts.key, pendingFreeStimulus);
        }
        release(ts.exception);
        release(ts.traceback);
        ts.exception = null;
        ts.traceback = null;
        ts.exceptionBlame = null;
    }

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
        updateFree(ws);
    }

    private void addReplica(TaskState ts, WorkerState ws, long nbytes) {
        if (nbytes >= 0 && nbytes != ts.nbytes) {
            // Holders counted the old size; move them to the new one (Dask TaskState.set_nbytes).
            long diff = nbytes - Math.max(0, ts.nbytes);
            for (WorkerState w : ts.whoHas) {
                w.nbytes += diff;
            }
            ts.nbytes = nbytes;
        }
        if (ws.hasWhat.add(ts)) {
            if (replicating.get(ts) == ws) {
                replicating.remove(ts);
            }
            if (ws.retiring) {
                retirementDirty = true; // a result of a task that was still running there
            }
            ws.nbytes += Math.max(0, ts.nbytes);
            WorkerState[] w = Arrays.copyOf(ts.whoHas, ts.whoHas.length + 1);
            w[w.length - 1] = ws;
            ts.whoHas = w;
        }
    }

    /** Sends the current state of {@code ts} to one client (after it asked for the key). */
    private void reportOnKey(TaskState ts, ClientState cs) {
        if (ts.status == TaskState.Status.MEMORY) {
            out.toClient(cs.id, new ToClient.KeyInMemory(ts.key, ts.type));
        } else if (ts.status == TaskState.Status.ERRED) {
            out.toClient(cs.id, new ToClient.TaskErred(ts.key, ts.exception, ts.traceback));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Releasing and forgetting
    // ------------------------------------------------------------------------------------------

    /**
     * Ends an event: releases and forgets what nobody needs, refills free worker slots from the queue,
     * and sends the free-keys gathered on the way, one message per worker.
     */
    private void settle(String stimulusId) {
        pendingFreeStimulus = stimulusId;
        drainReleases();
        fillSlots();
        drainReleases();
        if (retirementDirty) {
            retirementDirty = false;
            replicateOffRetiring(stimulusId);
        }
        if (!pendingFree.isEmpty()) {
            for (Map.Entry<WorkerState, List<Object>> e : pendingFree.entrySet()) {
                out.toWorker(e.getKey().address, new ToWorker.FreeKeys(e.getValue(), stimulusId));
            }
            pendingFree.clear();
        }
    }

    private void drainReleases() {
        TaskState ts;
        while ((ts = releaseCandidates.poll()) != null) {
            if (ts.wanted() || ts.waiters > 0) {
                continue;
            }
            switch (ts.status) {
                case MEMORY -> {
                    for (WorkerState ws : ts.whoHas) {
                        ws.hasWhat.remove(ts);
                        ws.nbytes -= Math.max(0, ts.nbytes);
                        freeOn(ws, ts.key, pendingFreeStimulus);
                    }
                    ts.whoHas = TaskState.NOWHERE;
                    setStatus(ts, TaskState.Status.RELEASED);
                    maybeForget(ts);
                }
                case PROCESSING -> {
                    WorkerState on = ts.processingOn;
                    removeProcessing(ts);
                    freeOn(on, ts.key, pendingFreeStimulus);
                    setStatus(ts, TaskState.Status.RELEASED);
                    maybeForget(ts);
                }
                case WAITING, QUEUED, NO_WORKER -> {
                    unrunnable.remove(ts);
                    setStatus(ts, TaskState.Status.RELEASED);
                    maybeForget(ts);
                }
                case RELEASED, ERRED -> maybeForget(ts);
                default -> {
                }
            }
        }
    }

    private void maybeForget(TaskState ts) {
        if (ts.wanted() || ts.liveDependents > 0
                || (ts.status != TaskState.Status.RELEASED && ts.status != TaskState.Status.ERRED)) {
            return;
        }
        if (ts.status == TaskState.Status.ERRED) {
            setStatus(ts, TaskState.Status.RELEASED);
        }
        clearError(ts);
        ts.status = TaskState.Status.FORGOTTEN;
        transitions++;
        tasks.remove(ts.key);
        releaseSpec(ts.spec);
        ts.spec = null;
        for (TaskState dep : ts.dependencies) {
            dep.liveDependents--;
            if (dep.liveDependents == 0) {
                releaseCandidates.add(dep);
            }
        }
    }

    private void dropLostTasks(Set<TaskState> lost, ClientState cs) {
        // Everything downstream of a task with a missing dependency is lost as well.
        ArrayDeque<TaskState> work = new ArrayDeque<>(lost);
        while (!work.isEmpty()) {
            TaskState ts = work.poll();
            for (int i = 0; i < ts.dependentCount; i++) {
                if (lost.add(ts.dependents[i])) {
                    work.add(ts.dependents[i]);
                }
            }
        }
        for (TaskState ts : lost) {
            tasks.remove(ts.key);
            ts.status = TaskState.Status.FORGOTTEN;
            releaseSpec(ts.spec);
            ts.spec = null;
            for (TaskState dep : ts.dependencies) {
                if (!lost.contains(dep)) {
                    dep.liveDependents--;
                    releaseCandidates.add(dep);
                }
            }
            out.toClient(cs.id, new ToClient.CancelledKey(ts.key));
        }
    }

    private void freeOn(WorkerState ws, Object key, String stimulusId) {
        if (ws == null || !workers.containsKey(ws.address)) {
            return;
        }
        pendingFree.computeIfAbsent(ws, w -> new ArrayList<>()).add(key);
    }

    // ------------------------------------------------------------------------------------------
    // Placement
    // ------------------------------------------------------------------------------------------

    /** The most tasks per thread that pipelining may queue on a worker. */
    static final int MAX_PIPELINED_PER_THREAD = 64;

    /**
     * How many tasks a worker may hold (processing, not counting seceded ones). Dask's cap is
     * {@code ceil(nthreads * saturation)}; it keeps root tasks in the scheduler so that memory stays
     * low. With tasks much shorter than the scheduler-worker round trip (a Dask worker batches its
     * messages every 2 ms) that cap leaves the worker idle for most of each round trip. So when the
     * worker's mean compute time is below {@code pipelineSeconds}, each thread may hold as many
     * tasks as fill {@code pipelineSeconds} of compute (at most {@link #MAX_PIPELINED_PER_THREAD}):
     * the extra work queued on a worker stays bounded by about one round trip of compute, and tasks
     * of unknown or long duration get Dask's cap.
     */
    private int slots(WorkerState ws) {
        if (Double.isInfinite(saturation)) {
            return Integer.MAX_VALUE;
        }
        int cap = daskCap(ws);
        double mean = ws.meanComputeSeconds;
        if (!(mean < pipelineSeconds)) {
            return cap;
        }
        double perThread = Math.min(MAX_PIPELINED_PER_THREAD, Math.ceil(pipelineSeconds / Math.max(mean, 1e-6)));
        return Math.max(cap, (int) (ws.nthreads * perThread));
    }

    /**
     * The occupancy at or below which a worker is given tasks again, until it holds {@code slots}.
     * Within Dask's cap that is any free slot, at once. A pipelining worker is refilled once half its
     * queue has run: it still holds at least Dask's cap, so it never waits, and a Python worker then
     * receives its tasks in batches of half the queue rather than one batch per batch of results
     * (each message costs it a read, a decode and a pass of its state machine).
     */
    private int refillLevel(WorkerState ws, int slots) {
        int cap = daskCap(ws);
        return slots <= cap ? slots - 1 : Math.max(cap, slots / 2);
    }

    /** Dask's worker-saturation cap: {@code ceil(nthreads * saturation)}, at least 1. */
    private int daskCap(WorkerState ws) {
        return Math.max(1, (int) Math.ceil(ws.nthreads * saturation));
    }

    /**
     * Whether {@code ws} should get tasks: it has fallen to its refill level, or it is already being
     * refilled (listed) and not yet full.
     */
    private boolean wantsTasks(WorkerState ws) {
        int slots = slots(ws);
        int occupied = ws.occupied();
        return ws.running && occupied < slots && (ws.freeListed || occupied <= refillLevel(ws, slots));
    }

    private void updateFree(WorkerState ws) {
        if (workers.get(ws.address) == ws && wantsTasks(ws)) {
            withFreeSlots.add(ws);
        } else {
            withFreeSlots.remove(ws);
        }
    }

    private void fillSlots() {
        while (!withFreeSlots.isEmpty()) {
            TaskState ts = queue.poll();
            if (ts == null) {
                return;
            }
            ts.inQueue = false;
            if (ts.status != TaskState.Status.QUEUED) {
                continue;
            }
            WorkerState ws = pickFree(ts);
            sendToWorker(ts, ws);
        }
    }

    /**
     * The worker with a free slot that needs the fewest input bytes moved, then the least loaded.
     * Null if no worker has a free slot.
     */
    private WorkerState pickFree(TaskState ts) {
        if (withFreeSlots.isEmpty()) {
            return null;
        }
        WorkerState best = null;
        long bestMissing = Long.MAX_VALUE;
        double bestLoad = Double.MAX_VALUE;
        for (WorkerState ws = withFreeSlots.first(); ws != null; ws = ws.nextFree) {
            long missing = 0;
            for (TaskState dep : ts.dependencies) {
                if (!contains(dep.whoHas, ws)) {
                    missing += Math.max(1, dep.nbytes);
                }
            }
            double load = (double) ws.occupied() / ws.nthreads;
            if (missing < bestMissing || missing == bestMissing && load < bestLoad) {
                best = ws;
                bestMissing = missing;
                bestLoad = load;
            }
        }
        return best;
    }

    /** Restricted tasks go to any eligible running worker, ignoring the saturation cap (as in Dask). */
    private WorkerState pickRestricted(TaskState ts) {
        WorkerState best = null;
        double bestLoad = Double.MAX_VALUE;
        boolean anyNamed = false;
        for (WorkerState ws : workers.values()) {
            if (!ws.running) {
                continue;
            }
            boolean named = ts.workerRestrictions == null || matches(ts.workerRestrictions, ws);
            anyNamed |= named && ts.workerRestrictions != null;
            if (!named || !hasResources(ws, ts.resourceRestrictions)) {
                continue;
            }
            double load = (double) ws.occupied() / ws.nthreads;
            if (load < bestLoad) {
                best = ws;
                bestLoad = load;
            }
        }
        if (best == null && ts.looseRestrictions && !anyNamed) {
            for (WorkerState ws : workers.values()) {
                if (ws.running && hasResources(ws, ts.resourceRestrictions)) {
                    double load = (double) ws.occupied() / ws.nthreads;
                    if (load < bestLoad) {
                        best = ws;
                        bestLoad = load;
                    }
                }
            }
        }
        return best;
    }

    private static boolean matches(List<String> allowed, WorkerState ws) {
        String host = ws.address.replaceFirst("^[a-z]+://", "").replaceFirst(":\\d+$", "");
        return allowed.contains(ws.address) || allowed.contains(ws.name) || allowed.contains(host);
    }

    private static boolean hasResources(WorkerState ws, Map<String, Double> need) {
        if (need == null) {
            return true;
        }
        for (Map.Entry<String, Double> e : need.entrySet()) {
            if (ws.resources.getOrDefault(e.getKey(), 0.0) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void retryUnrunnable() {
        if (unrunnable.isEmpty()) {
            return;
        }
        for (TaskState ts : new ArrayList<>(unrunnable)) {
            WorkerState ws = pickRestricted(ts);
            if (ws != null && ts.status == TaskState.Status.NO_WORKER) {
                unrunnable.remove(ts);
                sendToWorker(ts, ws);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Ordering: dependencies before dependents, depth first, so tree reductions finish one branch
    // before starting the next and few intermediate results are alive at once (in the spirit of
    // dask.order, which is far more elaborate).
    // ------------------------------------------------------------------------------------------

    /** Orders a graph the client did not order: dependencies first, depth first from each sink. */
    private static void order(List<TaskState> created) {
        long next = 0;
        ArrayDeque<TaskState> stack = new ArrayDeque<>();
        ArrayDeque<int[]> cursor = new ArrayDeque<>();
        for (TaskState sink : created) {
            if (sink.order != -1 || hasUnorderedDependent(sink)) {
                continue;
            }
            stack.push(sink);
            cursor.push(new int[]{0});
            sink.order = -2; // on the stack
            while (!stack.isEmpty()) {
                TaskState ts = stack.peek();
                int[] c = cursor.peek();
                if (c[0] < ts.dependencies.length) {
                    TaskState dep = ts.dependencies[c[0]++];
                    if (dep.order == -1) {
                        dep.order = -2;
                        stack.push(dep);
                        cursor.push(new int[]{0});
                    }
                } else {
                    stack.pop();
                    cursor.pop();
                    ts.order = next++;
                }
            }
        }
        for (TaskState ts : created) { // cycles or leftovers: keep them valid
            if (ts.order < 0) {
                ts.order = next++;
            }
        }
    }

    private static boolean hasUnorderedDependent(TaskState ts) {
        for (int i = 0; i < ts.dependentCount; i++) {
            if (ts.dependents[i].order == -1) {
                return true;
            }
        }
        return false;
    }

    // ------------------------------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------------------------------

    private TaskState newTask(Object key) {
        return new TaskState(key, nextTaskId++);
    }

    private ClientState client(String id) {
        return clients.computeIfAbsent(id, ClientState::new);
    }

    private static void applyOptions(TaskState ts, GraphUpdate.TaskOptions o) {
        if (o == null || o == GraphUpdate.TaskOptions.NONE) {
            return;
        }
        ts.negUserPriority = -o.userPriority();
        ts.retries = o.retries();
        ts.workerRestrictions = o.workers() == null || o.workers().isEmpty() ? null : List.copyOf(o.workers());
        ts.looseRestrictions = o.allowOtherWorkers();
        ts.resourceRestrictions = o.resources() == null || o.resources().isEmpty() ? null : Map.copyOf(o.resources());
        ts.annotations = o.annotations() == null ? Map.of() : o.annotations();
    }

    private void addWanter(TaskState ts, ClientState cs) {
        if (!cs.wants.add(ts)) {
            return;
        }
        if (ts.whoWants == null) {
            ts.whoWants = cs;
        } else if (ts.whoWants instanceof ClientState other) {
            Set<ClientState> s = new HashSet<>(4);
            s.add(other);
            s.add(cs);
            ts.whoWants = s;
        } else {
            @SuppressWarnings("unchecked") Set<ClientState> s = (Set<ClientState>) ts.whoWants;
            s.add(cs);
        }
    }

    private void removeWanter(TaskState ts, ClientState cs) {
        if (ts.whoWants == cs) {
            ts.whoWants = null;
        } else if (ts.whoWants instanceof Set<?> s) {
            s.remove(cs);
            if (s.size() == 1) {
                ts.whoWants = s.iterator().next();
            }
        }
        if (ts.whoWants == null) {
            releaseCandidates.add(ts);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<ClientState> wanters(TaskState ts) {
        if (ts.whoWants == null) {
            return List.of();
        }
        if (ts.whoWants instanceof ClientState c) {
            return List.of(c);
        }
        return new ArrayList<>((Set<ClientState>) ts.whoWants);
    }

    private Collection<WorkerState> selectWorkers(Collection<?> addresses) {
        if (addresses == null) {
            return workers.values();
        }
        List<WorkerState> r = new ArrayList<>();
        for (Object a : addresses) {
            WorkerState ws = workers.get(String.valueOf(a));
            if (ws != null) {
                r.add(ws);
            }
        }
        return r;
    }

    private static List<String> addresses(WorkerState[] ws) {
        if (ws.length == 1) {
            return List.of(ws[0].address);
        }
        List<String> r = new ArrayList<>(ws.length);
        for (WorkerState w : ws) {
            r.add(w.address);
        }
        return r;
    }

    private static WorkerState[] without(WorkerState[] arr, WorkerState ws) {
        int i = Arrays.asList(arr).indexOf(ws);
        if (i < 0) {
            return arr;
        }
        if (arr.length == 1) {
            return TaskState.NOWHERE;
        }
        WorkerState[] r = new WorkerState[arr.length - 1];
        System.arraycopy(arr, 0, r, 0, i);
        System.arraycopy(arr, i + 1, r, i, arr.length - i - 1);
        return r;
    }

    private static <T> boolean contains(T[] arr, T x) {
        for (T t : arr) {
            if (t == x) {
                return true;
            }
        }
        return false;
    }

    private static <T> boolean contains(T[] arr, int n, T x) {
        for (int i = 0; i < n; i++) {
            if (arr[i] == x) {
                return true;
            }
        }
        return false;
    }

    private RunSpec internSpec(RunSpec s) {
        if (s == null) {
            return null;
        }
        Object f = s.function() instanceof byte[] b ? intern(b) : s.function();
        retain(s.runSpec());
        retain(s.args());
        retain(s.kwargs());
        retain(s.function());
        return f == s.function() ? s : new RunSpec(f, s.args(), s.kwargs(), s.runSpec());
    }

    private byte[] intern(byte[] b) {
        if (b.length > 1 << 20) {
            return b;
        }
        if (b == lastInterned) {
            return b; // the decoder already merged a map's per-task copies into one array
        }
        byte[] r = interned.computeIfAbsent(new BytesKey(b), k -> k.bytes);
        lastInterned = r;
        return r;
    }

    private byte[] lastInterned;

    /** The stimulus that caused a compute-task: the current event's (one string per event, not per task). */
    private String computeStimulus() {
        return pendingFreeStimulus != null ? pendingFreeStimulus : "compute-task";
    }

    private static Object retain(Object o) {
        if (o instanceof SubObject s) {
            s.retain();
        }
        return o;
    }

    private static void release(Object o) {
        if (o instanceof SubObject s && s.refCnt() > 0) {
            s.release();
        }
    }

    private static void releaseSpec(RunSpec s) {
        if (s != null) {
            release(s.function());
            release(s.args());
            release(s.kwargs());
            release(s.runSpec());
        }
    }

    /** byte[] with content equality, for interning. */
    private record BytesKey(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof BytesKey k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Validation (tests): every counter recomputed from scratch must match the incremental one.
    // ------------------------------------------------------------------------------------------

    /** Throws IllegalStateException describing the first inconsistency found. */
    public void validate() {
        boolean queuedLeft = false;
        for (TaskState ts : tasks.values()) {
            int waiters = 0;
            int live = 0;
            for (int i = 0; i < ts.dependentCount; i++) {
                TaskState d = ts.dependents[i];
                if (d.status != TaskState.Status.FORGOTTEN) {
                    live++;
                }
                if (d.needsInputs()) {
                    waiters++;
                }
            }
            if (waiters != ts.waiters) {
                fail(ts, "waiters " + ts.waiters + " != " + waiters);
            }
            if (live != ts.liveDependents) {
                fail(ts, "liveDependents " + ts.liveDependents + " != " + live);
            }
            if (ts.status == TaskState.Status.WAITING) {
                int missing = 0;
                for (TaskState dep : ts.dependencies) {
                    if (dep.status != TaskState.Status.MEMORY) {
                        missing++;
                    }
                }
                if (missing != ts.waitingOn) {
                    fail(ts, "waitingOn " + ts.waitingOn + " != " + missing);
                }
                check(missing > 0, ts, "waiting with all inputs in memory");
            }
            if (ts.status == TaskState.Status.PROCESSING) {
                check(ts.processingOn != null && ts.processingOn.processing.contains(ts), ts, "not on its worker");
                for (TaskState dep : ts.dependencies) {
                    if (dep.status != TaskState.Status.MEMORY) {
                        fail(ts, "processing without input " + dep);
                    }
                }
            } else if (ts.processingOn != null) {
                fail(ts, "processingOn set while " + ts.status);
            }
            if (ts.status == TaskState.Status.MEMORY) {
                check(ts.whoHas.length > 0, ts, "in memory nowhere");
            } else if (ts.whoHas.length != 0) {
                fail(ts, "has replicas while " + ts.status);
            }
            if (ts.status == TaskState.Status.QUEUED) {
                check(ts.inQueue, ts, "queued but not in the queue");
                queuedLeft = true;
            }
            if (ts.status == TaskState.Status.NO_WORKER) {
                check(unrunnable.contains(ts), ts, "no-worker but not in unrunnable");
            }
            if (ts.status == TaskState.Status.MEMORY) {
                for (WorkerState ws : ts.whoHas) {
                    if (workers.get(ws.address) != ws || !ws.hasWhat.contains(ts)) {
                        fail(ts, "who_has names " + ws.address + " which does not hold it");
                    }
                }
            }
            if (ts.processingOn != null && workers.get(ts.processingOn.address) != ts.processingOn) {
                fail(ts, "processing on removed worker " + ts.processingOn.address);
            }
            check(ts.status != TaskState.Status.FORGOTTEN, ts, "forgotten but still known");
            if (!ts.wanted() && ts.waiters == 0) {
                check(ts.status != TaskState.Status.MEMORY && !ts.needsInputs(), ts, "kept though nobody needs it");
            }
        }
        for (TaskState ts : erredOn.keySet()) {
            if (ts.status != TaskState.Status.ERRED || tasks.get(ts.key) != ts) {
                fail(ts, "erred-on entry while " + ts.status);
            }
        }
        for (WorkerState ws : workers.values()) {
            for (TaskState ts : ws.processing) {
                if (ts.processingOn != ws || tasks.get(ts.key) != ts) {
                    fail(ts, "stale processing on " + ws.address);
                }
            }
            long nbytes = 0;
            for (TaskState ts : ws.hasWhat) {
                if (!contains(ts.whoHas, ws) || tasks.get(ts.key) != ts) {
                    fail(ts, "has_what/who_has mismatch on " + ws.address);
                }
                nbytes += Math.max(0, ts.nbytes);
            }
            if (nbytes != ws.nbytes) {
                fail(null, "nbytes of " + ws.address + " " + ws.nbytes + " != " + nbytes);
            }
            int longRunning = 0;
            for (TaskState ts : ws.processing) {
                if (ts.longRunning) {
                    longRunning++;
                }
            }
            if (longRunning != ws.longRunning) {
                fail(null, "long-running on " + ws.address + " " + ws.longRunning + " != " + longRunning);
            }
            if (ws.occupied() < 0) {
                fail(null, "negative occupancy on " + ws.address);
            }
            boolean free = wantsTasks(ws);
            if (free != withFreeSlots.contains(ws)) {
                fail(null, ws.address + (free ? " has a free slot but is not listed" : " listed as free but is not"));
            }
            if (free && queuedLeft) {
                fail(null, "free slot on " + ws.address + " with queued tasks");
            }
        }
        for (WorkerState ws : withFreeSlots.toList()) {
            if (workers.get(ws.address) != ws) {
                fail(null, "removed worker " + ws.address + " listed as free");
            }
        }
        for (TaskState ts : unrunnable) {
            if (ts.status != TaskState.Status.NO_WORKER || tasks.get(ts.key) != ts) {
                fail(ts, "in unrunnable while " + ts.status);
            }
        }
    }

    private static void check(boolean ok, TaskState ts, String what) {
        if (!ok) {
            fail(ts, what);
        }
    }

    /** Builds the message only on failure: tests run validate() after every event. */
    private static void fail(TaskState ts, String what) {
        throw new IllegalStateException((ts == null ? "" : ts + ": ") + what);
    }
}
