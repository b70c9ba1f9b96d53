package org.cloudviper.worker.state;

import org.cloudviper.protocol.message.WorkerToScheduler;

import java.util.List;
import java.util.Map;

/**
 * What {@link WorkerState} asks its runtime to do: run a task, fetch keys from a peer, retry later,
 * or send a message to the scheduler ({@link Send}). The runtime reports the outcome of
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

    /**
     * A message for the scheduler's stream, as the protocol defines it (distributed
     * worker_state_machine.py {@code SendMessageToScheduler}). A task-erred's exception may be a
     * Java failure the runtime has yet to serialize for Python.
     */
    record Send(WorkerToScheduler message) implements Instruction {
        @Override
        public String stimulusId() {
            return message.stimulusId();
        }
    }
}
