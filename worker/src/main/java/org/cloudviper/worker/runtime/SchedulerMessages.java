package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.cloudviper.worker.state.Event;

import java.util.List;

/**
 * Between the worker's state machine and the scheduler's stream: the event each scheduler message
 * is to the state (distributed Worker.stream_handlers), and the state's messages made writable.
 */
final class SchedulerMessages {
    private SchedulerMessages() {
    }

    /**
     * The state machine event of a scheduler stream message, or null for what the runtime handles
     * itself ({@link SchedulerToWorker.Close}) or ignores. A message without a stimulus id gets one
     * made of its op and {@code now}.
     */
    static Event toEvent(SchedulerToWorker m, double now) {
        if (m instanceof SchedulerToWorker.ComputeTask c) {
            return new Event.ComputeTask(c.key(), c.priority(), c.duration(), c.whoHas(), c.nbytes(), RunSpec.of(c),
                    Fields.amounts(c.resourceRestrictions()), c.runId(), sid(c.stimulusId(), "compute-task", now));
        } else if (m instanceof SchedulerToWorker.FreeKeys f) {
            return new Event.FreeKeys(f.keys(), sid(f.stimulusId(), "free-keys", now));
        } else if (m instanceof SchedulerToWorker.RemoveReplicas r) {
            return new Event.RemoveReplicas(r.keys(), sid(r.stimulusId(), "remove-replicas", now));
        } else if (m instanceof SchedulerToWorker.AcquireReplicas a) {
            return new Event.AcquireReplicas(a.whoHas(), a.nbytes(), sid(a.stimulusId(), "acquire-replicas", now));
        } else if (m instanceof SchedulerToWorker.RefreshWhoHas r) {
            return new Event.RefreshWhoHas(r.whoHas(), sid(r.stimulusId(), "refresh-who-has", now));
        } else if (m instanceof SchedulerToWorker.StealRequest s) {
            return new Event.StealRequest(s.key(), sid(s.stimulusId(), "steal-request", now));
        } else if (m instanceof SchedulerToWorker.CancelCompute c) {
            return new Event.CancelCompute(c.key(), sid(c.stimulusId(), "cancel-compute", now));
        } else if (m instanceof SchedulerToWorker.WorkerStatusChange s) {
            return new Event.WorkerStatusChange(s.status(), sid(s.stimulusId(), "worker-status-change", now));
        }
        return null;
    }

    private static String sid(String given, String op, double now) {
        return given != null ? given : op + "-" + now;
    }

    /**
     * {@code m} as it can be written: a task-erred whose exception is a Java failure
     * ({@link TaskError}) gets it as a Python exception the client can raise, added to
     * {@code created} for the caller to release once the message is written.
     */
    static WorkerToScheduler writable(WorkerToScheduler m, List<SubObject> created) {
        if (m instanceof WorkerToScheduler.TaskErred e && e.exception() instanceof TaskError t) {
            SubObject s = Serde.pythonException(t.text());
            created.add(s);
            return new WorkerToScheduler.TaskErred(e.key(), s, e.traceback() instanceof SubObject tb ? tb : null,
                    e.exceptionText(), e.tracebackText(), e.thread(), e.startstops(), e.runId(), e.stimulusId());
        }
        return m;
    }
}
