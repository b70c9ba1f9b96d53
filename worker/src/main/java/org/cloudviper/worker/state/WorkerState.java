package org.cloudviper.worker.state;

import org.cloudviper.protocol.message.StartStop;

import org.cloudviper.protocol.message.WorkerToScheduler;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The worker as a pure state machine: {@link #handle} takes events and returns instructions; nothing
 * here does I/O, starts threads or reads a clock (times arrive with the events). A port of the parts
 * of distributed/worker_state_machine.py {@code WorkerState} that a worker without secede/actors
 * needs: compute-task through waiting, ready/constrained, executing to memory or error; dependencies
 * fetched from peers (fetch, flight, missing) in priority order within transfer limits; free-keys,
 * steal-request, cancel-compute, acquire-/remove-replicas, refresh-who-has, scatter, pause; spilling
 * and pausing for memory.
 *
 * <p>This class takes the events apart; the work is done by {@link Transitions} (the one transition
 * table: every state change goes through it, and each is written to the story), the
 * {@link MemoryManager} (stored values, spilling, pausing), {@link ExecutionSlots} (what runs next)
 * and the {@link TransferPlanner} (what is fetched from whom). {@link #story} answers Dask's
 * {@code get_story}. Values are opaque; the state owns what it stores and passes each value to
 * {@code release} once it drops it (the runtime frees buffers there).
 *
 * <p>Not thread-safe: one thread (the runtime's event loop) owns an instance.
 */
public final class WorkerState {
    /** Transfer limits, as distributed.worker's transfer_* settings. */
    public record Limits(int transferIncomingCountLimit, long transferIncomingBytesLimit,
                         long transferMessageBytesLimit, long transferIncomingBytesThrottleThreshold) {
        /** distributed.yaml 2022.12: connections.outgoing 50, message-bytes-limit 50 MB, throttle 10 MB. */
        public static Limits defaults(long memoryLimit) {
            long bytesLimit = memoryLimit > 0 ? (long) (memoryLimit * 0.1) : Long.MAX_VALUE;
            return new Limits(50, bytesLimit, 50_000_000L, 10_000_000L);
        }
    }

    private final String address;
    /** Every value the state drops goes here once (null values and a null release are skipped). */
    private final Consumer<Object> dispose;

    final Map<Object, TaskState> tasks = new HashMap<>();
    final StoryLog story = new StoryLog();
    final MemoryManager memory;
    final ExecutionSlots slots;
    final TransferPlanner transfers;
    final Transitions transitions;

    private String status = "running";
    private long seq;
    /** Appended to compute-task priorities, decreasing: later arrivals of equal priority run first. */
    private long generation;
    private boolean validate;

    /**
     * @param address   this worker's contact address (its own entries are dropped from who_has)
     * @param nthreads  tasks executing at once
     * @param resources what the worker advertises (e.g. {@code java=4}); restrictions draw from it
     * @param limits    transfer limits
     * @param release   called once with every value the state drops
     */
    public WorkerState(String address, int nthreads, Map<String, Double> resources, Limits limits,
                       Consumer<Object> release) {
        if (nthreads < 1) {
            throw new IllegalArgumentException("nthreads: " + nthreads + " (expected: >= 1)");
        }
        this.address = Objects.requireNonNull(address, "address");
        this.dispose = v -> {
            if (v != null && release != null) {
                release.accept(v);
            }
        };
        this.memory = new MemoryManager(tasks, story, dispose);
        this.slots = new ExecutionSlots(nthreads, resources);
        this.transfers = new TransferPlanner(address, limits, tasks);
        this.transitions = new Transitions(tasks, memory, slots, transfers, story, dispose);
    }

    /**
     * Sets the memory limit and Dask's fractions of it (distributed.yaml 2022.12: target 0.6, pause
     * 0.8). After each event, while the managed bytes held in memory exceed {@code target * limit},
     * the least recently stored value is spilled ({@link Instruction.Spill}); if they still exceed
     * {@code pause * limit} once the asked spills are done, the worker pauses (status "paused": no new
     * task starts). It resumes once the bytes in memory, counting only spills the runtime confirmed
     * ({@link Event.SpillDone}), are at or below it again: a spill that fails does not make it resume
     * and start a task it cannot hold. See {@link MemoryManager} for what is measured.
     *
     * @param limit  bytes, 0 for no limit (nothing is spilled, the worker never pauses)
     * @param target fraction at which to spill, 0 to never spill
     * @param pause  fraction at which to pause, 0 to never pause
     */
    public WorkerState memory(long limit, double target, double pause) {
        memory.configure(limit, target, pause);
        return this;
    }

    /** {@link #memory(long, double, double)} with Dask's default fractions. */
    public WorkerState memoryLimit(long limit) {
        return memory(limit, 0.6, 0.8);
    }

    /** Check every invariant after each {@link #handle} (tests turn this on). */
    public WorkerState validating(boolean on) {
        this.validate = on;
        return this;
    }

    // ---------------------------------------------------------------------------------------------
    // Entry point

    /**
     * Applies {@code events}, which happened at {@code now} (seconds since the epoch, as Python's
     * {@code time()}; stamped on the story), in order and returns what the runtime must do, in order.
     */
    public List<Instruction> handle(double now, Event... events) {
        story.at(now);
        return handle(events);
    }

    /** As {@link #handle(double, Event...)} at the time of the previous call (0 before any). */
    public List<Instruction> handle(Event... events) {
        List<Instruction> out = new ArrayList<>();
        for (Event ev : events) {
            Recs recs = new Recs(dispose);
            String sid = ev.stimulusId();
            try {
                handleEvent(ev, recs, out);
                transitions(recs, out, sid);
                manageMemory(recs, out, sid);
                transitions(recs, out, sid);
            } finally {
                transitions.eventDone();
            }
            if (validate) {
                validate();
            }
        }
        return out;
    }

    private void handleEvent(Event ev, Recs recs, List<Instruction> out) {
        String sid = ev.stimulusId();
        if (ev instanceof Event.ComputeTask e) {
            onComputeTask(e, recs, out);
        } else if (ev instanceof Event.FreeKeys e) {
            story.note(sid, "free-keys", e.keys());
            for (Object k : e.keys()) {
                TaskState ts = tasks.get(k);
                if (ts != null) {
                    recs.put(ts, Rec.of(TaskStatus.RELEASED));
                    transitions.freedByScheduler(ts);
                }
            }
        } else if (ev instanceof Event.RemoveReplicas e) {
            onRemoveReplicas(e, recs, out);
        } else if (ev instanceof Event.AcquireReplicas e) {
            for (Map.Entry<Object, Long> n : e.nbytes().entrySet()) {
                TaskState ts = ensureTaskExists(n.getKey(), List.of(1L), sid);
                if (ts.state != TaskStatus.MEMORY) {
                    ts.nbytes = n.getValue();
                    recs.put(ts, Rec.of(TaskStatus.FETCH));
                }
            }
            transfers.updateWhoHas(e.whoHas());
        } else if (ev instanceof Event.RefreshWhoHas e) {
            transfers.updateWhoHas(e.whoHas());
            for (Object k : e.whoHas().keySet()) {
                TaskState ts = tasks.get(k);
                if (ts == null) {
                    continue;
                }
                if (!ts.whoHas.isEmpty() && ts.state == TaskStatus.MISSING) {
                    recs.put(ts, Rec.of(TaskStatus.FETCH));
                } else if (ts.whoHas.isEmpty() && ts.state == TaskStatus.FETCH) {
                    recs.put(ts, Rec.of(TaskStatus.MISSING));
                }
            }
        } else if (ev instanceof Event.StealRequest e) {
            TaskState ts = tasks.get(e.key());
            out.add(new Instruction.Send(new WorkerToScheduler.StealResponse(e.key(), ts == null ? null : ts.state.daskName(), sid)));
            if (ts != null && (Transitions.isReady(ts.state) || ts.state == TaskStatus.WAITING)) {
                recs.put(ts, Rec.of(TaskStatus.RELEASED));
            }
        } else if (ev instanceof Event.CancelCompute e) {
            TaskState ts = tasks.get(e.key());
            if (ts != null && (Transitions.isReady(ts.state) || ts.state == TaskStatus.WAITING)) {
                story.note(sid, e.key(), "cancel-compute");
                recs.put(ts, Rec.of(TaskStatus.RELEASED));
            }
        } else if (ev instanceof Event.WorkerStatusChange e) {
            onStatusChange(e, recs, out);
        } else if (ev instanceof Event.UpdateData e) {
            onUpdateData(e, recs, out);
        } else if (ev instanceof Event.ExecuteSuccess e) {
            TaskState ts = tasks.get(e.key());
            if (ts == null) {
                dispose.accept(e.value());
                return;
            }
            executeDone(ts, e.start(), e.stop(), e.thread(), recs);
            ts.nbytes = e.nbytes();
            ts.type = e.type();
            ts.typename = e.typename();
            recs.put(ts, Rec.memory(e.value()));
        } else if (ev instanceof Event.ExecuteFailure e) {
            TaskState ts = tasks.get(e.key());
            if (ts == null) {
                return;
            }
            executeDone(ts, e.start(), e.stop(), e.thread(), recs);
            recs.put(ts, Rec.error(new Rec.ErrorInfo(e.exception(), e.traceback(), e.exceptionText(),
                    e.tracebackText())));
        } else if (ev instanceof Event.GatherDepSuccess e) {
            onGatherDepSuccess(e, recs);
        } else if (ev instanceof Event.GatherDepBusy e) {
            transfers.busy(e.worker());
            List<Object> refresh = new ArrayList<>();
            for (TaskState ts : transfers.gatherDone(e.worker())) {
                recs.put(ts, Rec.of(TaskStatus.FETCH));
                if (transfers.onlyBusyHolders(ts)) {
                    refresh.add(ts.key);
                }
            }
            out.add(new Instruction.RetryBusyWorkerLater(e.worker(), sid));
            if (!refresh.isEmpty()) {
                out.add(new Instruction.Send(new WorkerToScheduler.RequestRefreshWhoHas(refresh, sid)));
            }
        } else if (ev instanceof Event.GatherDepNetworkFailure e) {
            for (TaskState ts : transfers.gatherDone(e.worker())) {
                story.note(sid, ts.key, "missing-dep");
                recs.put(ts, Rec.of(TaskStatus.FETCH));
            }
            for (TaskState ts : transfers.workerGone(e.worker())) {
                recs.put(ts, Rec.of(TaskStatus.MISSING));
            }
        } else if (ev instanceof Event.GatherDepFailure e) {
            for (TaskState ts : transfers.gatherDone(e.worker())) {
                recs.put(ts, Rec.error(new Rec.ErrorInfo(e.exception(), null, e.exceptionText(), "")));
            }
        } else if (ev instanceof Event.RetryBusyWorker e) {
            transfers.notBusy(e.worker());
        } else if (ev instanceof Event.SpillDone e) {
            memory.spillDone(e.key());
        } else if (ev instanceof Event.SpillFailed e) {
            memory.spillFailed(e, out);
        } else if (ev instanceof Event.RetrySpill) {
            memory.retrySpill();
        } else if (ev instanceof Event.FindMissing) {
            List<Object> keys = transfers.missingKeys();
            if (!keys.isEmpty()) {
                out.add(new Instruction.Send(new WorkerToScheduler.RequestRefreshWhoHas(keys, sid)));
            }
        } else {
            throw new IllegalArgumentException("unknown event " + ev);
        }
    }

    private void onComputeTask(Event.ComputeTask e, Recs recs, List<Instruction> out) {
        TaskState ts = tasks.get(e.key());
        if (ts == null) {
            ts = newTask(e.key());
        }
        story.note(e.stimulusId(), e.key(), "compute-task", ts.state);
        switch (ts.state) {
            case READY, CONSTRAINED, EXECUTING, WAITING -> {
                // already on its way
            }
            case MEMORY -> out.add(Transitions.taskFinished(ts, e.stimulusId()));
            case ERROR -> out.add(Transitions.taskErred(ts, e.stimulusId()));
            case RELEASED, FETCH, FLIGHT, MISSING, CANCELLED, RESUMED -> {
                recs.put(ts, Rec.of(TaskStatus.WAITING));
                ts.runSpec = e.runSpec();
                List<Number> p = new ArrayList<>(e.priority());
                p.add(generation--);
                setPriority(ts, List.copyOf(p));
                ts.exception = null;
                ts.traceback = null;
                ts.exceptionText = "";
                ts.tracebackText = "";
                ts.duration = e.duration();
                ts.runId = e.runId();
                // A still-running cancelled execution keeps the restrictions it acquired resources for.
                if (!((ts.state == TaskStatus.CANCELLED || ts.state == TaskStatus.RESUMED)
                        && ts.previous == TaskStatus.EXECUTING)) {
                    ts.resourceRestrictions = e.resourceRestrictions();
                }
                for (Map.Entry<Object, Long> d : e.nbytes().entrySet()) {
                    TaskState dep = ensureTaskExists(d.getKey(), ts.priority, e.stimulusId());
                    if (dep.state != TaskStatus.MEMORY) {
                        dep.nbytes = d.getValue();
                    }
                    ts.dependencies.add(dep);
                    dep.dependents.add(ts);
                }
                transfers.updateWhoHas(e.whoHas());
            }
            default -> throw story.invalid(ts.key, "compute-task in state " + ts.state);
        }
    }

    private void onRemoveReplicas(Event.RemoveReplicas e, Recs recs, List<Instruction> out) {
        List<Object> rejected = new ArrayList<>();
        for (Object k : e.keys()) {
            TaskState ts = tasks.get(k);
            if (ts == null || ts.state != TaskStatus.MEMORY) {
                continue;
            }
            if (!ts.isProtected()) {
                story.note(e.stimulusId(), k, "remove-replica-confirmed");
                recs.put(ts, Rec.of(TaskStatus.RELEASED));
            } else {
                rejected.add(k);
            }
        }
        if (!rejected.isEmpty()) {
            story.note(e.stimulusId(), "remove-replica-rejected", rejected);
            out.add(new Instruction.Send(new WorkerToScheduler.AddKeys(rejected, e.stimulusId())));
        }
    }

    private void onStatusChange(Event.WorkerStatusChange e, Recs recs, List<Instruction> out) {
        memory.statusSetByScheduler();
        String prev = status;
        status = e.status();
        out.add(new Instruction.Send(new WorkerToScheduler.WorkerStatusChange(status, e.stimulusId())));
        if ("running".equals(status) && !"running".equals(prev)) {
            slots.running(true);
            slots.fill(recs);
        } else if (!"running".equals(status)) {
            slots.running(false);
        }
    }

    private void onUpdateData(Event.UpdateData e, Recs recs, List<Instruction> out) {
        for (Map.Entry<Object, Object> d : e.data().entrySet()) {
            TaskState ts = tasks.get(d.getKey());
            Long n = e.nbytes().get(d.getKey());
            if (ts != null) {
                if (n != null && ts.state != TaskStatus.MEMORY) {
                    ts.nbytes = n;
                }
                recs.put(ts, Rec.memory(d.getValue()));
            } else {
                ts = newTask(d.getKey());
                ts.nbytes = n;
                transitions.putKeyInMemory(ts, d.getValue(), recs, e.stimulusId());
            }
            story.note(e.stimulusId(), d.getKey(), "receive-from-scatter");
        }
        if (e.report()) {
            out.add(new Instruction.Send(new WorkerToScheduler.AddKeys(new ArrayList<>(e.data().keySet()), e.stimulusId())));
        }
    }

    private void onGatherDepSuccess(Event.GatherDepSuccess e, Recs recs) {
        Set<Object> requested = transfers.requestedFrom(e.worker());
        for (Map.Entry<Object, Object> d : e.data().entrySet()) {
            if (!requested.contains(d.getKey())) {
                dispose.accept(d.getValue()); // a peer sent what we did not ask for
            }
        }
        for (TaskState ts : transfers.gatherDone(e.worker())) {
            if (e.data().containsKey(ts.key)) {
                Long n = e.nbytes().get(ts.key);
                if (n != null) {
                    ts.nbytes = n;
                }
                recs.put(ts, Rec.memory(e.data().get(ts.key)));
            } else {
                story.note(e.stimulusId(), ts.key, "missing-dep");
                transfers.replicaGone(ts, e.worker());
                recs.put(ts, Rec.of(TaskStatus.FETCH));
            }
        }
    }

    /** An execution of {@code ts} reported back (either way). */
    private void executeDone(TaskState ts, double start, double stop, long thread, Recs recs) {
        slots.noteComputeTime(start, stop);
        ts.done = true;
        slots.finished(ts);
        slots.fill(recs);
        ts.startstops.add(new StartStop("compute", start, stop));
        ts.thread = thread;
    }

    /** Spills and pauses or resumes as {@link #memory} describes; resuming may recommend tasks. */
    private void manageMemory(Recs recs, List<Instruction> out, String sid) {
        switch (memory.manage(status, out, sid)) {
            case PAUSE -> {
                status = "paused";
                slots.running(false);
                out.add(new Instruction.Send(new WorkerToScheduler.WorkerStatusChange(status, sid)));
            }
            case RESUME -> {
                status = "running";
                slots.running(true);
                out.add(new Instruction.Send(new WorkerToScheduler.WorkerStatusChange(status, sid)));
                slots.fill(recs);
            }
            case NONE -> {
            }
        }
    }

    /** Applies the recommendations, then starts the fetches they made possible. */
    private void transitions(Recs recs, List<Instruction> out, String sid) {
        transitions.process(recs, out, sid);
        Recs more = new Recs(dispose);
        ensureCommunicating(more, out, sid);
        transitions.process(more, out, sid);
    }

    /** Moves tasks from fetch to flight, one GatherDep per peer, as the transfer planner picks them. */
    private void ensureCommunicating(Recs recs, List<Instruction> out, String sid) {
        if (!slots.running()) {
            return;
        }
        for (TransferPlanner.Gather g : transfers.plan()) {
            for (TaskState ts : g.tasks()) {
                recs.put(ts, Rec.flight(g.worker()));
            }
            story.note(sid, "gather-dependencies", g.worker(), g.keys());
            out.add(new Instruction.GatherDep(g.worker(), g.keys(), g.nbytes(), sid));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers

    private TaskState newTask(Object key) {
        TaskState ts = new TaskState(key, seq++);
        tasks.put(key, ts);
        return ts;
    }

    private TaskState ensureTaskExists(Object key, List<Number> priority, String sid) {
        TaskState ts = tasks.get(key);
        if (ts == null) {
            ts = newTask(key);
        }
        if (ts.priority == null || ts.priority.isEmpty()) {
            setPriority(ts, priority);
        }
        story.note(sid, key, "ensure-task-exists", ts.state);
        return ts;
    }

    /** Priorities order the sorted sets a task may sit in: take it out while the key changes. */
    private void setPriority(TaskState ts, List<Number> priority) {
        TreeSet<TaskState> queue = slots.unqueue(ts);
        List<TreeSet<TaskState>> needed = transfers.unlist(ts);
        ts.priority = priority;
        ExecutionSlots.requeue(queue, ts);
        TransferPlanner.relist(needed, ts);
    }

    // ---------------------------------------------------------------------------------------------
    // Read access for the runtime (heartbeats, get_data, get_story) and tests

    /**
     * distributed's {@code WorkerState.story(*keys_or_stimuli)}, which a worker's {@code get_story}
     * RPC returns: the entries of the recent log (see {@link StoryLog} for their shapes) that mention
     * one of {@code keysOrStimuli}, oldest first, each a list of plain values (strs, numbers, lists,
     * a map of recommendations). Keys are as in events: a tuple key is a {@code List}.
     */
    public List<List<Object>> story(Collection<?> keysOrStimuli) {
        return story.select(keysOrStimuli);
    }

    public String address() {
        return address;
    }

    public int nthreads() {
        return slots.nthreads();
    }

    public Map<String, Double> totalResources() {
        return Map.copyOf(slots.totalResources);
    }

    public Map<String, Double> availableResources() {
        return Map.copyOf(slots.availableResources);
    }

    public String status() {
        return status;
    }

    /** The state of {@code key}, or null if the worker does not know it. */
    public TaskStatus stateOf(Object key) {
        TaskState ts = tasks.get(key);
        return ts == null ? null : ts.state;
    }

    public boolean hasData(Object key) {
        return memory.contains(key);
    }

    /** The stored value of {@code key} (owned by the state), or null. */
    public Object data(Object key) {
        return memory.get(key);
    }

    public Long nbytes(Object key) {
        TaskState ts = tasks.get(key);
        return ts == null || !memory.contains(key) ? null : ts.nbytes;
    }

    public Set<Object> dataKeys() {
        return memory.keys();
    }

    public int taskCount() {
        return tasks.size();
    }

    public int executingCount() {
        return slots.executing.size();
    }

    public long managedBytes() {
        return memory.managedBytes;
    }

    /** Managed bytes of the values spilled to disk (included in {@link #managedBytes}). */
    public long spilledBytes() {
        return memory.spilledBytes;
    }

    /** Whether {@code key}'s value was spilled to disk. */
    public boolean isSpilled(Object key) {
        return memory.isSpilled(key);
    }

    public long transferIncomingBytes() {
        return transfers.transferIncomingBytes;
    }

    public int transferIncomingCount() {
        return transfers.transferIncomingCount();
    }

    /** Keys executing now (cancelled ones included), for heartbeats. */
    public List<Object> executingKeys() {
        List<Object> r = new ArrayList<>();
        for (TaskState ts : slots.executing) {
            r.add(ts.key);
        }
        return r;
    }

    /** distributed WorkerState.task_counts, the field set heartbeats carry. */
    public Map<String, Long> taskCounts() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("executing", (long) slots.executing.size());
        m.put("long-running", 0L);
        m.put("memory", (long) memory.size());
        m.put("ready", (long) slots.ready.size());
        m.put("constrained", (long) slots.constrained.size());
        m.put("waiting", (long) transitions.waiting.size());
        m.put("fetch", transfers.fetchCount);
        m.put("missing", (long) transfers.missingDepFlight.size());
        m.put("flight", (long) transfers.inFlightTasks.size());
        long sum = 0;
        for (long v : m.values()) {
            sum += v;
        }
        m.put("other", Math.max(0, tasks.size() - sum));
        return m;
    }

    /** Releases every stored value (the worker is closing). */
    public void releaseAll() {
        memory.releaseAll();
    }

    /** Throws if any invariant between tasks and the indexes over them is broken. */
    public void validate() {
        Invariants.check(this);
    }

    /** For tests: every key known, with its state. */
    public Map<Object, TaskStatus> states() {
        Map<Object, TaskStatus> r = new LinkedHashMap<>();
        for (TaskState ts : tasks.values()) {
            r.put(ts.key, ts.state);
        }
        return r;
    }
}
