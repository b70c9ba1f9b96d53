package org.cloudviper.scheduler.state;

import java.util.List;
import java.util.Map;

/** Messages the scheduler state sends on a worker's stream (distributed Worker.stream_handlers). */
public sealed interface ToWorker {
    /**
     * Run {@code key}. {@code priority} is Dask's (-user priority, generation, order) triple;
     * {@code whoHas}/{@code nbytes} cover the task's dependencies.
     */
    record ComputeTask(Object key, long runId, long[] priority, double duration, String stimulusId,
                       Map<Object, List<String>> whoHas, Map<Object, Long> nbytes, RunSpec spec,
                       Map<String, Object> resourceRestrictions, Map<String, Object> annotations)
            implements ToWorker {
    }

    /** Forget these keys: drop their data, or stop computing them. */
    record FreeKeys(List<Object> keys, String stimulusId) implements ToWorker {
    }

    /** Fetch replicas of these keys from the named workers (used by retirement and replicate). */
    record AcquireReplicas(Map<Object, List<String>> whoHas, Map<Object, Long> nbytes, String stimulusId)
            implements ToWorker {
    }

    /** worker-status-change: "closing_gracefully" while it retires, "running" if that is called off. */
    record StatusChange(String status, String stimulusId) implements ToWorker {
    }

    /** The scheduler is done with this worker. */
    record Close(String reason) implements ToWorker {
    }
}
