package org.cloudviper.scheduler.server.http;

import org.cloudviper.scheduler.state.ClusterSummary;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text of /metrics: Dask's names, types and labels for the counters (the interop test compares with Dask's). */
class ClusterMetricsTest {
    private static final ClusterSummary SUMMARY = new ClusterSummary(List.of(), Map.of("memory", 3), Map.of(), 1, 9);

    private static String text(SchedulerView.Activity a) throws Exception {
        return new String(ClusterMetrics.text(ClusterMetrics.snapshots(SUMMARY, a, 1.7e9)), StandardCharsets.UTF_8);
    }

    @Test
    void countersAsDaskWritesThem() throws Exception {
        String t = text(new SchedulerView.Activity(7, Map.of("inc", 2L), 3, 1, 5, 4, 12, 0.25));
        for (String line : List.of("# TYPE dask_scheduler_tasks_forgotten_total counter",
                "dask_scheduler_tasks_forgotten_total 7.0", "dask_scheduler_workers_added_total 3.0",
                "dask_scheduler_workers_removed_total 1.0", "dask_scheduler_client_connections_added_total 5.0",
                "dask_scheduler_client_connections_removed_total 4.0", "dask_scheduler_tick_count_total 12.0",
                "dask_scheduler_tick_duration_maximum_seconds 0.25",
                "dask_scheduler_tasks_suspicious_total{task_prefix_name=\"inc\"} 2.0",
                "dask_scheduler_tasks{state=\"memory\"} 3.0", "dask_scheduler_clients 1.0",
                "# TYPE dask_scheduler_gc_collection_seconds_total counter")) {
            assertTrue(t.contains(line + "\n"), line + " in\n" + t);
        }
    }

    @Test
    void noSuspiciousFamilyWithoutDeaths() throws Exception {
        String t = text(new SchedulerView.Activity(0, Map.of(), 0, 0, 0, 0, 0, 0));
        assertFalse(t.contains("dask_scheduler_tasks_suspicious"), t);
    }
}
