package org.cloudviper.scheduler.server.http;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.cloudviper.scheduler.state.Adaptive;
import org.cloudviper.scheduler.state.ClusterSummary;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The scheduler's {@code /metrics}, named as Dask's SchedulerMetricCollector names them
 * (distributed/http/scheduler/prometheus/core.py, 2024.12.1) for what cloudviper knows the same way:
 * {@code dask_scheduler_clients}, {@code dask_scheduler_desired_workers},
 * {@code dask_scheduler_workers{state}} and {@code dask_scheduler_tasks{state}} for every task state
 * but forgotten (the worker states are {@link WorkerStates}), the counters of forgotten and suspicious
 * tasks, of workers and client connections added and removed, and the loop's ticks: Dask's tick is
 * a turn of cloudviper's event loop that handled messages. {@code gc_collection} is the JVM's
 * collectors' time, as Dask reports Python's. Not served: the per-prefix accumulations
 * ({@code prefix_state_totals}, {@code tasks_compute}, {@code tasks_transfer}, {@code tasks_output})
 * and {@code task_groups}, which need per-prefix bookkeeping on every transition, and
 * {@code gil_contention}, which has no meaning in a JVM.
 */
final class ClusterMetrics {
    /** Dask's ALL_TASK_STATES without "forgotten", in Dask's order. */
    static final List<String> TASK_STATES = List.of("released", "waiting", "no-worker", "queued", "processing",
            "memory", "erred");
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private ClusterMetrics() {
    }

    static MetricSnapshots snapshots(ClusterSummary s, SchedulerView.Activity a, double nowSeconds) {
        WorkerStates ws = WorkerStates.of(s);
        GaugeSnapshot.Builder workers = GaugeSnapshot.builder().name("dask_scheduler_workers")
                .help("Number of workers known by scheduler");
        point(workers, "state", "idle", ws.idle());
        point(workers, "state", "partially_saturated", ws.partiallySaturated());
        point(workers, "state", "saturated", ws.saturated());
        point(workers, "state", "paused", ws.paused());
        point(workers, "state", "retiring", ws.retiring());

        GaugeSnapshot.Builder tasks = GaugeSnapshot.builder().name("dask_scheduler_tasks")
                .help("Number of tasks known by scheduler");
        for (String state : TASK_STATES) {
            point(tasks, "state", state, s.tasks(state));
        }
        List<MetricSnapshot> all = new ArrayList<>(List.of(
                gauge("dask_scheduler_clients", "Number of clients connected", s.clients()),
                counter("dask_scheduler_client_connections_added", "Total number of client connections added",
                        a.clientsAdded()),
                counter("dask_scheduler_client_connections_removed", "Total number of client connections removed",
                        a.clientsRemoved()),
                gauge("dask_scheduler_desired_workers", "Number of workers scheduler needs for task graph",
                        Adaptive.target(s, Adaptive.DEFAULT_TARGET_SECONDS)),
                workers.build(),
                counter("dask_scheduler_workers_added", "Total number of workers added", a.workersAdded()),
                counter("dask_scheduler_workers_removed", "Total number of workers removed", a.workersRemoved()),
                counter("dask_scheduler_gc_collection_seconds", "Total time spent on garbage collection",
                        gcSeconds()),
                counter("dask_scheduler_last_time", "SystemMonitor last time", nowSeconds),
                tasks.build(),
                counter("dask_scheduler_tasks_forgotten", "Total number of processed tasks no longer in memory and"
                        + " already removed from the scheduler job queue", a.tasksForgotten()),
                gauge("dask_scheduler_tick_duration_maximum_seconds",
                        "Maximum tick duration observed since Prometheus last scraped metrics", a.maxTurnSeconds()),
                counter("dask_scheduler_tick_count", "Total number of ticks observed since the server started",
                        a.loopTurns())));
        if (!a.suspiciousByPrefix().isEmpty()) { // Dask lists every prefix it knows; cloudviper those with deaths
            CounterSnapshot.Builder suspicious = CounterSnapshot.builder().name("dask_scheduler_tasks_suspicious")
                    .help("Total number of times a task has been marked suspicious");
            for (Map.Entry<String, Long> e : a.suspiciousByPrefix().entrySet()) {
                suspicious.dataPoint(CounterDataPointSnapshot.builder()
                        .labels(Labels.of("task_prefix_name", e.getKey())).value(e.getValue()).build());
            }
            all.add(suspicious.build());
        }
        return new MetricSnapshots(all);
    }

    private static double gcSeconds() {
        long ms = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms / 1e3;
    }

    private static CounterSnapshot counter(String name, String help, double value) {
        return CounterSnapshot.builder().name(name).help(help)
                .dataPoint(CounterDataPointSnapshot.builder().value(value).build()).build();
    }

    static byte[] text(MetricSnapshots snapshots) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, snapshots);
        return out.toByteArray();
    }

    private static GaugeSnapshot gauge(String name, String help, double value) {
        return GaugeSnapshot.builder().name(name).help(help)
                .dataPoint(GaugeDataPointSnapshot.builder().value(value).build()).build();
    }

    private static void point(GaugeSnapshot.Builder b, String label, String value, double v) {
        b.dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of(label, value)).value(v).build());
    }
}
