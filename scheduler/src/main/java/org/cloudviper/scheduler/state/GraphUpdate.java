package org.cloudviper.scheduler.state;

import java.util.List;
import java.util.Map;

/**
 * A client's new tasks (update-graph-hlg / update-graph), already flattened to one entry per key.
 *
 * @param order       the client's per-key order (submit/map send it), or null for the scheduler to
 *                    order the graph itself so tree reductions stay narrow
 * @param now         the time the message arrived, in seconds (for FIFO generations)
 * @param fifoTimeout seconds after which a new graph starts a new priority generation
 */
public record GraphUpdate(String client, List<NewTask> tasks, List<Object> wanted, Map<Object, Long> order,
                          double now, double fifoTimeout, String stimulusId) {

    /** One key of the graph. {@code dependencies} may name keys of earlier graphs. */
    public record NewTask(Object key, RunSpec spec, List<Object> dependencies, TaskOptions options) {
    }

    /**
     * Per-task annotations the scheduler acts on. {@code annotations} is what compute-task forwards
     * to the worker.
     */
    public record TaskOptions(long userPriority, int retries, List<String> workers, boolean allowOtherWorkers,
                              Map<String, Double> resources, Map<String, Object> annotations) {
        public static final TaskOptions NONE = new TaskOptions(0, 0, null, false, null, Map.of());
    }
}
