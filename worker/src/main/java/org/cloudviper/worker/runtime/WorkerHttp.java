package org.cloudviper.worker.runtime;

import io.netty.channel.EventLoopGroup;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import org.cloudviper.protocol.message.WorkerMetrics;
import org.cloudviper.protocol.netty.HttpEndpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The worker's HTTP side, for pod probes and Prometheus: {@code /health} ("ok" while the worker runs)
 * and {@code /metrics} named as Dask's WorkerMetricCollector names them
 * (distributed/http/worker/prometheus/core.py): {@code dask_worker_tasks{state}},
 * {@code dask_worker_threads}, {@code dask_worker_memory_bytes{type}} (managed, unmanaged, spilled),
 * {@code dask_worker_transfer_incoming_bytes}, {@code dask_worker_transfer_incoming_count},
 * {@code dask_worker_transfer_outgoing_count}. Routes run on the worker's event loop.
 */
final class WorkerHttp {
    private final HttpEndpoint endpoint;

    private WorkerHttp(HttpEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    /** {@code metrics} is called on the loop, where the worker's state may be read. */
    static WorkerHttp start(EventLoopGroup group, String host, int port, int nthreads, Supplier<WorkerMetrics> metrics)
            throws InterruptedException {
        return new WorkerHttp(HttpEndpoint.bind(group, host, port, Map.of(
                "/health", (rq, r) -> r.text(200, "ok"),
                "/metrics", (rq, r) -> r.send(200, PrometheusTextFormatWriter.CONTENT_TYPE,
                        text(snapshots(metrics.get(), nthreads))))));
    }

    int port() {
        return endpoint.port();
    }

    void close() {
        endpoint.close();
    }

    static MetricSnapshots snapshots(WorkerMetrics m, int nthreads) {
        GaugeSnapshot.Builder tasks = GaugeSnapshot.builder().name("dask_worker_tasks").help("Number of tasks at worker.");
        m.taskCounts().forEach((state, n) -> tasks.dataPoint(point(Labels.of("state", state), n)));
        long managed = Math.min(m.memory(), m.managedBytes());
        GaugeSnapshot memory = GaugeSnapshot.builder().name("dask_worker_memory_bytes").help("Memory breakdown")
                .dataPoint(point(Labels.of("type", "managed"), managed))
                .dataPoint(point(Labels.of("type", "unmanaged"), Math.max(0, m.memory() - managed)))
                .dataPoint(point(Labels.of("type", "spilled"), m.spilledDiskBytes()))
                .build();
        return MetricSnapshots.of(tasks.build(),
                gauge("dask_worker_threads", "Number of worker threads", nthreads),
                memory,
                gauge("dask_worker_transfer_incoming_bytes", "Total size of open data transfers from other workers",
                        m.incomingBytes()),
                gauge("dask_worker_transfer_incoming_count", "Number of open data transfers from other workers",
                        m.incomingCount()),
                gauge("dask_worker_transfer_outgoing_count", "Number of open data transfers to other workers",
                        m.outgoingCount()));
    }

    private static GaugeSnapshot gauge(String name, String help, double v) {
        return GaugeSnapshot.builder().name(name).help(help).dataPoint(point(Labels.EMPTY, v)).build();
    }

    private static GaugeDataPointSnapshot point(Labels labels, double v) {
        return GaugeDataPointSnapshot.builder().labels(labels).value(v).build();
    }

    private static byte[] text(MetricSnapshots s) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, s);
        return out.toByteArray();
    }
}
