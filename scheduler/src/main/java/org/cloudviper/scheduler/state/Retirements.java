package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Graceful retirement of workers (Dask's {@code Scheduler.retire_workers} with the active memory
 * manager's {@code RetireWorker} policy), as part of the pure {@link SchedulerState}: no clocks or I/O
 * here; time comes in with the events.
 *
 * <p>Contract, per retiring worker:
 * <ol>
 *   <li>it stops receiving tasks at once (status {@code closing_gracefully}, pushed to the worker
 *       with {@code worker-status-change});</li>
 *   <li>every key in memory whose replicas are all on retiring workers gets one recipient: a running,
 *       not retiring worker that does not hold it, the one with the fewest bytes first. The recipient
 *       is sent {@code acquire-replicas}; it confirms with {@code add-keys} (both Dask generations).
 *       A request not confirmed within {@link #RESEND_SECONDS} is sent again (Dask's memory manager
 *       re-suggests every 2 s); a recipient that leaves or stops running is replaced;</li>
 *   <li>once no key of the worker is unique, the retirement succeeds; if some unique key has no
 *       possible recipient, it is aborted: the worker gets its previous status back and keeps all
 *       its data (nothing is ever dropped here, so nothing is lost either way);</li>
 *   <li>a retiring worker that leaves the cluster by itself counts as retired, as in Dask (its
 *       unique data, if any, is then recomputed as for any lost worker).</li>
 * </ol>
 * A request (one {@code retire_workers} call) ends when all its workers ended; the outcome goes out
 * through {@link Outbox#retirementDone}. Removing or closing the retired workers is the caller's
 * job (it owns the connections), as the outcome says.
 */
final class Retirements {
    /** Seconds after which an unconfirmed acquire-replicas is sent again. */
    static final double RESEND_SECONDS = 2.0;

    private final SchedulerState state;
    private final Map<String, WorkerState> workers;
    private final Outbox out;

    /** Retiring workers, in the order their retirement started. */
    private final LinkedHashMap<WorkerState, Retiring> retiring = new LinkedHashMap<>();
    private final HashMap<Long, Request> requests = new HashMap<>();
    private double now;

    private static final class Retiring {
        final String previousStatus;
        final List<Request> requests = new ArrayList<>();
        /** Unique keys of this worker -> the worker asked to acquire a replica, and when. */
        final HashMap<TaskState, Pending> pending = new HashMap<>();

        Retiring(String previousStatus) {
            this.previousStatus = previousStatus;
        }
    }

    private record Pending(WorkerState recipient, double sentAt) {
    }

    private static final class Request {
        final long id;
        final boolean close;
        final boolean remove;
        final String stimulusId;
        final Set<String> open = new LinkedHashSet<>();
        final List<String> retired = new ArrayList<>();
        final List<String> refused = new ArrayList<>();

        Request(long id, boolean close, boolean remove, String stimulusId) {
            this.id = id;
            this.close = close;
            this.remove = remove;
            this.stimulusId = stimulusId;
        }
    }

    Retirements(SchedulerState state, Map<String, WorkerState> workers, Outbox out) {
        this.state = state;
        this.workers = workers;
        this.out = out;
    }

    boolean active() {
        return !retiring.isEmpty();
    }

    boolean isRetiring(WorkerState ws) {
        return retiring.containsKey(ws);
    }

    /**
     * Starts retiring {@code chosen} for request {@code id}. A worker that is already retiring joins
     * its running retirement. An empty choice ends the request at once with nothing retired.
     */
    void start(long id, Collection<WorkerState> chosen, boolean close, boolean remove, double now,
               String stimulusId) {
        if (requests.containsKey(id)) {
            throw new IllegalArgumentException("retirement request " + id + " is already running");
        }
        this.now = now;
        Request req = new Request(id, close, remove, stimulusId);
        requests.put(id, req);
        for (WorkerState ws : chosen) {
            req.open.add(ws.address);
            Retiring r = retiring.get(ws);
            if (r == null) {
                r = new Retiring(ws.status);
                retiring.put(ws, r);
                state.setWorkerStatus(ws, SchedulerState.CLOSING_GRACEFULLY);
                out.toWorker(ws.address, new ToWorker.WorkerStatusChange(SchedulerState.CLOSING_GRACEFULLY, stimulusId));
            }
            r.requests.add(req);
        }
        step(stimulusId);
    }

    /** Time passes: unconfirmed requests older than {@link #RESEND_SECONDS} are sent again. */
    void tick(double now, String stimulusId) {
        this.now = now;
        for (Retiring r : retiring.values()) {
            r.pending.values().removeIf(p -> now - p.sentAt >= RESEND_SECONDS);
        }
        step(stimulusId);
    }

    /**
     * Re-examines every retiring worker after an event: finishes those with no unique key left or
     * that left the cluster, aborts those with a unique key nobody can take, and sends
     * acquire-replicas for unique keys without a live recipient.
     */
    void step(String stimulusId) {
        if (retiring.isEmpty()) {
            return;
        }
        Map<WorkerState, Map<Object, List<String>>> whoHasBy = new LinkedHashMap<>();
        Map<WorkerState, Map<Object, Long>> nbytesBy = new HashMap<>();
        Map<WorkerState, Long> planned = new HashMap<>();
        List<Map.Entry<WorkerState, Boolean>> ended = new ArrayList<>();
        for (Map.Entry<WorkerState, Retiring> e : retiring.entrySet()) {
            WorkerState ws = e.getKey();
            Retiring r = e.getValue();
            if (workers.get(ws.address) != ws) {
                ended.add(Map.entry(ws, true)); // gone by itself: retired, as Dask reports it
                continue;
            }
            r.pending.keySet().removeIf(ts -> !ws.hasWhat.contains(ts) || ts.status != TaskState.Status.MEMORY);
            boolean unique = false;
            boolean stuck = false;
            for (TaskState ts : ws.hasWhat) {
                if (ts.status != TaskState.Status.MEMORY || hasSafeReplica(ts)) {
                    continue;
                }
                unique = true;
                Pending p = r.pending.get(ts);
                if (p != null && usable(p.recipient) && !contains(ts.whoHas, p.recipient)) {
                    continue; // asked already; waiting for its add-keys
                }
                WorkerState to = recipient(ts, planned);
                if (to == null) {
                    stuck = true;
                    break;
                }
                r.pending.put(ts, new Pending(to, now));
                planned.merge(to, Math.max(0, ts.nbytes), Long::sum);
                whoHasBy.computeIfAbsent(to, w -> new LinkedHashMap<>()).put(ts.key, addresses(ts.whoHas));
                nbytesBy.computeIfAbsent(to, w -> new LinkedHashMap<>()).put(ts.key, Math.max(0, ts.nbytes));
            }
            if (stuck) {
                // Abort. Nothing was dropped anywhere; replicas already requested for this worker's
                // other keys are harmless extra copies (Dask enacts them too).
                ended.add(Map.entry(ws, false));
            } else if (!unique) {
                ended.add(Map.entry(ws, true));
            }
        }
        for (Map.Entry<WorkerState, Map<Object, List<String>>> e : whoHasBy.entrySet()) {
            if (!e.getValue().isEmpty()) {
                out.toWorker(e.getKey().address,
                        new ToWorker.AcquireReplicas(e.getValue(), nbytesBy.get(e.getKey()), stimulusId));
            }
        }
        for (Map.Entry<WorkerState, Boolean> e : ended) {
            end(e.getKey(), e.getValue(), stimulusId);
        }
    }

    private void end(WorkerState ws, boolean retired, String stimulusId) {
        Retiring r = retiring.remove(ws);
        if (!retired && workers.get(ws.address) == ws) {
            state.setWorkerStatus(ws, r.previousStatus);
            out.toWorker(ws.address, new ToWorker.WorkerStatusChange(r.previousStatus, stimulusId));
        }
        for (Request req : r.requests) {
            req.open.remove(ws.address);
            (retired ? req.retired : req.refused).add(ws.address);
            if (req.open.isEmpty()) {
                requests.remove(req.id);
                out.retirementDone(new RetirementOutcome(req.id, List.copyOf(req.retired),
                        List.copyOf(req.refused), req.close, req.remove, req.stimulusId));
            }
        }
    }

    /** Ends a request with no worker (nothing chosen). */
    void finishEmpty(long id, boolean close, boolean remove, String stimulusId) {
        out.retirementDone(new RetirementOutcome(id, List.of(), List.of(), close, remove, stimulusId));
    }

    /** A replica on a worker that stays: the key survives this retirement. */
    private boolean hasSafeReplica(TaskState ts) {
        for (WorkerState w : ts.whoHas) {
            if (!retiring.containsKey(w) && workers.get(w.address) == w) {
                return true;
            }
        }
        return false;
    }

    private boolean usable(WorkerState w) {
        return workers.get(w.address) == w && w.running && !retiring.containsKey(w);
    }

    /** The running, not retiring worker without a replica that holds the fewest bytes (planned included). */
    private WorkerState recipient(TaskState ts, Map<WorkerState, Long> planned) {
        return workers.values().stream()
                .filter(w -> usable(w) && !contains(ts.whoHas, w))
                .min(Comparator.comparingLong(w -> w.nbytes + planned.getOrDefault(w, 0L)))
                .orElse(null);
    }

    private static boolean contains(WorkerState[] arr, WorkerState w) {
        for (WorkerState x : arr) {
            if (x == w) {
                return true;
            }
        }
        return false;
    }

    private static List<String> addresses(WorkerState[] ws) {
        List<String> r = new ArrayList<>(ws.length);
        for (WorkerState w : ws) {
            r.add(w.address);
        }
        return r;
    }
}
