package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToWorker;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Retiring workers without losing data (Dask's retire_workers with its RetireWorker policy of the
 * active memory manager): retiring workers get no tasks, and every key that only retiring workers
 * hold is copied to the running worker with the least data ({@code acquire-replicas}; the
 * recipient's add-keys confirms the copy). Makes no task transitions; the data stays in memory.
 */
final class Retirement {
    private final Outbox out;
    private final Workers workers;
    private final Placement placement;

    /** Workers being retired, and the recipient asked to fetch each key only they hold. */
    private final Set<WorkerState> retiring = new LinkedHashSet<>();
    private final Map<TaskState, WorkerState> replicating = new HashMap<>();
    /**
     * Whether a key may have become held by retiring workers alone since the last scan: set where that
     * can happen (a retirement starts, a replica lands on a retiring worker, a holder or recipient goes
     * away), so ordinary events do not rescan every retiring worker's keys.
     */
    private boolean dirty;

    Retirement(Outbox out, Workers workers, Placement placement) {
        this.out = out;
        this.workers = workers;
        this.placement = placement;
    }

    /** Marks the named workers retiring; returns those that are registered (see SchedulerState). */
    List<String> retire(Collection<String> addresses, String stimulusId) {
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
                placement.updateFree(ws);
                out.toWorker(a, new SchedulerToWorker.WorkerStatusChange("closing_gracefully", stimulusId));
            }
        }
        dirty = !retiring.isEmpty();
        return known;
    }

    SchedulerState.RetireOutcome outcome(String address) {
        WorkerState ws = workers.get(address);
        if (ws == null) {
            return SchedulerState.RetireOutcome.GONE;
        }
        if (!ws.retiring || ws.noRecipients) {
            return SchedulerState.RetireOutcome.ABORTED;
        }
        for (TaskState ts : ws.hasWhat) {
            if (!heldOutsideRetiring(ts)) {
                return SchedulerState.RetireOutcome.PENDING;
            }
        }
        return SchedulerState.RetireOutcome.READY;
    }

    /**
     * Calls off the retirement of {@code address}: it gets back the status it had before (running,
     * or paused), as Dask's retire_workers does. Returns the worker, or null if it was not retiring.
     */
    WorkerState abort(String address, String stimulusId) {
        WorkerState ws = workers.get(address);
        if (ws == null || !ws.retiring) {
            return null;
        }
        retiring.remove(ws);
        ws.retiring = false;
        ws.noRecipients = false;
        ws.running = !ws.pausedBeforeRetiring;
        replicating.entrySet().removeIf(e -> e.getKey().whoHas.length > 0 && Arrays.asList(e.getKey().whoHas)
                .contains(ws));
        placement.updateFree(ws);
        dirty = !retiring.isEmpty();
        out.toWorker(address, new SchedulerToWorker.WorkerStatusChange(ws.running ? "running" : "paused", stimulusId));
        return ws;
    }

    /** Forgets what was asked of recipients, so the next scan asks again; false if nothing retires. */
    boolean askAgain() {
        if (retiring.isEmpty()) {
            return false;
        }
        replicating.clear();
        dirty = true;
        return true;
    }

    /**
     * Up to {@code n} running workers that could be retired at least cost: idle ones first, then
     * those holding the least data (Dask's workers_to_close, simplified).
     */
    List<String> workersToClose(int n) {
        List<WorkerState> candidates = new ArrayList<>();
        for (WorkerState ws : workers.all()) {
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

    /** {@code ws} left (it is no longer in the worker map): keys it was to receive get another recipient. */
    void workerRemoved(WorkerState ws) {
        retiring.remove(ws);
        replicating.values().removeIf(to -> to == ws);
        dirty = !retiring.isEmpty();
    }

    /** {@code ws} now holds {@code ts}: a copy asked for has landed, or a retiring worker holds more. */
    void replicaAdded(TaskState ts, WorkerState ws) {
        if (replicating.get(ts) == ws) {
            replicating.remove(ts);
        }
        if (ws.retiring) {
            dirty = true; // a result of a task that was still running there
        }
    }

    /** A worker dropped a replica: a key may now be held by retiring workers alone. */
    void replicaDropped() {
        dirty |= !retiring.isEmpty();
    }

    /** After an event: asks recipients for keys that may have become held by retiring workers alone. */
    void settle(String stimulusId) {
        if (dirty) {
            dirty = false;
            replicateOffRetiring(stimulusId);
        }
    }

    private static boolean heldOutsideRetiring(TaskState ts) {
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
                for (WorkerState w : workers.all()) {
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
            out.toWorker(e.getKey().address, new SchedulerToWorker.AcquireReplicas(e.getValue(), sizes.get(e.getKey()),
                    stimulusId));
        }
        if (retiring.isEmpty()) {
            replicating.clear();
        }
    }
}
