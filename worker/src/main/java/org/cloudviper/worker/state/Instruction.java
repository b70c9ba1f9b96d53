package org.cloudviper.worker.state;

import java.util.List;
import java.util.Map;

/**
 * What {@link WorkerState} asks its runtime to do: run a task, fetch keys from a peer, retry later,
 * or send a message to the scheduler ({@link ToScheduler}; fields as in
 * distributed/worker_state_machine.py {@code *Msg.to_dict}). The runtime reports the outcome of
 * {@link Execute} and {@link GatherDep} back as events.
 */
public sealed interface Instruction {
    String stimulusId();

    /**
     * Run {@code key}'s {@code runSpec} with {@code dependencies} (key to stored value, all in memory
     * here). Values stay owned by the state; the runtime must keep its own reference while it uses them.
     */
    record Execute(Object key, Object runSpec, Map<Object, Object> dependencies, String stimulusId)
            implements Instruction {
    }

    /** get_data {@code keys} from {@code worker}; answer with one of the GatherDep* events. */
    record GatherDep(String worker, List<Object> keys, long totalNbytes, String stimulusId) implements Instruction {
    }

    /**
     * Move {@code key}'s stored value (still owned by the state) to local disk: the runtime writes its
     * serialized form to a file and drops the in-memory copy; later reads (get_data, a dependent task)
     * read the file, and releasing the value deletes it. Emitted once per key while it is stored.
     * The runtime answers with {@link Event.SpillDone} or {@link Event.SpillFailed}.
     */
    record Spill(Object key, String stimulusId) implements Instruction {
    }

    /**
     * Send {@link Event.RetrySpill} after a delay: a spill failed (disk full, directory gone) and
     * retrying at every event would only repeat the failure.
     */
    record RetrySpillLater(String stimulusId) implements Instruction {
    }

    /** Send {@link Event.RetryBusyWorker} for {@code worker} after a short delay. */
    record RetryBusyWorkerLater(String worker, String stimulusId) implements Instruction {
    }

    /** One entry of a task's {@code startstops}. */
    record StartStop(String action, double start, double stop) {
    }

    /** Messages for the scheduler's stream. */
    sealed interface ToScheduler extends Instruction {
    }

    /** task-finished. {@code runId} is -1 when the scheduler did not send one (2022). */
    record TaskFinished(Object key, long nbytes, byte[] type, String typename, Long thread,
                        List<StartStop> startstops, long runId, String stimulusId) implements ToScheduler {
    }

    /** task-erred. */
    record TaskErred(Object key, Object exception, Object traceback, String exceptionText, String tracebackText,
                     Long thread, List<StartStop> startstops, long runId, String stimulusId)
            implements ToScheduler {
    }

    /** release-worker-data: this worker no longer holds {@code key}. */
    record ReleaseWorkerData(Object key, String stimulusId) implements ToScheduler {
    }

    /** add-keys: this worker now holds replicas of {@code keys}. */
    record AddKeys(List<Object> keys, String stimulusId) implements ToScheduler {
    }

    /** steal-response: the state {@code key} was in when the steal request came (null if unknown). */
    record StealResponse(Object key, String state, String stimulusId) implements ToScheduler {
    }

    /** request-refresh-who-has: where are these keys now? */
    record RequestRefreshWhoHas(List<Object> keys, String stimulusId) implements ToScheduler {
    }

    /** worker-status-change: this worker's status, echoed after the scheduler changed it. */
    record WorkerStatus(String status, String stimulusId) implements ToScheduler {
    }
}
