package org.cloudviper.scheduler.state;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Where ready tasks go: how many tasks each worker may hold (Dask's saturation cap, widened for
 * short tasks), which workers have a free slot, the queue of ready tasks waiting for one, the
 * restricted tasks no worker can take, and the choice of worker for a task. Makes no transitions:
 * {@link Transitions} asks it and moves the tasks.
 */
final class Placement {
    /** The most tasks per thread that pipelining may queue on a worker. */
    static final int MAX_PIPELINED_PER_THREAD = 64;

    private final Workers workers;
    private final double saturation;
    private final double pipelineSeconds;

    /** Ready tasks waiting for a worker slot, best priority first; stale entries are skipped. */
    private final TaskQueue queue = new TaskQueue();
    /** Running workers that should get tasks ({@link #wantsTasks}). */
    final FreeWorkers withFreeSlots = new FreeWorkers();
    /** Ready tasks whose restrictions no current worker satisfies (status no-worker). */
    final LinkedHashSet<TaskState> unrunnable = new LinkedHashSet<>();

    Placement(Workers workers, double saturation, double pipelineSeconds) {
        this.workers = workers;
        this.saturation = saturation;
        this.pipelineSeconds = pipelineSeconds;
    }

    // ------------------------------------------------------------------------------------------
    // Saturation: how many tasks a worker holds, and when it is refilled
    // ------------------------------------------------------------------------------------------

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
    boolean wantsTasks(WorkerState ws) {
        int slots = slots(ws);
        int occupied = ws.occupied();
        return ws.running && occupied < slots && (ws.freeListed || occupied <= refillLevel(ws, slots));
    }

    /** Lists or unlists {@code ws} after anything that changes {@link #wantsTasks}. */
    void updateFree(WorkerState ws) {
        if (workers.isRegistered(ws) && wantsTasks(ws)) {
            withFreeSlots.add(ws);
        } else {
            withFreeSlots.remove(ws);
        }
    }

    boolean hasFreeSlot() {
        return !withFreeSlots.isEmpty();
    }

    // ------------------------------------------------------------------------------------------
    // The queue of ready tasks
    // ------------------------------------------------------------------------------------------

    void enqueue(TaskState ts) {
        if (!ts.inQueue) {
            ts.inQueue = true;
            queue.add(ts);
        }
    }

    /** The best queued task while some worker has a free slot, or null (stale entries are dropped). */
    TaskState nextQueued() {
        while (!withFreeSlots.isEmpty()) {
            TaskState ts = queue.poll();
            if (ts == null) {
                return null;
            }
            ts.inQueue = false;
            if (ts.status == TaskState.Status.QUEUED) {
                return ts;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------
    // Choosing a worker
    // ------------------------------------------------------------------------------------------

    /**
     * The worker with a free slot that needs the fewest input bytes moved, then the least loaded.
     * Null if no worker has a free slot.
     */
    WorkerState pickFree(TaskState ts) {
        if (withFreeSlots.isEmpty()) {
            return null;
        }
        WorkerState best = null;
        long bestMissing = Long.MAX_VALUE;
        double bestLoad = Double.MAX_VALUE;
        for (WorkerState ws = withFreeSlots.first(); ws != null; ws = ws.nextFree) {
            long missing = 0;
            for (TaskState dep : ts.dependencies) {
                if (!dep.heldBy(ws)) {
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

    /**
     * Restricted tasks and actors go to any eligible running worker, ignoring the saturation cap (as
     * in Dask): the least loaded, and for an actor the one with the fewest actors first
     * (Scheduler.worker_objective). Loose restrictions that name no running worker allow any.
     */
    WorkerState pickRestricted(TaskState ts) {
        WorkerState best = bestEligible(ts, true);
        if (best == null && ts.looseRestrictions && ts.workerRestrictions != null) {
            for (WorkerState ws : workers.all()) {
                if (ws.running && matches(ts.workerRestrictions, ws)) {
                    return null; // a named worker lacks the resources: wait for it, as before
                }
            }
            best = bestEligible(ts, false);
        }
        return best;
    }

    private WorkerState bestEligible(TaskState ts, boolean named) {
        WorkerState best = null;
        int bestActors = Integer.MAX_VALUE;
        double bestLoad = Double.MAX_VALUE;
        for (WorkerState ws : workers.all()) {
            if (!ws.running || named && ts.workerRestrictions != null && !matches(ts.workerRestrictions, ws)
                    || !hasResources(ws, ts.resourceRestrictions)) {
                continue;
            }
            int actors = ts.actor ? actorsOn(ws) : 0;
            double load = (double) ws.occupied() / ws.nthreads;
            if (actors < bestActors || actors == bestActors && load < bestLoad) {
                best = ws;
                bestActors = actors;
                bestLoad = load;
            }
        }
        return best;
    }

    /** Whether {@code ts} may run on {@code ws} under its restrictions (loose ones allow any worker). */
    boolean eligible(TaskState ts, WorkerState ws) {
        return hasResources(ws, ts.resourceRestrictions)
                && (ts.workerRestrictions == null || ts.looseRestrictions || matches(ts.workerRestrictions, ws));
    }

    /** Actors processing or held on {@code ws} (a scan: only actor placement asks). */
    private static int actorsOn(WorkerState ws) {
        int n = 0;
        for (TaskState t : ws.processing) {
            n += t.actor ? 1 : 0;
        }
        for (TaskState t : ws.hasWhat) {
            n += t.actor ? 1 : 0;
        }
        return n;
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
}
