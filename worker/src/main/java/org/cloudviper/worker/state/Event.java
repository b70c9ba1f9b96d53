package org.cloudviper.worker.state;

import java.util.List;
import java.util.Map;

/**
 * What happens to a worker, as {@link WorkerState} sees it: messages from the scheduler, results of
 * the instructions it gave (an execution finished, a fetch returned), and timers. Every event names
 * the stimulus that caused it; instructions and messages it leads to carry the same id.
 *
 * <p>Keys are {@code String} (2022) or any msgpack value ({@code List} for tuple keys, 2024). Values
 * ({@code value}, {@code data}) are opaque: the state stores them and hands them back in
 * {@link Instruction.Execute}, and passes each to its release callback once it forgets it.
 * Mirrors distributed/worker_state_machine.py {@code *Event} classes.
 */
public sealed interface Event {
    String stimulusId();

    /** compute-task: run {@code key} once its dependencies ({@code whoHas}/{@code nbytes}) are here. */
    record ComputeTask(Object key, List<Number> priority, double duration, Map<Object, List<String>> whoHas,
                       Map<Object, Long> nbytes, Object runSpec, Map<String, Double> resourceRestrictions,
                       long runId, String stimulusId) implements Event {
        public ComputeTask {
            priority = List.copyOf(priority);
            whoHas = Map.copyOf(whoHas);
            nbytes = Map.copyOf(nbytes);
            resourceRestrictions = Map.copyOf(resourceRestrictions);
        }
    }

    /** free-keys: the scheduler no longer needs these keys here. */
    record FreeKeys(List<Object> keys, String stimulusId) implements Event {
    }

    /** remove-replicas: drop these replicas unless a local task still needs them. */
    record RemoveReplicas(List<Object> keys, String stimulusId) implements Event {
    }

    /** acquire-replicas: fetch copies of these keys from the named workers. */
    record AcquireReplicas(Map<Object, List<String>> whoHas, Map<Object, Long> nbytes, String stimulusId)
            implements Event {
    }

    /** refresh-who-has: new locations of keys (answer to request-refresh-who-has). */
    record RefreshWhoHas(Map<Object, List<String>> whoHas, String stimulusId) implements Event {
    }

    /** steal-request: give {@code key} up if it has not started; always answered with steal-response. */
    record StealRequest(Object key, String stimulusId) implements Event {
    }

    /** cancel-compute: best-effort cancel of a task that has not started. */
    record CancelCompute(Object key, String stimulusId) implements Event {
    }

    /** worker-status-change from the scheduler: "running", "paused", "closing_gracefully". */
    record WorkerStatusChange(String status, String stimulusId) implements Event {
    }

    /** update_data (scatter): these values are now here; {@code report} asks for add-keys. */
    record UpdateData(Map<Object, Object> data, Map<Object, Long> nbytes, boolean report, String stimulusId)
            implements Event {
    }

    /** An {@link Instruction.Execute} returned a value. {@code type} is the pickled class, may be null. */
    record ExecuteSuccess(Object key, Object value, long nbytes, byte[] type, String typename, double start,
                          double stop, long thread, String stimulusId) implements Event {
    }

    /** An {@link Instruction.Execute} failed; the exception objects are whatever the runtime sends. */
    record ExecuteFailure(Object key, Object exception, Object traceback, String exceptionText,
                          String tracebackText, double start, double stop, long thread, String stimulusId)
            implements Event {
    }

    /** A {@link Instruction.GatherDep} got its reply; keys the peer did not have are absent from data. */
    record GatherDepSuccess(String worker, Map<Object, Object> data, Map<Object, Long> nbytes, String stimulusId)
            implements Event {
    }

    /** The peer answered "busy". */
    record GatherDepBusy(String worker, String stimulusId) implements Event {
    }

    /** The peer could not be reached or the connection broke: assume it is gone. */
    record GatherDepNetworkFailure(String worker, String stimulusId) implements Event {
    }

    /** The reply came but could not be used (e.g. malformed): the tasks fetched from it err. */
    record GatherDepFailure(String worker, Object exception, String exceptionText, String stimulusId)
            implements Event {
    }

    /** Timer after {@link Instruction.RetryBusyWorkerLater}. */
    record RetryBusyWorker(String worker, String stimulusId) implements Event {
    }

    /** The runtime wrote {@code key}'s value to disk after {@link Instruction.Spill}. */
    record SpillDone(Object key, String stimulusId) implements Event {
    }

    /**
     * The runtime could not write {@code key}'s value to disk after {@link Instruction.Spill}; the
     * value is still in memory. The state counts it as in memory again and spills nothing more until
     * {@link RetrySpill}.
     */
    record SpillFailed(Object key, String reason, String stimulusId) implements Event {
    }

    /** Timer after {@link Instruction.RetrySpillLater}: spilling may be tried again. */
    record RetrySpill(String stimulusId) implements Event {
    }

    /** Periodic: ask the scheduler where the missing keys are. */
    record FindMissing(String stimulusId) implements Event {
    }
}
