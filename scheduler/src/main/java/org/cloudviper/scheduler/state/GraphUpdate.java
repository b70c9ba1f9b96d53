package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.RunSpec;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A client's new tasks (update-graph-hlg / update-graph), already flattened to one entry per key.
 *
 * @param clientOrder whether the client sent a per-key order (submit and map do; each task carries
 *                    its value, {@link NewTask#order}); false lets the scheduler order the graph
 *                    itself so tree reductions stay narrow
 * @param now         the time the message arrived, in seconds (for FIFO generations)
 * @param fifoTimeout seconds after which a new graph starts a new priority generation
 */
public record GraphUpdate(String client, List<NewTask> tasks, List<Object> wanted, boolean clientOrder,
                          double now, double fifoTimeout, String stimulusId, Set<Object> actors) {

    public GraphUpdate(String client, List<NewTask> tasks, List<Object> wanted, boolean clientOrder,
                       double now, double fifoTimeout, String stimulusId) {
        this(client, tasks, wanted, clientOrder, now, fifoTimeout, stimulusId, Set.of());
    }

    /**
     * The same update whose tasks of {@code actorKeys} are actors: update-graph's {@code actors},
     * True for every wanted key or a list of keys (Scheduler.update_graph).
     */
    public GraphUpdate withActors(Object actorKeys) {
        Set<Object> a;
        if (Boolean.TRUE.equals(actorKeys)) {
            a = new HashSet<>(wanted);
        } else if (actorKeys instanceof Collection<?> c && !c.isEmpty()) {
            a = new HashSet<>(c);
        } else {
            return this;
        }
        return new GraphUpdate(client, tasks, wanted, clientOrder, now, fifoTimeout, stimulusId, a);
    }

    /**
     * One key of the graph. {@code dependencies} may name keys of earlier graphs. {@code order} is
     * the client's order for this key, or {@link #NO_ORDER}. It travels with the task, so that the
     * state machine needs no per-key lookup in a separate order map.
     */
    /**
     * @param spec a {@link RunSpec}, or the value of its {@code runSpec} alone (a 2024 client's task:
     *             a million-task graph, a million records fewer)
     */
    public record NewTask(Object key, Object spec, List<Object> dependencies, TaskOptions options, long order) {
        public static final long NO_ORDER = Long.MIN_VALUE;

        public NewTask(Object key, Object spec, List<Object> dependencies, TaskOptions options) {
            this(key, spec, dependencies, options, NO_ORDER);
        }

        /** The spec as a {@link RunSpec}. */
        public RunSpec runSpec() {
            return spec instanceof RunSpec r ? r : spec == null ? null : RunSpec.of(spec);
        }
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
