package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.message.StartStop;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.cloudviper.worker.state.Event;
import org.cloudviper.worker.state.Instruction;

import java.util.ArrayList;
import java.util.List;

/**
 * Between the worker's state machine and the scheduler's stream: the event each scheduler message
 * is to the state (distributed Worker.stream_handlers), and the message each of the state's
 * {@link Instruction.ToScheduler} becomes.
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
     * The stream message of {@code m}. Sub-objects it creates (a Java exception serialized for
     * Python) are added to {@code created}; the caller releases them once the message is written.
     */
    static WorkerToScheduler toMessage(Instruction.ToScheduler m, List<SubObject> created) {
        if (m instanceof Instruction.TaskFinished t) {
            return new WorkerToScheduler.TaskFinished(t.key(), t.nbytes(), t.type(), t.typename(), null, t.thread(),
                    startstops(t.startstops()), t.runId(), t.stimulusId());
        } else if (m instanceof Instruction.TaskErred e) {
            return new WorkerToScheduler.TaskErred(e.key(), exception(e.exception(), created),
                    e.traceback() instanceof SubObject s ? s : null, e.exceptionText(), e.tracebackText(), e.thread(),
                    startstops(e.startstops()), e.runId(), e.stimulusId());
        } else if (m instanceof Instruction.ReleaseWorkerData d) {
            return new WorkerToScheduler.ReleaseWorkerData(d.key(), d.stimulusId());
        } else if (m instanceof Instruction.AddKeys a) {
            return new WorkerToScheduler.AddKeys(a.keys(), a.stimulusId());
        } else if (m instanceof Instruction.StealResponse s) {
            return new WorkerToScheduler.StealResponse(s.key(), s.state(), s.stimulusId());
        } else if (m instanceof Instruction.RequestRefreshWhoHas q) {
            return new WorkerToScheduler.RequestRefreshWhoHas(q.keys(), q.stimulusId());
        } else if (m instanceof Instruction.WorkerStatus w) {
            return new WorkerToScheduler.WorkerStatusChange(w.status(), w.stimulusId());
        }
        throw new IllegalArgumentException("no message for " + m);
    }

    /** A Java failure ({@link TaskError}) travels as a Python exception the client can raise. */
    private static Object exception(Object e, List<SubObject> created) {
        if (e instanceof TaskError t) {
            SubObject s = Serde.pythonException(t.text());
            created.add(s);
            return s;
        }
        return e == null ? null : String.valueOf(e);
    }

    private static List<StartStop> startstops(List<Instruction.StartStop> l) {
        List<StartStop> r = new ArrayList<>(l.size());
        for (Instruction.StartStop s : l) {
            r.add(new StartStop(s.action(), s.start(), s.stop()));
        }
        return r;
    }
}
