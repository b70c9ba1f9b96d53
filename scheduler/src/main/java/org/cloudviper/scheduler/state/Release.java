package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToClient;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Set;

import static org.cloudviper.scheduler.state.TaskState.Status.ERRED;
import static org.cloudviper.scheduler.state.TaskState.Status.FORGOTTEN;
import static org.cloudviper.scheduler.state.TaskState.Status.RELEASED;

/**
 * The end of every event ({@link #settle}): tasks nobody wants and nothing needs are released (their
 * data freed on the workers, their runs cancelled) and forgotten once no live dependent may need to
 * recompute from them; freed worker slots are refilled from the queue; the free-keys gathered on the
 * way go out, one message per worker. Candidates come from {@link Transitions#releaseLater}: a key
 * a client let go, a dependency whose last waiter moved on, a task that reached memory or erred.
 */
final class Release {
    private final Outbox out;
    private final TaskTable tasks;
    private final Transitions transitions;
    private final Retirement retirement;
    private final FreeKeys freeKeys;

    Release(Outbox out, TaskTable tasks, Transitions transitions, Retirement retirement, FreeKeys freeKeys) {
        this.out = out;
        this.tasks = tasks;
        this.transitions = transitions;
        this.retirement = retirement;
        this.freeKeys = freeKeys;
    }

    /** Ends the event {@code stimulusId} (see the class comment). */
    void settle(String stimulusId) {
        transitions.begin(stimulusId);
        drainReleases();
        transitions.fillSlots();
        drainReleases();
        retirement.settle(stimulusId);
        freeKeys.flush(stimulusId);
    }

    private void drainReleases() {
        TaskState ts;
        while ((ts = transitions.pollReleaseCandidate()) != null) {
            if (ts.wanted() || ts.waiters > 0) {
                continue;
            }
            switch (ts.status) {
                case MEMORY -> memoryToReleased(ts);
                case PROCESSING -> transitions.processingToReleased(ts, true);
                case WAITING, QUEUED, NO_WORKER -> transitions.unassignedToReleased(ts);
                case RELEASED, ERRED -> {
                }
                default -> {
                    continue;
                }
            }
            releasedToForgotten(ts);
        }
    }

    /** memory -> released because nobody needs the data: every holder is told to drop it. */
    private void memoryToReleased(TaskState ts) {
        for (WorkerState ws : ts.whoHas) {
            ws.hasWhat.remove(ts);
            ws.nbytes -= Math.max(0, ts.nbytes);
            freeKeys.add(ws, ts.key);
        }
        ts.whoHas = TaskState.NOWHERE;
        transitions.transition(ts, RELEASED);
    }

    /** released (or erred) -> forgotten once no client wants it and no live dependent may need it again. */
    private void releasedToForgotten(TaskState ts) {
        if (ts.wanted() || ts.liveDependents > 0 || (ts.status != RELEASED && ts.status != ERRED)) {
            return;
        }
        if (ts.status == ERRED) {
            transitions.erredToReleased(ts);
        } else {
            ts.exceptionBlame = null; // no error to clear: only an erred task holds one
        }
        transitions.forget(ts);
        tasks.remove(ts.key);
        ts.dropSpec();
        for (TaskState dep : ts.dependencies) {
            dep.liveDependents--;
            if (dep.liveDependents == 0) {
                transitions.releaseLater(dep);
            }
        }
    }

    /**
     * New tasks of a graph update with a dependency the scheduler does not know (a lost future), and
     * everything downstream of them, are forgotten at once; the client hears they were cancelled.
     */
    void forgetLost(Set<TaskState> lost, ClientState cs) {
        ArrayDeque<TaskState> work = new ArrayDeque<>(lost);
        while (!work.isEmpty()) {
            TaskState ts = work.poll();
            for (int i = 0; i < ts.dependentCount; i++) {
                TaskState d = ts.dependents[i];
                if (d.status != FORGOTTEN && lost.add(d)) {
                    work.add(d);
                }
            }
        }
        for (TaskState ts : lost) {
            tasks.remove(ts.key);
            transitions.forget(ts);
            ts.dropSpec();
            for (TaskState dep : ts.dependencies) {
                if (!lost.contains(dep)) {
                    dep.liveDependents--;
                    transitions.releaseLater(dep);
                }
            }
            out.toClient(cs.id, new SchedulerToClient.CancelledKeys(List.of(ts.key)));
        }
    }
}
