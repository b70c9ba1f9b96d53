package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.scheduler.state.ToClient;
import org.cloudviper.scheduler.state.ToWorker;

import java.util.List;

/** The protocol record of each message the state machine sends. */
final class StateMessages {
    private StateMessages() {
    }

    static SchedulerToWorker toWorker(ToWorker m) {
        if (m instanceof ToWorker.ComputeTask c) {
            long[] p = c.priority();
            org.cloudviper.scheduler.state.RunSpec s = c.spec();
            return new SchedulerToWorker.ComputeTask(c.key(), c.runId(), List.of(p[0], p[1], p[2]), c.duration(),
                    c.stimulusId(), c.whoHas(), c.nbytes(), new RunSpec(s.function(), s.args(), s.kwargs(), s.runSpec()),
                    c.resourceRestrictions(), false, c.annotations(), null);
        } else if (m instanceof ToWorker.FreeKeys f) {
            return new SchedulerToWorker.FreeKeys(f.keys(), f.stimulusId());
        } else if (m instanceof ToWorker.AcquireReplicas a) {
            return new SchedulerToWorker.AcquireReplicas(a.whoHas(), a.nbytes(), a.stimulusId());
        } else if (m instanceof ToWorker.StatusChange c) {
            return new SchedulerToWorker.WorkerStatusChange(c.status(), c.stimulusId());
        }
        return new SchedulerToWorker.Close(((ToWorker.Close) m).reason());
    }

    static SchedulerToClient toClient(ToClient m) {
        if (m instanceof ToClient.KeyInMemory k) {
            return new SchedulerToClient.KeyInMemory(k.key(), k.type());
        } else if (m instanceof ToClient.TaskErred e) {
            return new SchedulerToClient.TaskErred(e.key(), e.exception(), e.traceback());
        } else if (m instanceof ToClient.LostData l) {
            return new SchedulerToClient.LostData(l.key());
        } else if (m instanceof ToClient.CancelledKey c) {
            return new SchedulerToClient.CancelledKeys(List.of(c.key()));
        }
        return new SchedulerToClient.TaskRetried(((ToClient.TaskRetried) m).key());
    }
}
