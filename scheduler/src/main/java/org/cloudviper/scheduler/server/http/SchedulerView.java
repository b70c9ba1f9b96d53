package org.cloudviper.scheduler.server.http;

import org.cloudviper.scheduler.state.ClusterSummary;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the HTTP side reads and asks of the scheduler. Every method is called on the scheduler's event
 * loop, the thread that owns the state, so implementations read the state directly.
 */
public interface SchedulerView {
    /** See {@link org.cloudviper.scheduler.state.SchedulerState#summary}. */
    ClusterSummary summary(boolean groups);

    /** Task state transitions so far (cheap: no walk over the tasks). */
    long transitions();

    /** What has happened since start, for the counters of {@code /metrics}; resets the turn maximum. */
    Activity activity();

    /**
     * @param tasksForgotten     tasks forgotten so far
     * @param suspiciousByPrefix per task prefix, how often a worker died running one of its tasks
     * @param loopTurns          event-loop turns that handled messages (Dask counts its loop's ticks)
     * @param maxTurnSeconds     the longest such turn since the previous call
     */
    record Activity(long tasksForgotten, Map<String, Long> suspiciousByPrefix, long workersAdded,
                    long workersRemoved, long clientsAdded, long clientsRemoved, long loopTurns,
                    double maxTurnSeconds) {
    }

    /** Dask's identity(): type, id, address, services, started, workers. */
    Map<String, Object> identity();

    /** The {@code n} workers cheapest to retire (Dask's workers_to_close(n=...)). */
    List<String> workersToClose(int n);

    /**
     * Dask's {@code retire_workers(workers=addresses)} (close_workers=False, remove=True): {@code reply}
     * gets {address: worker info} of those retired, or an RPC error map, once their data lives elsewhere.
     */
    void retireWorkers(List<String> addresses, Consumer<Object> reply);
}
