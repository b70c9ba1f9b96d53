package org.cloudviper.k8s.control;

import org.cloudviper.k8s.policy.WorkerView;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What the scaler asks of the scheduler: in the same process through the scheduler's facade
 * ({@link InProcessScheduler}), or over the scheduler's {@code /api/v1} routes when the scaler runs as
 * its own Deployment ({@link HttpScheduler}), the routes the dask-kubernetes operator calls.
 */
public interface SchedulerControl {
    /** The registered workers. */
    List<WorkerView> workers() throws IOException;

    /** Dask's adaptive_target: the workers the current work wants. */
    int adaptiveTarget() throws IOException;

    /**
     * Retires these workers (their data moves to the others first); completes with {address: name} of
     * those retired, which the scheduler no longer counts.
     */
    CompletableFuture<Map<String, String>> retire(List<String> addresses);

    /** Retires up to {@code n} idle workers, those with the least data first; completes as {@link #retire}. */
    CompletableFuture<Map<String, String>> retireIdle(int n);
}
