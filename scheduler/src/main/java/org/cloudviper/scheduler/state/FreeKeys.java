package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToWorker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys each worker is to forget, gathered during one event and sent at its end as one
 * free-keys message per worker ({@link #flush}), or just before a compute-task for a key the
 * worker must forget first ({@link #take}).
 */
final class FreeKeys {
    private final Outbox out;
    private final Workers workers;
    private final LinkedHashMap<WorkerState, List<Object>> pending = new LinkedHashMap<>();
    /**
     * The last worker given a key, and its list in {@link #pending}: releasing a graph frees key after
     * key on the same worker, without a map lookup each. Null when not valid; always registered.
     */
    private WorkerState last;
    private List<Object> lastKeys;

    FreeKeys(Outbox out, Workers workers) {
        this.out = out;
        this.workers = workers;
    }

    /** Tells {@code ws} (if still registered) to forget {@code key}. */
    void add(WorkerState ws, Object key) {
        if (ws == null) {
            return;
        }
        if (ws != last) {
            if (!workers.contains(ws.address)) {
                return;
            }
            lastKeys = pending.computeIfAbsent(ws, w -> new ArrayList<>());
            last = ws;
        }
        lastKeys.add(key);
    }

    /** The keys gathered for {@code ws}, now taken out of the batch, or null. */
    List<Object> take(WorkerState ws) {
        if (pending.isEmpty()) {
            return null;
        }
        List<Object> keys = pending.remove(ws);
        if (keys != null) {
            last = null;
        }
        return keys;
    }

    /** The worker is gone: nothing more is sent to it. */
    void dropWorker(WorkerState ws) {
        pending.remove(ws);
        last = null;
    }

    /** Sends what was gathered, one message per worker. */
    void flush(String stimulusId) {
        if (!pending.isEmpty()) {
            for (Map.Entry<WorkerState, List<Object>> e : pending.entrySet()) {
                out.toWorker(e.getKey().address, new SchedulerToWorker.FreeKeys(e.getValue(), stimulusId));
            }
            pending.clear();
            last = null;
        }
    }
}
