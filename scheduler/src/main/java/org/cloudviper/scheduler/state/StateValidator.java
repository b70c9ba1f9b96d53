package org.cloudviper.scheduler.state;

/**
 * {@link SchedulerState#validate()}: every counter and index the state keeps incrementally,
 * recomputed from scratch, must match. For tests (run after every event); too slow for production.
 */
final class StateValidator {
    private final TaskTable tasks;
    private final Workers workers;
    private final Placement placement;
    private final Transitions transitions;
    private final Stealing stealing;

    StateValidator(TaskTable tasks, Workers workers, Placement placement, Transitions transitions,
                   Stealing stealing) {
        this.stealing = stealing;
        this.tasks = tasks;
        this.workers = workers;
        this.placement = placement;
        this.transitions = transitions;
    }

    /** Throws IllegalStateException describing the first inconsistency found. */
    void validate() {
        boolean queuedLeft = false;
        for (TaskState ts : tasks.values()) {
            validateCounters(ts);
            validateStatus(ts);
            queuedLeft |= ts.status == TaskState.Status.QUEUED;
        }
        for (TaskState ts : transitions.erredOn.keySet()) {
            if (ts.status != TaskState.Status.ERRED || tasks.get(ts.key) != ts) {
                fail(ts, "erred-on entry while " + ts.status);
            }
        }
        for (WorkerState ws : workers.all()) {
            validateWorker(ws, queuedLeft);
        }
        String indexes = workers.indexProblem();
        if (indexes != null) {
            fail(null, indexes);
        }
        for (WorkerState ws : placement.withFreeSlots.toList()) {
            if (!workers.isRegistered(ws)) {
                fail(null, "removed worker " + ws.address + " listed as free");
            }
        }
        String steals = stealing.problem();
        if (steals != null) {
            fail(null, steals);
        }
        for (TaskState ts : placement.unrunnable) {
            if (ts.status != TaskState.Status.NO_WORKER || tasks.get(ts.key) != ts) {
                fail(ts, "in unrunnable while " + ts.status);
            }
        }
    }

    private static void validateCounters(TaskState ts) {
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
    }

    private void validateStatus(TaskState ts) {
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
            for (WorkerState ws : ts.whoHas) {
                if (!workers.isRegistered(ws) || !ws.hasWhat.contains(ts)) {
                    fail(ts, "who_has names " + ws.address + " which does not hold it");
                }
            }
        } else if (ts.whoHas.length != 0) {
            fail(ts, "has replicas while " + ts.status);
        }
        if (ts.status == TaskState.Status.QUEUED) {
            check(ts.inQueue, ts, "queued but not in the queue");
        }
        if (ts.status == TaskState.Status.NO_WORKER) {
            check(placement.unrunnable.contains(ts), ts, "no-worker but not in unrunnable");
        }
        if (ts.processingOn != null && !workers.isRegistered(ts.processingOn)) {
            fail(ts, "processing on removed worker " + ts.processingOn.address);
        }
        check(ts.status != TaskState.Status.FORGOTTEN, ts, "forgotten but still known");
        if (!ts.wanted() && ts.waiters == 0) {
            check(ts.status != TaskState.Status.MEMORY && !ts.needsInputs(), ts, "kept though nobody needs it");
        }
    }

    private void validateWorker(WorkerState ws, boolean queuedLeft) {
        check(ws.registered && workers.get(ws.address) == ws, null, ws.address + " registered but not flagged");
        for (TaskState ts : ws.processing) {
            if (ts.processingOn != ws || tasks.get(ts.key) != ts) {
                fail(ts, "stale processing on " + ws.address);
            }
        }
        long nbytes = 0;
        for (TaskState ts : ws.hasWhat) {
            if (!ts.heldBy(ws) || tasks.get(ts.key) != ts) {
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
        boolean free = placement.wantsTasks(ws);
        if (free != placement.withFreeSlots.contains(ws)) {
            fail(null, ws.address + (free ? " has a free slot but is not listed" : " listed as free but is not"));
        }
        if (free && queuedLeft) {
            fail(null, "free slot on " + ws.address + " with queued tasks");
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
