package org.cloudviper.worker.state;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The worker as a pure state machine: {@link #handle} takes events and returns instructions; nothing
 * here does I/O, starts threads or reads a clock (times arrive inside events). A port of the parts of
 * distributed/worker_state_machine.py {@code WorkerState} that a worker without secede/actors needs:
 * compute-task through waiting, ready/constrained, executing to memory or error; dependencies
 * fetched from peers (fetch, flight, missing) in priority order within transfer limits; free-keys,
 * steal-request, cancel-compute, acquire-/remove-replicas, refresh-who-has, scatter, pause.
 *
 * <p>Every state change goes through one transition table ({@code (from, to) -> handler}, handlers
 * named {@code fromToTo}); a pair without a handler passes through "released" as in Dask, and an
 * impossible pair throws with the key's recent story. Values are opaque; the state owns what it
 * stores and passes each value to {@code release} once it drops it (the runtime frees buffers there).
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

    private static final int STORY_LENGTH = 10_000;
    /** Dask's default-data-size: assumed size of a key whose size nobody reported. */
    static final long DEFAULT_DATA_SIZE = 1024;

    private static final Comparator<List<Number>> PRIORITY = WorkerState::comparePriority;
    private static final Comparator<TaskState> BY_PRIORITY = (a, b) -> {
        int c = PRIORITY.compare(a.priority == null ? List.of() : a.priority,
                b.priority == null ? List.of() : b.priority);
        return c != 0 ? c : Long.compare(a.seq, b.seq);
    };

    private final String address;
    private final String ownHost;
    /**
     * Tasks the current free-keys event releases. Distributed's worker answers each with
     * release-worker-data, which the scheduler ignores: it dropped the replica before sending
     * free-keys (scheduler.py release_worker_data, 2022.12.1 and 2024.12.1, returns when the worker
     * is not in who_has). Saying nothing saves a message per task.
     */
    private final Set<TaskState> freedByScheduler = new HashSet<>();
    private final int nthreads;
    private final Limits limits;
    private final Consumer<Object> release;

    private final Map<Object, TaskState> tasks = new HashMap<>();
    private final Map<Object, Object> data = new HashMap<>();
    private final TreeSet<TaskState> ready = new TreeSet<>(BY_PRIORITY);
    private final TreeSet<TaskState> constrained = new TreeSet<>(BY_PRIORITY);
    private final Set<TaskState> waiting = new LinkedHashSet<>();
    private final Set<TaskState> executing = new LinkedHashSet<>();
    /** Recent compute time per task, seconds (NaN before the first); sets {@link #executionSlots()}. */
    private double meanComputeSeconds = Double.NaN;
    private final Set<TaskState> inFlightTasks = new LinkedHashSet<>();
    private final Set<TaskState> missingDepFlight = new LinkedHashSet<>();
    private final Map<String, TreeSet<TaskState>> dataNeeded = new LinkedHashMap<>();
    private final Map<String, Set<Object>> hasWhat = new HashMap<>();
    private final Map<String, InFlight> inFlightWorkers = new LinkedHashMap<>();
    private final Set<String> busyWorkers = new LinkedHashSet<>();
    private final Map<String, Double> totalResources;
    private final Map<String, Double> availableResources;
    /** Recent transitions and events, formatted only when read (a line per transition would cost more than the transition). */
    private final Deque<Object> story = new ArrayDeque<>();

    private boolean running = true;
    private String status = "running";
    private long seq;
    /** Appended to compute-task priorities, decreasing: later arrivals of equal priority run first. */
    private long generation;
    private long fetchCount;
    private long transferIncomingBytes;
    private long managedBytes;
    private boolean validate;

    // Memory management (distributed.worker.memory.*). The measure is the managed bytes of stored
    // values -- their serialized sizes as reported with each result (ts.nbytes) -- not the process's
    // resident memory: the JVM does not return freed heap or pooled buffers to the OS, so RSS would
    // not fall after spilling or freeing and the worker could never resume.
    private long memoryLimit;
    private double targetFraction = 0.6;
    private double pauseFraction = 0.8;
    /** Keys whose values are held in memory, least recently stored first (the spill order). */
    private final LinkedHashSet<Object> fast = new LinkedHashSet<>();
    /** Keys whose values were spilled to disk (the runtime said so), with the bytes accounted for each. */
    private final Map<Object, Long> spilled = new HashMap<>();
    private long spilledBytes;
    /**
     * Keys the runtime was told to spill ({@link Instruction.Spill}) and has not answered yet
     * ({@link Event.SpillDone} or {@link Event.SpillFailed}): no longer spill candidates, but still in
     * memory as far as resuming from a pause is concerned.
     */
    private final Map<Object, Long> spilling = new HashMap<>();
    private long spillingBytes;
    /**
     * True after a spill failed, until {@link Event.RetrySpill}: no spilling meanwhile, so values
     * stay in memory and the pause fraction is what protects the worker (as in distributed, where a
     * failed spill keeps the value in memory and the memory monitor pauses the worker).
     */
    private boolean spillSuspended;
    /** True while the worker is paused because of memory (and only then resumes by itself). */
    private boolean memoryPaused;

    private record InFlight(List<Object> keys, long nbytes) {
    }

    /** A recommendation: the target state plus what that transition needs. */
    private record Rec(TaskStatus to, Object value, boolean hasValue, ErrorInfo error, String worker) {
        static Rec of(TaskStatus to) {
            return new Rec(to, null, false, null, null);
        }

        static Rec memory(Object value) {
            return new Rec(TaskStatus.MEMORY, value, true, null, null);
        }

        static Rec flight(String worker) {
            return new Rec(TaskStatus.FLIGHT, null, false, null, worker);
        }

        static Rec error(ErrorInfo e) {
            return new Rec(TaskStatus.ERROR, null, false, e, null);
        }
    }

    private record ErrorInfo(Object exception, Object traceback, String exceptionText, String tracebackText) {
    }

    /** Pending recommendations, in insertion order; a replaced value that was never stored is released. */
    /**
     * Recommended transitions, in the order first recommended; a later recommendation for the same
     * task replaces the earlier one in place. Usually one to three entries: those live in two small
     * lists searched by identity, because creating and resizing a hash map per event showed in
     * profiles; past {@link #SMALL} entries (a free-keys of many keys) a linked map takes over.
     */
    private final class Recs {
        private static final int SMALL = 8;
        // Up to SMALL recommendations in two parallel arrays, allocated on the first put: most events
        // make few recommendations, and many Recs stay empty.
        private TaskState[] tasks;
        private Rec[] recs;
        private int size;
        private LinkedHashMap<TaskState, Rec> big;

        private int indexOf(TaskState ts) {
            for (int i = 0; i < size; i++) {
                if (tasks[i] == ts) {
                    return i;
                }
            }
            return -1;
        }

        void put(TaskState ts, Rec r) {
            Rec old;
            if (big != null) {
                old = big.put(ts, r);
            } else {
                int i = indexOf(ts);
                if (i >= 0) {
                    old = recs[i];
                    recs[i] = r;
                } else if (size < SMALL) {
                    if (tasks == null) {
                        tasks = new TaskState[SMALL];
                        recs = new Rec[SMALL];
                    }
                    tasks[size] = ts;
                    recs[size++] = r;
                    return;
                } else {
                    big = new LinkedHashMap<>(4 * SMALL);
                    for (int j = 0; j < size; j++) {
                        big.put(tasks[j], recs[j]);
                    }
                    clearSmall();
                    big.put(ts, r);
                    return;
                }
            }
            if (old != null && old.hasValue() && (!r.hasValue() || r.value() != old.value())) {
                dispose(old.value());
            }
        }

        private void clearSmall() {
            java.util.Arrays.fill(tasks, 0, size, null);
            java.util.Arrays.fill(recs, 0, size, null);
            size = 0;
        }

        void putAll(Recs other) {
            if (other.big != null) {
                for (Map.Entry<TaskState, Rec> e : other.big.entrySet()) {
                    put(e.getKey(), e.getValue());
                }
                other.big = null;
            } else if (other.size > 0) {
                for (int i = 0; i < other.size; i++) {
                    put(other.tasks[i], other.recs[i]);
                }
                other.clearSmall();
            }
        }

        Rec remove(TaskState ts) {
            if (big != null) {
                return big.remove(ts);
            }
            int i = indexOf(ts);
            if (i < 0) {
                return null;
            }
            Rec r = recs[i];
            removeAt(i);
            return r;
        }

        private void removeAt(int i) {
            System.arraycopy(tasks, i + 1, tasks, i, size - i - 1);
            System.arraycopy(recs, i + 1, recs, i, size - i - 1);
            size--;
            tasks[size] = null;
            recs[size] = null;
        }

        boolean isEmpty() {
            return big != null ? big.isEmpty() : size == 0;
        }

        /** The oldest recommendation's task; with {@link #pollFirstRec} it takes the entry out. */
        TaskState firstTask() {
            return big != null ? big.keySet().iterator().next() : tasks[0];
        }

        Rec pollFirstRec() {
            if (big != null) {
                Iterator<Map.Entry<TaskState, Rec>> it = big.entrySet().iterator();
                Rec r = it.next().getValue();
                it.remove();
                return r;
            }
            Rec r = recs[0];
            removeAt(0);
            return r;
        }
    }

    @FunctionalInterface
    private interface Handler {
        void apply(WorkerState s, TaskState ts, Rec rec, Recs recs, List<Instruction> out, String sid);
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
        on(CA, E, (s, ts, r, recs, out, sid) -> s.cancelledToReleased(ts, recs, out, sid));
        on(CA, F, (s, ts, r, recs, out, sid) -> s.cancelledToFetch(ts, recs));
        on(CA, M, (s, ts, r, recs, out, sid) -> {
            s.dispose(r.value()); // computed or fetched for nobody
            s.cancelledToReleased(ts, recs, out, sid);
        });
        on(CA, MI, (s, ts, r, recs, out, sid) -> s.cancelledToReleased(ts, recs, out, sid));
        on(CA, R, (s, ts, r, recs, out, sid) -> s.cancelledToReleased(ts, recs, out, sid));
        on(CA, W, (s, ts, r, recs, out, sid) -> s.cancelledToWaiting(ts));
        on(RS, E, (s, ts, r, recs, out, sid) -> s.resumedToError(ts, recs));
        on(RS, F, (s, ts, r, recs, out, sid) -> s.resumedToFetch(ts, recs));
        on(RS, M, (s, ts, r, recs, out, sid) -> s.resumedToMemory(ts, r.value(), recs, out, sid));
        on(RS, R, (s, ts, r, recs, out, sid) -> s.resumedToReleased(ts));
        on(RS, W, (s, ts, r, recs, out, sid) -> s.resumedToWaiting(ts));
        on(C, X, (s, ts, r, recs, out, sid) -> s.readyToExecuting(ts, out, sid));
        on(C, R, (s, ts, r, recs, out, sid) -> s.genericReleased(ts, recs));
        on(E, R, (s, ts, r, recs, out, sid) -> s.genericReleased(ts, recs));
        on(X, E, (s, ts, r, recs, out, sid) -> s.genericError(ts, r.error(), out, sid));
        on(X, M, (s, ts, r, recs, out, sid) -> s.toMemory(ts, r.value(), false, recs, out, sid));
        on(X, R, (s, ts, r, recs, out, sid) -> s.executingToReleased(ts));
        on(F, FL, (s, ts, r, recs, out, sid) -> s.fetchToFlight(ts, r.worker()));
        on(F, MI, (s, ts, r, recs, out, sid) -> {
            s.fetchCount--;
            s.genericMissing(ts);
        });
        on(F, R, (s, ts, r, recs, out, sid) -> {
            s.fetchCount--;
            s.genericReleased(ts, recs);
        });
        on(FL, E, (s, ts, r, recs, out, sid) -> s.genericError(ts, r.error(), out, sid));
        on(FL, F, (s, ts, r, recs, out, sid) -> {
            if (ts.done) {
                s.genericFetch(ts, recs);
            }
        });
        on(FL, M, (s, ts, r, recs, out, sid) -> s.toMemory(ts, r.value(), true, recs, out, sid));
        on(FL, MI, (s, ts, r, recs, out, sid) -> s.genericMissing(ts));
        on(FL, R, (s, ts, r, recs, out, sid) -> s.flightToReleased(ts));
        on(M, R, (s, ts, r, recs, out, sid) -> s.memoryToReleased(ts, recs, out, sid));
        on(MI, E, (s, ts, r, recs, out, sid) -> s.genericError(ts, r.error(), out, sid));
        on(MI, F, (s, ts, r, recs, out, sid) -> s.missingToFetch(ts, recs));
        on(MI, R, (s, ts, r, recs, out, sid) -> {
            s.missingDepFlight.remove(ts);
            s.genericReleased(ts, recs);
        });
        on(MI, W, (s, ts, r, recs, out, sid) -> {
            s.missingDepFlight.remove(ts);
            s.purgeState(ts);
            s.releasedToWaiting(ts, recs);
        });
        on(RD, X, (s, ts, r, recs, out, sid) -> s.readyToExecuting(ts, out, sid));
        on(RD, R, (s, ts, r, recs, out, sid) -> s.genericReleased(ts, recs));
        on(R, E, (s, ts, r, recs, out, sid) -> s.genericError(ts, r.error(), out, sid));
        on(R, F, (s, ts, r, recs, out, sid) -> s.genericFetch(ts, recs));
        on(R, FG, (s, ts, r, recs, out, sid) -> s.releasedToForgotten(ts, recs));
        on(R, M, (s, ts, r, recs, out, sid) -> s.toMemory(ts, r.value(), true, recs, out, sid));
        on(R, MI, (s, ts, r, recs, out, sid) -> s.genericMissing(ts));
        on(R, W, (s, ts, r, recs, out, sid) -> s.releasedToWaiting(ts, recs));
        on(W, C, (s, ts, r, recs, out, sid) -> s.waitingToConstrained(ts, recs));
        on(W, RD, (s, ts, r, recs, out, sid) -> s.waitingToReady(ts, recs));
        on(W, R, (s, ts, r, recs, out, sid) -> s.genericReleased(ts, recs));
    }

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
        this.ownHost = host(address);
        this.nthreads = nthreads;
        this.limits = limits;
        this.release = release;
        this.totalResources = new LinkedHashMap<>(resources);
        this.availableResources = new LinkedHashMap<>(resources);
    }

    /**
     * Sets the memory limit and Dask's fractions of it (distributed.yaml 2022.12: target 0.6, pause
     * 0.8). After each event, while the managed bytes held in memory exceed {@code target * limit},
     * the least recently stored value is spilled ({@link Instruction.Spill}); if they still exceed
     * {@code pause * limit} once the asked spills are done, the worker pauses (status "paused": no new
     * task starts). It resumes once the bytes in memory, counting only spills the runtime confirmed
     * ({@link Event.SpillDone}), are at or below it again: a spill that fails does not make it resume
     * and start a task it cannot hold. Dask's separate "spill" fraction (0.7) applies to process
     * memory, which this worker does not measure (see the field comment), so it has no counterpart.
     *
     * @param limit  bytes, 0 for no limit (nothing is spilled, the worker never pauses)
     * @param target fraction at which to spill, 0 to never spill
     * @param pause  fraction at which to pause, 0 to never pause
     */
    public WorkerState memory(long limit, double target, double pause) {
        if (limit < 0) {
            throw new IllegalArgumentException("memory limit: " + limit + " (expected: >= 0)");
        }
        if (!(target >= 0 && target <= 1) || !(pause >= 0 && pause <= 1)) {
            throw new IllegalArgumentException("memory fractions: target " + target + ", pause " + pause
                    + " (expected: 0 (off) or in (0, 1])");
        }
        this.memoryLimit = limit;
        this.targetFraction = target;
        this.pauseFraction = pause;
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

    /** Applies {@code events} in order and returns what the runtime must do, in order. */
    public List<Instruction> handle(Event... events) {
        List<Instruction> out = new ArrayList<>();
        for (Event ev : events) {
            Recs recs = new Recs();
            try {
                handleEvent(ev, recs, out);
                transitions(recs, out, ev.stimulusId());
                manageMemory(recs, out, ev.stimulusId());
                transitions(recs, out, ev.stimulusId());
            } finally {
                freedByScheduler.clear();
            }
            if (validate) {
                validate();
            }
        }
        return out;
    }

    private void handleEvent(Event ev, Recs recs, List<Instruction> out) {
        note(new EventNote(ev.getClass(), ev.stimulusId()));
        if (ev instanceof Event.ComputeTask e) {
            onComputeTask(e, recs, out);
        } else if (ev instanceof Event.FreeKeys e) {
            for (Object k : e.keys()) {
                TaskState ts = tasks.get(k);
                if (ts != null) {
                    recs.put(ts, Rec.of(TaskStatus.RELEASED));
                    freedByScheduler.add(ts);
                }
            }
        } else if (ev instanceof Event.RemoveReplicas e) {
            onRemoveReplicas(e, recs, out);
        } else if (ev instanceof Event.AcquireReplicas e) {
            for (Map.Entry<Object, Long> n : e.nbytes().entrySet()) {
                TaskState ts = ensureTaskExists(n.getKey(), List.of(1L));
                if (ts.state != TaskStatus.MEMORY) {
                    ts.nbytes = n.getValue();
                    recs.put(ts, Rec.of(TaskStatus.FETCH));
                }
            }
            updateWhoHas(e.whoHas());
        } else if (ev instanceof Event.RefreshWhoHas e) {
            updateWhoHas(e.whoHas());
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
            out.add(new Instruction.StealResponse(e.key(), ts == null ? null : ts.state.daskName(), e.stimulusId()));
            if (ts != null && (isReady(ts.state) || ts.state == TaskStatus.WAITING)) {
                recs.put(ts, Rec.of(TaskStatus.RELEASED));
            }
        } else if (ev instanceof Event.CancelCompute e) {
            TaskState ts = tasks.get(e.key());
            if (ts != null && (isReady(ts.state) || ts.state == TaskStatus.WAITING)) {
                recs.put(ts, Rec.of(TaskStatus.RELEASED));
            }
        } else if (ev instanceof Event.WorkerStatusChange e) {
            onStatusChange(e, recs, out);
        } else if (ev instanceof Event.UpdateData e) {
            onUpdateData(e, recs, out);
        } else if (ev instanceof Event.ExecuteSuccess e) {
            TaskState ts = tasks.get(e.key());
            if (ts == null) {
                dispose(e.value());
                return;
            }
            noteComputeTime(e.start(), e.stop());
            executeDoneCommon(ts, recs);
            ts.startstops.add(new Instruction.StartStop("compute", e.start(), e.stop()));
            ts.thread = e.thread();
            ts.nbytes = e.nbytes();
            ts.type = e.type();
            ts.typename = e.typename();
            recs.put(ts, Rec.memory(e.value()));
        } else if (ev instanceof Event.ExecuteFailure e) {
            TaskState ts = tasks.get(e.key());
            if (ts == null) {
                return;
            }
            noteComputeTime(e.start(), e.stop());
            executeDoneCommon(ts, recs);
            ts.startstops.add(new Instruction.StartStop("compute", e.start(), e.stop()));
            ts.thread = e.thread();
            recs.put(ts, Rec.error(new ErrorInfo(e.exception(), e.traceback(), e.exceptionText(), e.tracebackText())));
        } else if (ev instanceof Event.GatherDepSuccess e) {
            onGatherDepSuccess(e, recs);
        } else if (ev instanceof Event.GatherDepBusy e) {
            busyWorkers.add(e.worker());
            List<Object> refresh = new ArrayList<>();
            for (TaskState ts : gatherDepDone(e.worker())) {
                recs.put(ts, Rec.of(TaskStatus.FETCH));
                if (!ts.whoHas.stream().anyMatch(w -> !busyWorkers.contains(w))) {
                    refresh.add(ts.key);
                }
            }
            out.add(new Instruction.RetryBusyWorkerLater(e.worker(), e.stimulusId()));
            if (!refresh.isEmpty()) {
                out.add(new Instruction.RequestRefreshWhoHas(refresh, e.stimulusId()));
            }
        } else if (ev instanceof Event.GatherDepNetworkFailure e) {
            for (TaskState ts : gatherDepDone(e.worker())) {
                recs.put(ts, Rec.of(TaskStatus.FETCH));
            }
            TreeSet<TaskState> needed = dataNeeded.remove(e.worker());
            if (needed != null) {
                for (TaskState ts : needed) {
                    if (ts.whoHas.size() == 1 && ts.whoHas.contains(e.worker())) {
                        recs.put(ts, Rec.of(TaskStatus.MISSING));
                    }
                }
            }
            Set<Object> had = hasWhat.remove(e.worker());
            if (had != null) {
                for (Object k : had) {
                    TaskState ts = tasks.get(k);
                    if (ts != null) {
                        ts.whoHas.remove(e.worker());
                    }
                }
            }
        } else if (ev instanceof Event.GatherDepFailure e) {
            for (TaskState ts : gatherDepDone(e.worker())) {
                recs.put(ts, Rec.error(new ErrorInfo(e.exception(), null, e.exceptionText(), "")));
            }
        } else if (ev instanceof Event.RetryBusyWorker e) {
            busyWorkers.remove(e.worker());
        } else if (ev instanceof Event.SpillDone e) {
            onSpillDone(e);
        } else if (ev instanceof Event.SpillFailed e) {
            onSpillFailed(e, out);
        } else if (ev instanceof Event.RetrySpill e) {
            spillSuspended = false;
        } else if (ev instanceof Event.FindMissing e) {
            if (!missingDepFlight.isEmpty()) {
                List<Object> keys = new ArrayList<>();
                for (TaskState ts : missingDepFlight) {
                    keys.add(ts.key);
                }
                out.add(new Instruction.RequestRefreshWhoHas(keys, e.stimulusId()));
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
        switch (ts.state) {
            case READY, CONSTRAINED, EXECUTING, WAITING -> {
                // already on its way
            }
            case MEMORY -> out.add(taskFinished(ts, e.stimulusId()));
            case ERROR -> out.add(taskErred(ts, e.stimulusId()));
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
                    TaskState dep = ensureTaskExists(d.getKey(), ts.priority);
                    if (dep.state != TaskStatus.MEMORY) {
                        dep.nbytes = d.getValue();
                    }
                    ts.dependencies.add(dep);
                    dep.dependents.add(ts);
                }
                updateWhoHas(e.whoHas());
            }
            default -> throw invalid(ts, "compute-task in state " + ts.state);
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
                recs.put(ts, Rec.of(TaskStatus.RELEASED));
            } else {
                rejected.add(k);
            }
        }
        if (!rejected.isEmpty()) {
            out.add(new Instruction.AddKeys(rejected, e.stimulusId()));
        }
    }

    /** Spills and pauses or resumes as {@link #memory} describes; resuming may recommend tasks. */
    private void manageMemory(Recs recs, List<Instruction> out, String sid) {
        if (memoryLimit <= 0) {
            return;
        }
        if (targetFraction > 0 && !spillSuspended) {
            long target = (long) (targetFraction * memoryLimit);
            Iterator<Object> oldest = fast.iterator();
            while (managedBytes - spilledBytes - spillingBytes > target && oldest.hasNext()) {
                Object k = oldest.next();
                oldest.remove();
                long n = nbytesOf(tasks.get(k));
                spilling.put(k, n);
                spillingBytes += n;
                note("spill " + k + " " + n + " " + sid);
                out.add(new Instruction.Spill(k, sid));
            }
        }
        if (pauseFraction > 0) {
            long pause = (long) (pauseFraction * memoryLimit);
            boolean over = managedBytes - spilledBytes - spillingBytes > pause;
            if (over && "running".equals(status)) {
                memoryPaused = true;
                status = "paused";
                running = false;
                note("pause: " + (managedBytes - spilledBytes) + " bytes in memory " + sid);
                out.add(new Instruction.WorkerStatus(status, sid));
            } else if (managedBytes - spilledBytes <= pause && memoryPaused && "paused".equals(status)) {
                memoryPaused = false;
                status = "running";
                running = true;
                note("resume: " + (managedBytes - spilledBytes) + " bytes in memory " + sid);
                out.add(new Instruction.WorkerStatus(status, sid));
                ensureComputing(recs);
            }
        }
    }

    /**
     * A spill the runtime could not do: the value is in memory after all. It goes back among the
     * in-memory values as the most recently stored (a retry picks others first) and spilling waits
     * for {@link Event.RetrySpill}. A key freed meanwhile needs nothing.
     */
    private void onSpillFailed(Event.SpillFailed e, List<Instruction> out) {
        Long n = spilling.remove(e.key());
        if (n == null) {
            return;
        }
        spillingBytes -= n;
        fast.add(e.key());
        note("spill failed " + e.key() + ": " + e.reason() + " " + e.stimulusId());
        if (!spillSuspended) {
            spillSuspended = true;
            out.add(new Instruction.RetrySpillLater(e.stimulusId()));
        }
    }

    /** The runtime wrote the value to disk: its bytes are no longer in memory. */
    private void onSpillDone(Event.SpillDone e) {
        Long n = spilling.remove(e.key());
        if (n == null) {
            return;
        }
        spillingBytes -= n;
        spilled.put(e.key(), n);
        spilledBytes += n;
    }

    private static long nbytesOf(TaskState ts) {
        return ts == null || ts.nbytes == null ? 0 : ts.nbytes;
    }

    /** Drops {@code key}'s stored value and its memory bookkeeping; the value goes to {@code release}. */
    private void dropData(Object key) {
        dispose(data.remove(key));
        fast.remove(key);
        Long n = spilled.remove(key);
        if (n != null) {
            spilledBytes -= n;
        }
        n = spilling.remove(key);
        if (n != null) {
            spillingBytes -= n;
        }
    }

    private void onStatusChange(Event.WorkerStatusChange e, Recs recs, List<Instruction> out) {
        memoryPaused = false; // the scheduler's word overrides a pause of our own
        String prev = status;
        status = e.status();
        out.add(new Instruction.WorkerStatus(status, e.stimulusId()));
        if ("running".equals(status) && !"running".equals(prev)) {
            running = true;
            ensureComputing(recs);
        } else if (!"running".equals(status)) {
            running = false;
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
                putKeyInMemory(ts, d.getValue(), recs);
            }
        }
        if (e.report()) {
            out.add(new Instruction.AddKeys(new ArrayList<>(e.data().keySet()), e.stimulusId()));
        }
    }

    private void onGatherDepSuccess(Event.GatherDepSuccess e, Recs recs) {
        InFlight f = inFlightWorkers.get(e.worker());
        Set<Object> requested = f == null ? Set.of() : new LinkedHashSet<>(f.keys());
        for (Map.Entry<Object, Object> d : e.data().entrySet()) {
            if (!requested.contains(d.getKey())) {
                dispose(d.getValue()); // a peer sent what we did not ask for
            }
        }
        for (TaskState ts : gatherDepDone(e.worker())) {
            if (e.data().containsKey(ts.key)) {
                Long n = e.nbytes().get(ts.key);
                if (n != null) {
                    ts.nbytes = n;
                }
                recs.put(ts, Rec.memory(e.data().get(ts.key)));
            } else {
                ts.whoHas.remove(e.worker());
                Set<Object> hw = hasWhat.get(e.worker());
                if (hw != null) {
                    hw.remove(ts.key);
                }
                recs.put(ts, Rec.of(TaskStatus.FETCH));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Transition machinery

    private void transitions(Recs recs, List<Instruction> out, String sid) {
        process(recs, out, sid);
        Recs more = new Recs();
        ensureCommunicating(more, out, sid);
        process(more, out, sid);
    }

    private void process(Recs recs, List<Instruction> out, String sid) {
        Recs next = new Recs(); // putAll empties it for the next round
        while (!recs.isEmpty()) {
            TaskState ts = recs.firstTask();
            transition(ts, recs.pollFirstRec(), next, out, sid);
            recs.putAll(next);
        }
    }

    private void transition(TaskState ts, Rec rec, Recs recs, List<Instruction> out, String sid) {
        TaskStatus start = ts.state;
        if (start == rec.to()) {
            if (rec.hasValue() && data.get(ts.key) != rec.value()) {
                dispose(rec.value());
            }
            return;
        }
        Handler h = TABLE[start.ordinal()][rec.to().ordinal()];
        if (h != null) {
            h.apply(this, ts, rec, recs, out, sid);
        } else if (start != TaskStatus.RELEASED && rec.to() != TaskStatus.RELEASED) {
            // start -> released -> finish, honouring what "released" recommends for ts on the way
            Recs a = new Recs();
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
                dispose(rec.value());
            }
            throw invalid(ts, "invalid transition " + start + " -> " + rec.to());
        }
        note(new TransitionNote(ts.key, start, rec.to(), ts.state, sid));
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
        ready.add(ts);
        ensureComputing(recs);
    }

    private void waitingToConstrained(TaskState ts, Recs recs) {
        ts.state = TaskStatus.CONSTRAINED;
        waiting.remove(ts);
        constrained.add(ts);
        ensureComputing(recs);
    }

    private void readyToExecuting(TaskState ts, List<Instruction> out, String sid) {
        ts.state = TaskStatus.EXECUTING;
        Map<Object, Object> deps = new LinkedHashMap<>();
        for (TaskState d : ts.dependencies) {
            if (!data.containsKey(d.key)) {
                throw invalid(ts, "executing without dependency " + d.key + " in memory");
            }
            deps.put(d.key, data.get(d.key));
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

    private void cancelledToReleased(TaskState ts, Recs recs, List<Instruction> out, String sid) {
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
        putKeyInMemory(ts, value, recs);
        out.add(addKeys ? new Instruction.AddKeys(List.of(ts.key), sid) : taskFinished(ts, sid));
    }

    private void putKeyInMemory(TaskState ts, Object value, Recs recs) {
        if (data.containsKey(ts.key)) {
            if (data.get(ts.key) != value) {
                dispose(value);
            }
            ts.state = TaskStatus.MEMORY;
            return;
        }
        data.put(ts.key, value);
        fast.add(ts.key);
        ts.state = TaskStatus.MEMORY;
        if (ts.nbytes == null) {
            ts.nbytes = DEFAULT_DATA_SIZE;
        }
        managedBytes += ts.nbytes;
        for (TaskState dep : ts.dependents) {
            dep.waitingForData.remove(ts);
            if (dep.waitingForData.isEmpty() && dep.state == TaskStatus.WAITING) {
                recs.put(dep, Rec.of(TaskStatus.READY));
            }
        }
    }

    private void memoryToReleased(TaskState ts, Recs recs, List<Instruction> out, String sid) {
        managedBytes -= ts.nbytes == null ? 0 : ts.nbytes;
        genericReleased(ts, recs);
        if (!freedByScheduler.contains(ts)) {
            out.add(new Instruction.ReleaseWorkerData(ts.key, sid));
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

    private void genericError(TaskState ts, ErrorInfo e, List<Instruction> out, String sid) {
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
        fetchCount++;
        for (String w : ts.whoHas) {
            dataNeeded.computeIfAbsent(w, k -> new TreeSet<>(BY_PRIORITY)).add(ts);
        }
    }

    private void genericMissing(TaskState ts) {
        ts.state = TaskStatus.MISSING;
        missingDepFlight.add(ts);
        ts.done = false;
    }

    private void missingToFetch(TaskState ts, Recs recs) {
        if (ts.whoHas.isEmpty()) {
            return;
        }
        missingDepFlight.remove(ts);
        genericFetch(ts, recs);
    }

    private void fetchToFlight(TaskState ts, String worker) {
        ts.done = false;
        ts.state = TaskStatus.FLIGHT;
        ts.comingFrom = worker;
        inFlightTasks.add(ts);
        fetchCount--;
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
        if (data.containsKey(ts.key)) {
            dropData(ts.key);
        }
        for (String w : ts.whoHas) {
            Set<Object> hw = hasWhat.get(w);
            if (hw != null) {
                hw.remove(ts.key);
            }
            TreeSet<TaskState> dn = dataNeeded.get(w);
            if (dn != null) {
                dn.remove(ts);
            }
        }
        ts.whoHas.clear();
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
        missingDepFlight.remove(ts);
        // The ordered sets hold a task iff it is in their state (validate() checks it): a removal
        // there compares priorities down the tree, so it is skipped when it cannot find anything.
        if (ts.state == TaskStatus.READY) {
            ready.remove(ts);
        } else if (ts.state == TaskStatus.CONSTRAINED) {
            constrained.remove(ts);
        }
        executing.remove(ts);
        inFlightTasks.remove(ts);
        waiting.remove(ts);
    }

    // ---------------------------------------------------------------------------------------------
    // Computing and communicating

    private void executeDoneCommon(TaskState ts, Recs recs) {
        ts.done = true;
        if (executing.remove(ts)) {
            releaseResources(ts);
        }
        ensureComputing(recs);
    }

    /** How much compute a thread may have queued behind its running task when tasks are short. */
    static final double PREFETCH_SECONDS = 0.001;
    /** The most tasks per thread that may be executing (running or queued in the pool) at once. */
    static final int MAX_PREFETCH_PER_THREAD = 16;
    /** Weight of the newest task in {@link #meanComputeSeconds}. */
    private static final double MEAN_WEIGHT = 0.1;

    private void noteComputeTime(double start, double stop) {
        double took = Math.max(0, stop - start);
        meanComputeSeconds = Double.isNaN(meanComputeSeconds) ? took
                : meanComputeSeconds + MEAN_WEIGHT * (took - meanComputeSeconds);
    }

    /**
     * Tasks that may be executing at once. Dask starts a task only when a thread is free, so each
     * task costs two thread hand-offs (loop to pool, pool back to loop). When the recent tasks took
     * well under {@link #PREFETCH_SECONDS} each, up to that much compute per thread is handed to the
     * pool ahead, in priority order, so a pool thread goes from one task to the next without waiting
     * for the loop; a long task after short ones delays at most that much queued work.
     */
    int executionSlots() {
        double mean = meanComputeSeconds;
        if (!(mean < PREFETCH_SECONDS)) {
            return nthreads;
        }
        double perThread = Math.min(MAX_PREFETCH_PER_THREAD, Math.ceil(PREFETCH_SECONDS / Math.max(mean, 1e-7)));
        return nthreads * (int) perThread;
    }

    private void ensureComputing(Recs recs) {
        if (!running) {
            return;
        }
        int slots = executionSlots();
        while (executing.size() < slots) {
            TaskState ts = nextReadyTask();
            if (ts == null) {
                break;
            }
            recs.put(ts, Rec.of(TaskStatus.EXECUTING));
            acquireResources(ts);
            executing.add(ts);
        }
    }

    private TaskState nextReadyTask() {
        if (!ready.isEmpty() && !constrained.isEmpty()) {
            TaskState r = ready.first();
            TaskState c = constrained.first();
            if (BY_PRIORITY.compare(c, r) < 0 && resourcesSatisfied(c)) {
                return constrained.pollFirst();
            }
            return ready.pollFirst();
        } else if (!ready.isEmpty()) {
            return ready.pollFirst();
        } else if (!constrained.isEmpty() && resourcesSatisfied(constrained.first())) {
            return constrained.pollFirst();
        }
        return null;
    }

    private boolean resourcesSatisfied(TaskState ts) {
        for (Map.Entry<String, Double> r : ts.resourceRestrictions.entrySet()) {
            if (availableResources.getOrDefault(r.getKey(), 0.0) < r.getValue()) {
                return false;
            }
        }
        return true;
    }

    private void acquireResources(TaskState ts) {
        ts.resourceRestrictions.forEach((r, n) -> availableResources.merge(r, -n, Double::sum));
    }

    private void releaseResources(TaskState ts) {
        ts.resourceRestrictions.forEach((r, n) -> availableResources.merge(r, n, Double::sum));
    }

    private boolean shouldThrottleIncomingTransfers() {
        boolean countLimit = inFlightWorkers.size() >= limits.transferIncomingCountLimit();
        boolean threshold = transferIncomingBytes >= limits.transferIncomingBytesThrottleThreshold();
        boolean bytesLimit = transferIncomingBytes >= limits.transferIncomingBytesLimit();
        return countLimit && threshold || bytesLimit;
    }

    /** Moves tasks from fetch to flight, one GatherDep per peer, best priority and local peers first. */
    private void ensureCommunicating(Recs recs, List<Instruction> out, String sid) {
        if (!running || dataNeeded.isEmpty() || shouldThrottleIncomingTransfers()) {
            return;
        }
        String host = ownHost;
        List<String> workers = new ArrayList<>();
        for (Iterator<Map.Entry<String, TreeSet<TaskState>>> it = dataNeeded.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, TreeSet<TaskState>> e = it.next();
            if (e.getValue().isEmpty()) {
                it.remove();
            } else if (!inFlightWorkers.containsKey(e.getKey()) && !busyWorkers.contains(e.getKey())) {
                workers.add(e.getKey());
            }
        }
        workers.sort(Comparator.<String, TaskState>comparing(w -> dataNeeded.get(w).first(), BY_PRIORITY)
                .thenComparing(w -> !host(w).equals(host))
                .thenComparing(w -> -dataNeeded.get(w).size())
                .thenComparing(w -> w));
        for (String worker : workers) {
            TreeSet<TaskState> available = dataNeeded.get(worker);
            if (available == null || available.isEmpty()) {
                continue; // emptied by an earlier peer that also holds its keys
            }
            List<TaskState> toGather = new ArrayList<>();
            long messageNbytes = 0;
            while (!available.isEmpty()) {
                TaskState ts = available.first();
                if (exceedsTransferLimits(ts, messageNbytes)) {
                    break;
                }
                for (String w : ts.whoHas) {
                    TreeSet<TaskState> dn = dataNeeded.get(w);
                    if (dn != null) {
                        dn.remove(ts);
                    }
                }
                toGather.add(ts);
                messageNbytes += ts.nbytesOrDefault();
            }
            if (toGather.isEmpty()) {
                break;
            }
            List<Object> keys = new ArrayList<>();
            for (TaskState ts : toGather) {
                recs.put(ts, Rec.flight(worker));
                keys.add(ts.key);
            }
            out.add(new Instruction.GatherDep(worker, keys, messageNbytes, sid));
            inFlightWorkers.put(worker, new InFlight(keys, messageNbytes));
            transferIncomingBytes += messageNbytes;
            if (shouldThrottleIncomingTransfers()) {
                break;
            }
        }
        dataNeeded.values().removeIf(Set::isEmpty);
    }

    private boolean exceedsTransferLimits(TaskState ts, long messageNbytes) {
        if (transferIncomingBytes == 0 && messageNbytes == 0) {
            return false; // always make progress with the top task, whatever its size
        }
        long allowance = limits.transferIncomingBytesLimit() - transferIncomingBytes;
        if (messageNbytes != 0) {
            allowance = Math.min(allowance, limits.transferMessageBytesLimit()) - messageNbytes;
        }
        return ts.nbytesOrDefault() > allowance;
    }

    /** The tasks a finished gather_dep from {@code worker} was fetching. */
    private List<TaskState> gatherDepDone(String worker) {
        InFlight f = inFlightWorkers.remove(worker);
        if (f == null) {
            return List.of();
        }
        transferIncomingBytes -= f.nbytes();
        List<TaskState> r = new ArrayList<>();
        for (Object k : f.keys()) {
            TaskState ts = tasks.get(k);
            if (ts == null) {
                continue;
            }
            ts.done = true;
            ts.comingFrom = null;
            inFlightTasks.remove(ts);
            r.add(ts);
        }
        return r;
    }

    // ---------------------------------------------------------------------------------------------
    // Helpers

    private TaskState newTask(Object key) {
        TaskState ts = new TaskState(key, seq++);
        tasks.put(key, ts);
        return ts;
    }

    private TaskState ensureTaskExists(Object key, List<Number> priority) {
        TaskState ts = tasks.get(key);
        if (ts == null) {
            ts = newTask(key);
        }
        if (ts.priority == null || ts.priority.isEmpty()) {
            setPriority(ts, priority);
        }
        return ts;
    }

    /** Priorities order the sorted sets a task may sit in: take it out while the key changes. */
    private void setPriority(TaskState ts, List<Number> priority) {
        boolean inReady = ready.remove(ts);
        boolean inConstrained = constrained.remove(ts);
        List<TreeSet<TaskState>> needed = new ArrayList<>();
        for (TreeSet<TaskState> s : dataNeeded.values()) {
            if (s.remove(ts)) {
                needed.add(s);
            }
        }
        ts.priority = priority;
        if (inReady) {
            ready.add(ts);
        }
        if (inConstrained) {
            constrained.add(ts);
        }
        for (TreeSet<TaskState> s : needed) {
            s.add(ts);
        }
    }

    private void updateWhoHas(Map<Object, List<String>> whoHas) {
        for (Map.Entry<Object, List<String>> e : whoHas.entrySet()) {
            TaskState ts = tasks.get(e.getKey());
            if (ts == null) {
                continue; // forgotten since we asked
            }
            Set<String> workers = new LinkedHashSet<>(e.getValue());
            workers.remove(address);
            if (ts.whoHas.equals(workers)) {
                continue;
            }
            for (String w : ts.whoHas) {
                if (!workers.contains(w)) {
                    Set<Object> hw = hasWhat.get(w);
                    if (hw != null) {
                        hw.remove(ts.key);
                    }
                    if (ts.state == TaskStatus.FETCH) {
                        TreeSet<TaskState> dn = dataNeeded.get(w);
                        if (dn != null) {
                            dn.remove(ts);
                        }
                    }
                }
            }
            for (String w : workers) {
                if (!ts.whoHas.contains(w)) {
                    hasWhat.computeIfAbsent(w, k -> new LinkedHashSet<>()).add(ts.key);
                    if (ts.state == TaskStatus.FETCH) {
                        dataNeeded.computeIfAbsent(w, k -> new TreeSet<>(BY_PRIORITY)).add(ts);
                    }
                }
            }
            ts.whoHas.clear();
            ts.whoHas.addAll(workers);
        }
    }

    private Instruction.TaskFinished taskFinished(TaskState ts, String sid) {
        return new Instruction.TaskFinished(ts.key, ts.nbytesOrDefault(), ts.type, ts.typename, ts.thread,
                List.copyOf(ts.startstops), ts.runId, sid);
    }

    private Instruction.TaskErred taskErred(TaskState ts, String sid) {
        return new Instruction.TaskErred(ts.key, ts.exception, ts.traceback, ts.exceptionText, ts.tracebackText,
                ts.thread, List.copyOf(ts.startstops), ts.runId, sid);
    }

    private void dispose(Object value) {
        if (value != null && release != null) {
            release.accept(value);
        }
    }

    private static boolean isReady(TaskStatus s) {
        return s == TaskStatus.READY || s == TaskStatus.CONSTRAINED;
    }

    private static String host(String address) {
        String a = address.startsWith("tcp://") ? address.substring(6) : address;
        int colon = a.lastIndexOf(':');
        return colon < 0 ? a : a.substring(0, colon);
    }

    /** Python tuple order: element by element, a proper prefix first. */
    static int comparePriority(List<Number> a, List<Number> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            Number x = a.get(i), y = b.get(i);
            int c = (x instanceof Long || x instanceof Integer) && (y instanceof Long || y instanceof Integer)
                    ? Long.compare(x.longValue(), y.longValue())
                    : Double.compare(x.doubleValue(), y.doubleValue());
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private record TransitionNote(Object key, TaskStatus from, TaskStatus to, TaskStatus after, String sid) {
        @Override
        public String toString() {
            return key + ": " + from + " -> " + to + " (" + after + ") " + sid;
        }
    }

    private record EventNote(Class<?> type, String sid) {
        @Override
        public String toString() {
            return "event " + type.getSimpleName() + " " + sid;
        }
    }

    private void note(Object line) {
        if (story.size() >= STORY_LENGTH) {
            story.removeFirst();
        }
        story.addLast(line);
    }

    private IllegalStateException invalid(TaskState ts, String what) {
        return new IllegalStateException(what + " for key " + ts.key + "; story: " + story(ts.key));
    }

    // ---------------------------------------------------------------------------------------------
    // Read access for the runtime (heartbeats, get_data) and tests

    /** The recent log lines that mention {@code key} (or a stimulus id). */
    public List<String> story(Object key) {
        String k = String.valueOf(key);
        List<String> r = new ArrayList<>();
        for (Object o : story) {
            String line = o.toString();
            if (line.contains(k)) {
                r.add(line);
            }
        }
        return r;
    }

    public String address() {
        return address;
    }

    public int nthreads() {
        return nthreads;
    }

    public Map<String, Double> totalResources() {
        return Map.copyOf(totalResources);
    }

    public Map<String, Double> availableResources() {
        return Map.copyOf(availableResources);
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
        return data.containsKey(key);
    }

    /** The stored value of {@code key} (owned by the state), or null. */
    public Object data(Object key) {
        return data.get(key);
    }

    public Long nbytes(Object key) {
        TaskState ts = tasks.get(key);
        return ts == null || !data.containsKey(key) ? null : ts.nbytes;
    }

    public Set<Object> dataKeys() {
        return Set.copyOf(data.keySet());
    }

    public int taskCount() {
        return tasks.size();
    }

    public int executingCount() {
        return executing.size();
    }

    public long managedBytes() {
        return managedBytes;
    }

    /** Managed bytes of the values spilled to disk (included in {@link #managedBytes}). */
    public long spilledBytes() {
        return spilledBytes;
    }

    /** Whether {@code key}'s value was spilled to disk. */
    public boolean isSpilled(Object key) {
        return spilled.containsKey(key);
    }

    public long transferIncomingBytes() {
        return transferIncomingBytes;
    }

    public int transferIncomingCount() {
        return inFlightWorkers.size();
    }

    /** Keys executing now (cancelled ones included), for heartbeats. */
    public List<Object> executingKeys() {
        List<Object> r = new ArrayList<>();
        for (TaskState ts : executing) {
            r.add(ts.key);
        }
        return r;
    }

    /** distributed WorkerState.task_counts, the field set heartbeats carry. */
    public Map<String, Long> taskCounts() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("executing", (long) executing.size());
        m.put("long-running", 0L);
        m.put("memory", (long) data.size());
        m.put("ready", (long) ready.size());
        m.put("constrained", (long) constrained.size());
        m.put("waiting", (long) waiting.size());
        m.put("fetch", fetchCount);
        m.put("missing", (long) missingDepFlight.size());
        m.put("flight", (long) inFlightTasks.size());
        long sum = 0;
        for (long v : m.values()) {
            sum += v;
        }
        m.put("other", Math.max(0, tasks.size() - sum));
        return m;
    }

    /** Releases every stored value (the worker is closing). */
    public void releaseAll() {
        for (Object v : data.values()) {
            dispose(v);
        }
        data.clear();
        fast.clear();
        spilled.clear();
        spilledBytes = 0;
        spilling.clear();
        spillingBytes = 0;
        managedBytes = 0;
    }

    // ---------------------------------------------------------------------------------------------
    // Validation

    /** Throws if any invariant between tasks and the indexes over them is broken. */
    public void validate() {
        long fetch = 0;
        for (TaskState ts : tasks.values()) {
            check(ts.state != TaskStatus.FORGOTTEN, ts, "forgotten task still known");
            check(data.containsKey(ts.key) == (ts.state == TaskStatus.MEMORY), ts, "data iff memory");
            check(ready.contains(ts) == (ts.state == TaskStatus.READY), ts, "ready set iff ready");
            check(constrained.contains(ts) == (ts.state == TaskStatus.CONSTRAINED), ts,
                    "constrained set iff constrained");
            check(waiting.contains(ts) == (ts.state == TaskStatus.WAITING), ts, "waiting set iff waiting");
            check(missingDepFlight.contains(ts) == (ts.state == TaskStatus.MISSING), ts, "missing set iff missing");
            if (ts.state == TaskStatus.FETCH) {
                fetch++;
                check(!ts.whoHas.isEmpty(), ts, "fetch without who_has");
                for (String w : ts.whoHas) {
                    check(dataNeeded.containsKey(w) && dataNeeded.get(w).contains(ts), ts,
                            "fetch task not in data_needed[" + w + "]");
                }
            }
            if (ts.state == TaskStatus.FLIGHT) {
                check(inFlightTasks.contains(ts), ts, "flight task not in flight set");
                check(ts.comingFrom != null && inFlightWorkers.containsKey(ts.comingFrom), ts,
                        "flight task without in-flight peer");
            }
            if (ts.state == TaskStatus.EXECUTING) {
                check(executing.contains(ts), ts, "executing task not in executing set");
            }
            if (ts.state == TaskStatus.WAITING) {
                for (TaskState d : ts.waitingForData) {
                    check(d.state != TaskStatus.MEMORY, ts, "waiting for " + d.key + " which is in memory");
                    check(d.waiters.contains(ts), ts, "not a waiter of " + d.key);
                }
            }
            if (ts.state == TaskStatus.READY || ts.state == TaskStatus.CONSTRAINED) {
                for (TaskState d : ts.dependencies) {
                    check(d.state == TaskStatus.MEMORY, ts, "ready while " + d.key + " is " + d.state);
                }
            }
            for (TaskState d : ts.dependencies) {
                check(tasks.get(d.key) == d, ts, "dependency " + d.key + " unknown");
                check(d.dependents.contains(ts), ts, "not a dependent of " + d.key);
            }
            for (String w : ts.whoHas) {
                check(hasWhat.containsKey(w) && hasWhat.get(w).contains(ts.key), ts, "has_what[" + w + "] misses it");
            }
        }
        check(fetch == fetchCount, null, "fetch count " + fetchCount + " != " + fetch);
        check(executing.size() <= nthreads * MAX_PREFETCH_PER_THREAD, null, "more executing than prefetch allows");
        for (TaskState ts : executing) {
            check(tasks.get(ts.key) == ts, ts, "executing task unknown");
        }
        for (Map.Entry<String, Double> r : availableResources.entrySet()) {
            check(r.getValue() >= -1e-9, null, "resource " + r.getKey() + " below zero");
        }
        long mb = 0;
        for (Object k : data.keySet()) {
            TaskState ts = tasks.get(k);
            check(ts != null, null, "data without task: " + k);
            mb += ts.nbytes == null ? 0 : ts.nbytes;
        }
        check(mb == managedBytes, null, "managed bytes " + managedBytes + " != " + mb);
        long sb = 0;
        for (Map.Entry<Object, Long> e : spilled.entrySet()) {
            check(data.containsKey(e.getKey()) && !fast.contains(e.getKey()), tasks.get(e.getKey()),
                    "spilled key without data, or also in memory");
            sb += e.getValue();
        }
        check(sb == spilledBytes, null, "spilled bytes " + spilledBytes + " != " + sb);
        long pb = 0;
        for (Map.Entry<Object, Long> e : spilling.entrySet()) {
            check(data.containsKey(e.getKey()) && !fast.contains(e.getKey()) && !spilled.containsKey(e.getKey()),
                    tasks.get(e.getKey()), "key being spilled without data, or also in memory or spilled");
            pb += e.getValue();
        }
        check(pb == spillingBytes, null, "bytes being spilled " + spillingBytes + " != " + pb);
        check(fast.size() + spilled.size() + spilling.size() == data.size(), null,
                "data keys neither in memory nor spilled");
    }

    private void check(boolean ok, TaskState ts, String what) {
        if (!ok) {
            throw ts == null ? new IllegalStateException("invalid worker state: " + what)
                    : invalid(ts, "invalid worker state: " + what);
        }
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
