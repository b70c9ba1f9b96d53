package org.cloudviper.scheduler.server.http;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.cloudviper.scheduler.state.Adaptive;
import org.cloudviper.scheduler.state.ClusterSummary;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;

/**
 * The scheduler's {@code /metrics}, named as Dask's SchedulerMetricCollector names them
 * (distributed/http/scheduler/prometheus/core.py, 2024.12.1) for what cloudviper knows the same way:
 * {@code dask_scheduler_clients}, {@code dask_scheduler_desired_workers},
 * {@code dask_scheduler_workers{state}} and {@code dask_scheduler_tasks{state}} for every task state
 * but forgotten; the worker states are {@link WorkerStates}.
 */
final class ClusterMetrics {
    /** Dask's ALL_TASK_STATES without "forgotten", in Dask's order. */
    static final List<String> TASK_STATES = List.of("released", "waiting", "no-worker", "queued", "processing",
            "memory", "erred");
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private ClusterMetrics() {
    }

    static MetricSnapshots snapshots(ClusterSummary s) {
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
        return MetricSnapshots.of(
                gauge("dask_scheduler_clients", "Number of clients connected", s.clients()),
                gauge("dask_scheduler_desired_workers", "Number of workers scheduler needs for task graph",
                        Adaptive.target(s, Adaptive.DEFAULT_TARGET_SECONDS)),
                workers.build(),
                tasks.build());
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
