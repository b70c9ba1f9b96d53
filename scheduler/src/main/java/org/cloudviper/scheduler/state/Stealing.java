package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToWorker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Work stealing, a simplified form of Dask's {@code distributed/stealing.py}: a periodic balance
 * finds workers holding more processing tasks than threads (victims) and workers holding no more
 * than threads (thieves, each filled up to twice its threads so that a task waits ready behind
 * each running one), and asks a victim to give up a task it has not started ({@code steal-request}). The
 * victim answers {@code steal-response} with the state the task had there; only a task that was
 * still waiting, ready or constrained moves to the thief (a self-move processing -> processing in
 * {@link Transitions}, recorded in the key's story). One request per key is in flight at a time;
 * a task that leaves processing meanwhile (finished, erred, its victim died) drops its request, and
 * a late answer to it is ignored.
 *
 * <p>Cost, after Dask's balance: a worker's occupancy is its processing tasks (with the requests
 * in flight counted at their destination) times the task's estimated compute time, per thread; a
 * task moves when the thief's occupancy plus the task's compute and input transfer time stays
 * below the victim's occupancy minus half of it, and not when moving its inputs (plus Dask's fixed
 * 0.1 s of latency) costs more than Dask's largest cost multiplier (2^8.5) times its compute time.
 * Dask waives that test for tasks without inputs; here it holds for all, so tasks shorter than about
 * 0.3 ms never move: a steal's round trip outweighs them, and the short-task pipelining of
 * {@link Placement} keeps many of them on each worker. The estimate is the victim's mean compute
 * time, or Dask's default for unknown tasks (0.5 s) before it has finished one.
 */
final class Stealing {
    /** distributed.scheduler.unknown-task-duration. */
    static final double UNKNOWN_TASK_SECONDS = 0.5;
    /** distributed.scheduler.bandwidth, bytes per second. */
    static final double BANDWIDTH = 100e6;
    /** stealing.py LATENCY: the fixed cost of any transfer. */
    static final double LATENCY = 0.1;
    /** stealing.py: no level at or above len(cost_multipliers) (15), i.e. log2(ratio) + 6 >= 14.5. */
    static final double MAX_COST_RATIO = Math.pow(2, 8.5);
    /** The victim's tasks looked at per balance: a worker may hold a whole graph with saturation inf. */
    static final int SCAN_PER_VICTIM = 1000;

    /** The worker states whose answer confirms a steal (stealing.py _WORKER_STATE_CONFIRM). */
    static final Set<String> CONFIRM = Set.of("ready", "constrained", "waiting");
    /** The states in which the victim keeps the task (stealing.py _WORKER_STATE_REJECT). */
    static final Set<String> REJECT = Set.of("memory", "executing", "long-running", "cancelled", "resumed");

    /** A steal asked for and not yet answered. */
    record InFlight(WorkerState victim, WorkerState thief, String stimulusId) {
    }

    /** What to do with a steal-response. */
    enum Outcome {
        /** No request of this id is in flight for the key (stale, or the task left processing): nothing. */
        IGNORE,
        /** The victim had started the task (or finished it): it stays there. */
        KEEP,
        /** The victim gave the task up: it goes to the thief. */
        MOVE,
        /** The victim did not know the task, or the thief is gone: schedule it afresh. */
        RESCHEDULE
    }

    private final Outbox out;
    private final Workers workers;
    private final Placement placement;
    private final Map<TaskState, InFlight> inFlight = new HashMap<>();
    /** Per worker, in-flight requests towards it minus those away from it. */
    private final Map<WorkerState, Integer> inFlightBalance = new HashMap<>();
    private long requests;

    Stealing(Outbox out, Workers workers, Placement placement) {
        this.out = out;
        this.workers = workers;
        this.placement = placement;
    }

    int inFlightCount() {
        return inFlight.size();
    }

    InFlight inFlight(TaskState ts) {
        return inFlight.get(ts);
    }

    /** Requests made so far. */
    long requests() {
        return requests;
    }

    /** {@code ts} left processing on its worker: its request, if any, is void. */
    void leftProcessing(TaskState ts) {
        if (!inFlight.isEmpty()) {
            drop(ts);
        }
    }

    /** Every request is void (restart). */
    void clear() {
        inFlight.clear();
        inFlightBalance.clear();
    }

    private InFlight drop(TaskState ts) {
        InFlight f = inFlight.remove(ts);
        if (f != null) {
            inFlightBalance.merge(f.victim, 1, Integer::sum);
            inFlightBalance.merge(f.thief, -1, Integer::sum);
            if (inFlight.isEmpty()) {
                inFlightBalance.clear();
            }
        }
        return f;
    }

    /** The first inconsistency of the requests in flight, or null (for {@link StateValidator}). */
    String problem() {
        Map<WorkerState, Integer> balance = new HashMap<>();
        for (Map.Entry<TaskState, InFlight> e : inFlight.entrySet()) {
            TaskState ts = e.getKey();
            InFlight f = e.getValue();
            if (ts.status != TaskState.Status.PROCESSING || ts.processingOn != f.victim) {
                return "steal of " + ts.key + " in flight while " + ts.status + " on " + ts.processingOn;
            }
            balance.merge(f.victim, -1, Integer::sum);
            balance.merge(f.thief, 1, Integer::sum);
        }
        balance.values().removeIf(n -> n == 0);
        Map<WorkerState, Integer> kept = new HashMap<>(inFlightBalance);
        kept.values().removeIf(n -> n == 0);
        return balance.equals(kept) ? null : "steal counts " + kept + " (expected " + balance + ")";
    }

    /** Processing tasks on {@code ws}, counting the requests in flight at their destination. */
    private int combined(WorkerState ws) {
        return ws.occupied() + inFlightBalance.getOrDefault(ws, 0);
    }

    private static double estimate(WorkerState victim) {
        double mean = victim.meanComputeSeconds;
        return Double.isNaN(mean) ? UNKNOWN_TASK_SECONDS : Math.max(mean, 1e-6);
    }

    /** Seconds to move {@code ts}'s inputs that {@code ws} lacks (Dask's get_comm_cost). */
    private static double commCost(TaskState ts, WorkerState ws) {
        long bytes = 0;
        for (TaskState dep : ts.dependencies) {
            if (!dep.heldBy(ws)) {
                bytes += Math.max(0, dep.nbytes);
            }
        }
        return bytes / BANDWIDTH;
    }

    /**
     * The balance: sends steal-request for tasks to move from saturated workers to idle ones (never
     * to a paused or retiring one).
     */
    void balance(String stimulusPrefix) {
        List<WorkerState> thieves = new ArrayList<>();
        List<WorkerState> victims = new ArrayList<>();
        for (WorkerState ws : workers.all()) {
            int n = combined(ws);
            if (ws.running && !ws.retiring && n <= ws.nthreads) {
                thieves.add(ws);
            } else if (n > ws.nthreads) {
                victims.add(ws);
            }
        }
        if (thieves.isEmpty() || victims.isEmpty()) {
            return;
        }
        victims.sort((a, b) -> Double.compare((double) combined(b) / b.nthreads, (double) combined(a) / a.nthreads));
        for (WorkerState victim : victims) {
            if (thieves.isEmpty()) {
                return;
            }
            double compute = estimate(victim);
            int scanned = 0;
            for (TaskState ts : candidates(victim)) {
                if (thieves.isEmpty() || ++scanned > SCAN_PER_VICTIM || combined(victim) <= victim.nthreads) {
                    break;
                }
                double commVictim = commCost(ts, victim);
                WorkerState thief = null;
                double thiefCost = Double.MAX_VALUE;
                for (WorkerState t : thieves) {
                    if (!placement.eligible(ts, t)) {
                        continue;
                    }
                    double cost = occupancy(t, compute) + commCost(ts, t);
                    if (cost < thiefCost) {
                        thief = t;
                        thiefCost = cost;
                    }
                }
                if (thief == null || (thiefCost - occupancy(thief, compute) + LATENCY) / compute > MAX_COST_RATIO) {
                    continue;
                }
                if (thiefCost + compute <= occupancy(victim, compute) - (commVictim + compute) / 2) {
                    request(ts, victim, thief, stimulusPrefix);
                    // A thief takes up to twice its threads, so it is not idle until the next balance.
                    if (combined(thief) >= 2 * thief.nthreads) {
                        thieves.remove(thief);
                    }
                }
            }
        }
    }

    private double occupancy(WorkerState ws, double compute) {
        return combined(ws) * compute / ws.nthreads;
    }

    /** The victim's tasks that may move: not running long, no actors, not asked for already. */
    private List<TaskState> candidates(WorkerState victim) {
        List<TaskState> list = new ArrayList<>();
        for (TaskState ts : victim.processing) {
            if (!ts.longRunning && !ts.actor && !inFlight.containsKey(ts)) {
                list.add(ts);
                if (list.size() >= SCAN_PER_VICTIM) {
                    break;
                }
            }
        }
        // The tasks the victim would run last go first (the worst priority).
        list.sort((a, b) -> TaskState.comparePriority(b, a));
        return list;
    }

    private void request(TaskState ts, WorkerState victim, WorkerState thief, String stimulusPrefix) {
        String sid = stimulusPrefix + "-" + requests++;
        inFlight.put(ts, new InFlight(victim, thief, sid));
        inFlightBalance.merge(victim, -1, Integer::sum);
        inFlightBalance.merge(thief, 1, Integer::sum);
        out.toWorker(victim.address, new SchedulerToWorker.StealRequest(ts.key, sid));
    }

    /** What a steal-response decides, and for {@link Outcome#MOVE} where the task goes. */
    record Answer(Outcome outcome, WorkerState thief) {
        static final Answer IGNORE = new Answer(Outcome.IGNORE, null);
    }

    /** steal-response from {@code worker}; the request is no longer in flight afterwards. */
    Answer answer(TaskState ts, String worker, String state, String stimulusId) {
        InFlight f = ts == null ? null : inFlight.get(ts);
        if (f == null || !f.stimulusId.equals(stimulusId) || !f.victim.address.equals(worker)) {
            return Answer.IGNORE;
        }
        drop(ts);
        if (ts.processingOn != f.victim) {
            return Answer.IGNORE;
        }
        boolean thiefHere = workers.isRegistered(f.thief) && f.thief.running && !f.thief.retiring;
        if (state == null || "released".equals(state) || CONFIRM.contains(state) && !thiefHere) {
            return new Answer(Outcome.RESCHEDULE, null);
        }
        if (CONFIRM.contains(state)) {
            return new Answer(Outcome.MOVE, f.thief);
        }
        return new Answer(Outcome.KEEP, null); // REJECT, or a state this version does not know: leave the task be
    }
}
