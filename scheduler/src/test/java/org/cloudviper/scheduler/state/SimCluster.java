package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.message.WorkerToScheduler;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A {@link SchedulerState} with a {@link RecordingOutbox}, simulated workers and simulated clients.
 * Every event goes through a method here, which runs {@link SchedulerState#validate()} after it and,
 * with {@link #autoDeliver}, hands the messages it caused to the simulated peers. Simulated workers
 * behave like a Dask 2022.12 worker as far as the scheduler can tell: a compute-task must name where
 * each input is, and must not arrive twice for a key the worker is still running; a key kept in
 * memory or in error is answered at once with its old outcome (worker_state_machine
 * {@code _handle_compute_task}); free-keys forgets a key in any state.
 */
final class SimCluster {
    static final byte[] FUNCTION = "pickled-function".getBytes(StandardCharsets.UTF_8);
    static final byte[] RESULT_TYPE = "pickled-int-type".getBytes(StandardCharsets.UTF_8);

    final RecordingOutbox out = new RecordingOutbox();
    final SchedulerState state;
    final Map<String, SimWorker> workers = new LinkedHashMap<>();
    final Map<String, SimClient> clients = new LinkedHashMap<>();

    /** Hand messages to the simulated peers after each event (else tests take them from {@link #out}). */
    boolean autoDeliver = true;
    /** Fetched inputs are reported with add-keys before task-finished, as a Dask worker does. */
    boolean replicate = true;
    /** Keys whose next run fails (asked when the run finishes). */
    Predicate<Object> failing = k -> false;
    /** Track {@link #peakInMemory} (costs a pass over all tasks per event). */
    boolean trackMemory;
    /** Largest number of results in memory at once, seen after any event. */
    int peakInMemory;

    double now = 1000;
    private long nextStimulus;
    private final Map<Object, Integer> finishedCount = new HashMap<>();

    /** The compute time every simulated task-finished reports (NaN: none, as without startstops). */
    double computeSeconds = Double.NaN;

    SimCluster(double saturation, int allowedFailures) {
        this(saturation, allowedFailures, 0);
    }

    SimCluster(double saturation, int allowedFailures, double pipelineSeconds) {
        state = new SchedulerState(out, saturation, allowedFailures, pipelineSeconds);
        state.validate();
    }

    SimCluster() {
        this(1.1, 3);
    }

    // ------------------------------------------------------------------------------------------
    // Graph building
    // ------------------------------------------------------------------------------------------

    static RunSpec spec(Object key) {
        return new RunSpec(FUNCTION, ("args-" + key).getBytes(StandardCharsets.UTF_8), null, null);
    }

    static GraphUpdate.NewTask task(Object key, Object... deps) {
        return new GraphUpdate.NewTask(key, spec(key), List.of(deps), GraphUpdate.TaskOptions.NONE);
    }

    static GraphUpdate.NewTask task(Object key, GraphUpdate.TaskOptions options, Object... deps) {
        return new GraphUpdate.NewTask(key, spec(key), List.of(deps), options);
    }

    static GraphUpdate.TaskOptions retries(int n) {
        return new GraphUpdate.TaskOptions(0, n, null, false, null, Map.of("retries", n));
    }

    static GraphUpdate.TaskOptions priority(long p) {
        return new GraphUpdate.TaskOptions(p, 0, null, false, null, Map.of("priority", p));
    }

    static GraphUpdate.TaskOptions onWorkers(List<String> workers, boolean allowOthers) {
        return new GraphUpdate.TaskOptions(0, 0, workers, allowOthers, null, Map.of("workers", workers));
    }

    static GraphUpdate.TaskOptions resources(Map<String, Double> resources) {
        return new GraphUpdate.TaskOptions(0, 0, null, false, resources, Map.of("resources", resources));
    }

    /** A graph as the client sends it; {@code order == null} lets the scheduler order it. */
    GraphUpdate graph(String client, List<GraphUpdate.NewTask> tasks, List<?> wanted, Map<Object, Long> order) {
        now += 1;
        List<GraphUpdate.NewTask> withOrder = tasks;
        if (order != null) { // as the server reads the client's priority map: each task carries its value
            withOrder = new ArrayList<>(tasks.size());
            for (GraphUpdate.NewTask t : tasks) {
                Long o = order.get(t.key());
                withOrder.add(new GraphUpdate.NewTask(t.key(), t.spec(), t.dependencies(), t.options(),
                        o == null ? GraphUpdate.NewTask.NO_ORDER : o));
            }
        }
        return new GraphUpdate(client, withOrder, new ArrayList<>(wanted), order != null, now, 0.1,
                stimulus("update-graph"));
    }

    /** Client.submit: one task, wanted, with Dask's {@code {key: 0}} order. */
    void submit(String client, GraphUpdate.NewTask t) {
        updateGraph(graph(client, List.of(t), List.of(t.key()), Map.of(t.key(), 0L)));
    }

    String stimulus(String what) {
        return what + "-" + (nextStimulus++);
    }

    static String address(String name) {
        return "tcp://" + name + ":4000";
    }

    // ------------------------------------------------------------------------------------------
    // Events: each one validates the state and (optionally) delivers what it sent
    // ------------------------------------------------------------------------------------------

    private void after() {
        state.validate();
        if (trackMemory) {
            Integer mem = state.queries().statusCounts().get("memory");
            peakInMemory = Math.max(peakInMemory, mem == null ? 0 : mem);
        }
        if (autoDeliver) {
            deliver();
        }
    }

    SimClient client(String id) {
        return clients.computeIfAbsent(id, SimClient::new);
    }

    void addClient(String id) {
        client(id);
        state.onAddClient(id);
        after();
    }

    void removeClient(String id) {
        state.onRemoveClient(id, stimulus("remove-client"));
        after();
    }

    void updateGraph(GraphUpdate u) {
        client(u.client());
        state.onUpdateGraph(u);
        after();
    }

    SimWorker addWorker(String name, int nthreads) {
        return addWorker(name, nthreads, Map.of());
    }

    SimWorker addWorker(String name, int nthreads, Map<String, Double> resources) {
        String addr = address(name);
        assertFalse(workers.containsKey(addr), "simulated worker already up: " + addr);
        SimWorker w = new SimWorker(addr, name, nthreads, resources);
        workers.put(addr, w);
        String error = state.onAddWorker(new WorkerRegistration(addr, name, nthreads, 1L << 30, resources, now));
        if (error != null) {
            workers.remove(addr);
            fail("worker " + name + " refused: " + error);
        }
        after();
        return w;
    }

    /** Registration that the scheduler must refuse; returns its error. */
    String addWorkerRefused(String address, String name) {
        String error = state.onAddWorker(new WorkerRegistration(address, name, 1, 1L << 30, Map.of(), now));
        assertNotNull(error, "registration of " + name + " at " + address + " accepted");
        after();
        return error;
    }

    void removeWorker(String address) {
        assertNotNull(workers.remove(address), "no simulated worker " + address);
        state.onRemoveWorker(address, stimulus("remove-worker"));
        after();
    }

    List<String> tick(double now, double ttl) {
        this.now = now;
        List<String> dead = state.onTick(now, ttl);
        for (String a : dead) {
            workers.remove(a);
        }
        // Removing the first silent worker can send work to a second one removed in the same tick
        // (Dask's check_worker_ttl removes them one by one too); its connection is gone.
        out.dropWorkerMessages(dead);
        after();
        return dead;
    }

    boolean heartbeat(String address) {
        boolean known = state.onHeartbeat(address, now);
        after();
        return known;
    }

    void workerStatus(String address, String status) {
        state.onWorkerStatusChange(address, status, stimulus("worker-status-change"));
        after();
    }

    void clientDesiresKeys(String client, Collection<?> keys) {
        client(client);
        state.onClientDesiresKeys(client, keys, stimulus("client-desires-keys"));
        after();
    }

    void clientReleasesKeys(String client, Collection<?> keys) {
        state.onClientReleasesKeys(client, keys, stimulus("client-releases-keys"));
        after();
    }

    void reportKey(String client, Object key) {
        state.onReportKey(client, key);
        after();
    }

    void cancel(String client, Collection<?> keys, boolean force) {
        state.onCancel(client, keys, force, stimulus("cancel"));
        after();
    }

    List<Object> retry(String client, Collection<?> keys) {
        List<Object> r = state.onRetry(client, keys, stimulus("retry"));
        after();
        return r;
    }

    /** Client.scatter of one value per key to the given workers (the server did update_data). */
    void scatter(String client, Map<Object, String> placement) {
        client(client);
        Map<Object, List<String>> whoHas = new LinkedHashMap<>();
        Map<Object, Long> nbytes = new LinkedHashMap<>();
        for (Map.Entry<Object, String> e : placement.entrySet()) {
            SimWorker w = workers.get(e.getValue());
            assertNotNull(w, "scatter to unknown worker " + e.getValue());
            // A Dask worker's update_data turns a key it runs or keeps in error into memory.
            w.running.remove(e.getKey());
            w.erred.remove(e.getKey());
            w.memory.put(e.getKey(), 8L);
            whoHas.put(e.getKey(), List.of(e.getValue()));
            nbytes.put(e.getKey(), 8L);
        }
        state.onScattered(client, whoHas, nbytes, stimulus("scatter"));
        after();
    }

    boolean publishPut(String name, List<Object> keys, boolean override) {
        boolean ok = state.onPublishPut(name, keys, null, override, stimulus("publish-put"));
        after();
        return ok;
    }

    void publishDelete(String name) {
        state.onPublishDelete(name, stimulus("publish-delete"));
        after();
    }

    void taskFinished(String worker, Object key, long nbytes) {
        state.onTaskFinished(worker, key, nbytes, RESULT_TYPE, computeSeconds, stimulus("task-finished"));
        after();
    }

    void taskErred(String worker, Object key, Object exception, Object traceback) {
        state.onTaskErred(worker, key, exception, traceback, stimulus("task-erred"));
        after();
    }

    /** The work-stealing timer. */
    void balance() {
        now += 0.1;
        state.onBalance(now);
        after();
    }

    /** Sends the oldest steal-response of {@code worker}; false if it has none. */
    boolean answerSteal(String worker) {
        SimWorker w = workers.get(worker);
        if (w == null || w.stealAnswers.isEmpty()) {
            return false;
        }
        WorkerToScheduler.StealResponse a = w.stealAnswers.remove(0);
        if (!w.stealAnswers.stream().anyMatch(o -> o.key().equals(a.key()))) {
            w.givenUp.remove(a.key());
        }
        state.onStealResponse(worker, a.key(), a.state(), a.stimulusId());
        after();
        return true;
    }

    void addKeys(String worker, Collection<?> keys) {
        state.onAddKeys(worker, keys, stimulus("add-keys"));
        after();
    }

    void releaseWorkerData(String worker, Object key) {
        SimWorker w = workers.get(worker);
        if (w != null) {
            w.memory.remove(key);
        }
        state.onReleaseWorkerData(worker, key, stimulus("release-worker-data"));
        after();
    }

    void longRunning(String worker, Object key) {
        state.onLongRunning(worker, key, stimulus("long-running"));
        after();
    }

    /** The worker gives the task back (Reschedule raised) and forgets it. */
    void reschedule(String worker, Object key) {
        SimWorker w = workers.get(worker);
        if (w != null) {
            w.running.remove(key);
        }
        state.onReschedule(worker, key, stimulus("reschedule"));
        after();
    }

    // ------------------------------------------------------------------------------------------
    // Simulated peers
    // ------------------------------------------------------------------------------------------

    /** Hands every recorded message to its simulated worker or client, in send order. */
    void deliver() {
        List<RecordingOutbox.Envelope> batch = out.drainAll();
        for (int i = 0; i < batch.size(); i++) {
            RecordingOutbox.Envelope e = batch.get(i);
            if (e.toWorker()) {
                SimWorker w = workers.get(e.target());
                if (w == null) {
                    fail("message to a worker that is not registered: " + e);
                }
                w.receive((SchedulerToWorker) e.message(), revokedLater(batch, i));
            } else {
                client(e.target()).receive((SchedulerToClient) e.message());
            }
        }
    }

    /**
     * Whether the compute-task at {@code i} is cancelled by a free-keys later in the same event: then
     * its inputs may already be gone (a tick removing two workers: the first removal sends work that
     * reads from the second, whose removal takes it back), which a Dask worker would never notice.
     */
    private static boolean revokedLater(List<RecordingOutbox.Envelope> batch, int i) {
        RecordingOutbox.Envelope e = batch.get(i);
        if (!(e.message() instanceof SchedulerToWorker.ComputeTask c)) {
            return false;
        }
        for (int j = i + 1; j < batch.size(); j++) {
            RecordingOutbox.Envelope later = batch.get(j);
            if (later.toWorker() && later.target().equals(e.target())
                    && later.message() instanceof SchedulerToWorker.FreeKeys f && f.keys().contains(c.key())) {
                return true;
            }
        }
        return false;
    }

    /** Any worker running anything? */
    boolean busy() {
        for (SimWorker w : workers.values()) {
            if (!w.running.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Answers the oldest compute-task of {@code worker}: task-finished, or task-erred if the key is kept
     * in error on the worker or {@link #failing} says so. Inputs fetched from peers are reported first.
     */
    void finish(String worker, Object key) {
        SimWorker w = workers.get(worker);
        SimWorker.Running r = w.running.remove(key);
        assertNotNull(r, () -> worker + " is not running " + key);
        boolean err = r.outcome == SimWorker.Outcome.ERR
                || r.outcome == SimWorker.Outcome.COMPUTE && failing.test(key);
        if (err) {
            w.erred.add(key);
            taskErred(worker, key, exception(key), traceback(key));
            return;
        }
        if (replicate && !r.fetched.isEmpty()) {
            List<Object> fetched = new ArrayList<>(r.fetched.keySet());
            w.memory.putAll(r.fetched);
            addKeys(worker, fetched);
        }
        w.memory.put(key, 10L);
        finishedCount.merge(key, 1, Integer::sum);
        taskFinished(worker, key, 10L);
    }

    /** Finishes the oldest running task of the first busy worker, round robin from {@code start}. */
    boolean finishOne(int start) {
        List<SimWorker> ws = new ArrayList<>(workers.values());
        for (int i = 0; i < ws.size(); i++) {
            SimWorker w = ws.get(Math.floorMod(start + i, ws.size()));
            if (!w.running.isEmpty()) {
                finish(w.address, w.running.keySet().iterator().next());
                return true;
            }
        }
        return false;
    }

    /** Answers compute-tasks until no worker runs anything; fails after {@code maxSteps}. */
    int runToCompletion(int maxSteps) {
        int steps = 0;
        while (finishOne(steps)) {
            if (++steps > maxSteps) {
                fail("still running after " + maxSteps + " steps: " + state.queries().statusCounts());
            }
        }
        return steps;
    }

    int runToCompletion() {
        return runToCompletion(1_000_000);
    }

    /** How often a key finished successfully on a simulated worker. */
    int timesComputed(Object key) {
        return finishedCount.getOrDefault(key, 0);
    }

    static byte[] exception(Object key) {
        return ("exception-of-" + key).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] traceback(Object key) {
        return ("traceback-of-" + key).getBytes(StandardCharsets.UTF_8);
    }

    final class SimWorker {
        enum Outcome { COMPUTE, MEMORY, ERR }

        record Running(SchedulerToWorker.ComputeTask task, Map<Object, Long> fetched, Outcome outcome) {
        }

        final String address;
        final String name;
        final int nthreads;
        final Map<String, Double> resources;
        final LinkedHashMap<Object, Running> running = new LinkedHashMap<>();
        final Map<Object, Long> memory = new LinkedHashMap<>();
        final Set<Object> erred = new HashSet<>();
        final List<SchedulerToWorker> received = new ArrayList<>();
        /** steal-responses decided when the request arrived (as a Dask worker does) and not yet sent. */
        final List<WorkerToScheduler.StealResponse> stealAnswers = new ArrayList<>();
        /** Keys given up to a steal whose answer is not yet sent: the scheduler still counts them here. */
        final Set<Object> givenUp = new HashSet<>();
        int peakRunning;
        boolean closed;

        SimWorker(String address, String name, int nthreads, Map<String, Double> resources) {
            this.address = address;
            this.name = name;
            this.nthreads = nthreads;
            this.resources = resources;
        }

        void receive(SchedulerToWorker m, boolean revoked) {
            assertFalse(closed, () -> "message after close to " + address + ": " + m);
            received.add(m);
            if (m instanceof SchedulerToWorker.ComputeTask c) {
                assertFalse(running.containsKey(c.key()), () -> address + " got compute-task for " + c.key()
                        + " which it is still running");
                Map<Object, Long> fetched = new LinkedHashMap<>();
                for (Map.Entry<Object, List<String>> e : c.whoHas().entrySet()) {
                    Object dep = e.getKey();
                    assertTrue(c.nbytes().containsKey(dep), () -> "compute-task " + c.key() + " lacks nbytes of " + dep);
                    if (memory.containsKey(dep)) {
                        continue;
                    }
                    boolean found = false;
                    for (String peer : e.getValue()) {
                        SimWorker p = workers.get(peer);
                        if (p != null && p.memory.containsKey(dep)) {
                            found = true;
                            fetched.put(dep, p.memory.get(dep));
                            break;
                        }
                    }
                    assertTrue(found || revoked, () -> "compute-task " + c.key() + " on " + address + ": input "
                            + dep + " is not where who_has says: " + e.getValue());
                }
                Outcome o = memory.containsKey(c.key()) ? Outcome.MEMORY
                        : erred.contains(c.key()) ? Outcome.ERR : Outcome.COMPUTE;
                givenUp.remove(c.key());
                running.put(c.key(), new Running(c, fetched, o));
                peakRunning = Math.max(peakRunning, running.size());
            } else if (m instanceof SchedulerToWorker.FreeKeys f) {
                for (Object k : f.keys()) {
                    running.remove(k);
                    givenUp.remove(k);
                    memory.remove(k);
                    erred.remove(k);
                }
            } else if (m instanceof SchedulerToWorker.StealRequest s) {
                // The first nthreads tasks run; the rest wait ready and are given up.
                int position = new ArrayList<>(running.keySet()).indexOf(s.key());
                String state = position >= nthreads ? "ready" : position >= 0 ? "executing"
                        : memory.containsKey(s.key()) ? "memory" : erred.contains(s.key()) ? "error" : null;
                if ("ready".equals(state)) {
                    running.remove(s.key());
                    givenUp.add(s.key());
                }
                stealAnswers.add(new WorkerToScheduler.StealResponse(s.key(), state, s.stimulusId()));
            } else if (m instanceof SchedulerToWorker.Close) {
                closed = true;
            } else {
                fail("unexpected message to " + address + ": " + m);
            }
        }

        @Override
        public String toString() {
            return "<SimWorker " + address + " running=" + running.keySet() + " memory=" + memory.keySet() + ">";
        }
    }

    /** What a client learnt about each key, from the last message about it. */
    static final class SimClient {
        final String id;
        final Map<Object, String> last = new HashMap<>();
        final List<SchedulerToClient> received = new ArrayList<>();

        SimClient(String id) {
            this.id = id;
        }

        void receive(SchedulerToClient m) {
            received.add(m);
            if (m instanceof SchedulerToClient.KeyInMemory k) {
                last.put(k.key(), "memory");
            } else if (m instanceof SchedulerToClient.TaskErred e) {
                last.put(e.key(), "erred");
            } else if (m instanceof SchedulerToClient.LostData l) {
                last.put(l.key(), "lost");
            } else if (m instanceof SchedulerToClient.CancelledKeys c) {
                c.keys().forEach(k -> last.put(k, "cancelled"));
            } else if (m instanceof SchedulerToClient.TaskRetried t) {
                last.put(t.key(), "retried");
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Looking inside (same package; the state keeps its maps private)
    // ------------------------------------------------------------------------------------------

    /** A snapshot of the state's key -> task table. */
    Map<Object, TaskState> tasks() {
        Map<Object, TaskState> r = new HashMap<>();
        for (TaskState ts : state.taskTable().values()) {
            r.put(ts.key, ts);
        }
        return r;
    }

    Map<String, ClientState> stateClients() {
        return state.clientsById();
    }

    Map<String, WorkerState> stateWorkers() {
        return state.workersByAddress();
    }

    /**
     * After every delivered event the simulated workers and the state agree: each worker runs exactly
     * the tasks the state has processing there and holds exactly the replicas the state knows of.
     */
    void assertInSync() {
        Map<String, WorkerState> sw = stateWorkers();
        assertEquals(workers.keySet(), sw.keySet(), "registered workers");
        for (SimWorker w : workers.values()) {
            WorkerState ws = sw.get(w.address);
            Set<Object> processing = new HashSet<>();
            for (TaskState ts : ws.processing) {
                processing.add(ts.key);
            }
            Set<Object> simProcessing = new HashSet<>(w.running.keySet());
            simProcessing.addAll(w.givenUp);
            assertEquals(processing, simProcessing, () -> "running on " + w.address);
            Set<Object> held = new HashSet<>();
            for (TaskState ts : ws.hasWhat) {
                held.add(ts.key);
            }
            assertEquals(held, w.memory.keySet(), () -> "data on " + w.address);
        }
    }

    TaskState ts(Object key) {
        return state.taskTable().get(key);
    }

    /** Keys each client (including published-dataset pseudo-clients) wants. */
    Map<String, Set<Object>> wanted() {
        Map<String, Set<Object>> r = new TreeMap<>();
        for (ClientState cs : stateClients().values()) {
            Set<Object> keys = new LinkedHashSet<>();
            for (TaskState ts : cs.wants) {
                keys.add(ts.key);
            }
            r.put(cs.id, keys);
        }
        return r;
    }

    /**
     * The end state of a finished computation: nothing runs or waits; every wanted key is in memory or
     * erred and its clients were told so last; every other key is kept only as lineage of a live
     * dependent; the simulated workers hold exactly the replicas the state knows of, and keep a key in
     * error only while the state has it erred.
     */
    void assertQuiescent() {
        deliver();
        out.assertEmpty();
        assertFalse(busy(), "workers still running");
        Map<Object, TaskState> tasks = tasks();
        Map<String, Set<Object>> wanted = wanted();
        Set<Object> allWanted = new HashSet<>();
        wanted.values().forEach(allWanted::addAll);
        for (TaskState ts : tasks.values()) {
            String s = ts.status.daskName;
            if (allWanted.contains(ts.key)) {
                assertTrue(s.equals("memory") || s.equals("erred"), () -> "wanted " + ts + " not done");
            } else {
                assertTrue(s.equals("released") || s.equals("erred"), () -> "unwanted " + ts + " kept");
                assertTrue(ts.liveDependents > 0, () -> "unwanted " + ts + " kept without dependents");
            }
        }
        for (Map.Entry<String, Set<Object>> e : wanted.entrySet()) {
            if (e.getKey().startsWith("published-")) {
                continue;
            }
            SimClient c = client(e.getKey());
            for (Object key : e.getValue()) {
                assertEquals(tasks.get(key).status.daskName, c.last.get(key),
                        () -> "last report to " + e.getKey() + " about " + key);
            }
        }
        assertInSync();
        for (SimWorker w : workers.values()) {
            for (Object k : w.erred) {
                TaskState ts = tasks.get(k);
                assertTrue(ts != null && ts.status == TaskState.Status.ERRED,
                        () -> w.address + " keeps " + k + " in error while the scheduler has " + ts);
            }
        }
    }

    static List<Object> keys(Object... keys) {
        return Arrays.asList(keys);
    }
}
