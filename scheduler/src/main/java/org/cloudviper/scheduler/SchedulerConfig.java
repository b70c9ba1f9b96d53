package org.cloudviper.scheduler;

import org.cloudviper.protocol.FrameLimits;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of one scheduler. {@link #defaults()} matches {@code dask scheduler}'s defaults where Dask
 * has one.
 *
 * @param host             interface to bind (Dask peers must be able to reach it)
 * @param port             TCP port; 0 picks a free one
 * @param limits           per-message limits every peer must respect
 * @param workerTtl        a worker silent for longer is removed as dead (distributed.scheduler.worker-ttl)
 * @param workerSaturation tasks per thread a worker is given before the rest wait in the scheduler's
 *                         queue (distributed.scheduler.worker-saturation); infinite disables queuing
 * @param allowedFailures  how many workers may die while running a task before it errs as KilledWorker
 * @param schedulerFile    if not null, the JSON file written for {@code --scheduler-file} peers
 * @param workerPipeline   short tasks may be queued on a worker until each thread holds about this much
 *                         compute time (covers the scheduler-worker round trip); zero keeps Dask's cap
 * @param dashboard        the HTTP side (health, metrics, /api/v1, status page) as {@code dask scheduler
 *                         --dashboard-address} takes it, {@code HOST:PORT} or {@code :PORT} (the scheduler's
 *                         host); port 0 picks a free one; null: none
 * @param workStealing     move tasks not yet started from saturated workers to idle ones
 *                         (distributed.scheduler.work-stealing)
 */
public record SchedulerConfig(String host, int port, FrameLimits limits, Duration workerTtl,
                              double workerSaturation, int allowedFailures, Path schedulerFile,
                              Duration workerPipeline, String dashboard, boolean workStealing) {

    public static SchedulerConfig defaults() {
        return new SchedulerConfig("127.0.0.1", 8786, FrameLimits.DEFAULT, Duration.ofMinutes(5), 1.1, 3, null,
                Duration.ofMillis(5), null, true);
    }

    public SchedulerConfig withHost(String h) {
        return new SchedulerConfig(h, port, limits, workerTtl, workerSaturation, allowedFailures, schedulerFile, workerPipeline, dashboard, workStealing);
    }

    public SchedulerConfig withPort(int p) {
        return new SchedulerConfig(host, p, limits, workerTtl, workerSaturation, allowedFailures, schedulerFile, workerPipeline, dashboard, workStealing);
    }

    public SchedulerConfig withLimits(FrameLimits l) {
        return new SchedulerConfig(host, port, l, workerTtl, workerSaturation, allowedFailures, schedulerFile, workerPipeline, dashboard, workStealing);
    }

    public SchedulerConfig withWorkerTtl(Duration t) {
        return new SchedulerConfig(host, port, limits, t, workerSaturation, allowedFailures, schedulerFile, workerPipeline, dashboard, workStealing);
    }

    public SchedulerConfig withWorkerSaturation(double s) {
        return new SchedulerConfig(host, port, limits, workerTtl, s, allowedFailures, schedulerFile, workerPipeline, dashboard, workStealing);
    }

    public SchedulerConfig withAllowedFailures(int n) {
        return new SchedulerConfig(host, port, limits, workerTtl, workerSaturation, n, schedulerFile, workerPipeline, dashboard, workStealing);
    }

    public SchedulerConfig withSchedulerFile(Path f) {
        return new SchedulerConfig(host, port, limits, workerTtl, workerSaturation, allowedFailures, f, workerPipeline, dashboard, workStealing);
    }

    public SchedulerConfig withWorkerPipeline(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("worker pipeline: " + d + " (expected: >= 0)");
        }
        return new SchedulerConfig(host, port, limits, workerTtl, workerSaturation, allowedFailures, schedulerFile, d, dashboard, workStealing);
    }

    public SchedulerConfig withWorkStealing(boolean on) {
        return new SchedulerConfig(host, port, limits, workerTtl, workerSaturation, allowedFailures, schedulerFile,
                workerPipeline, dashboard, on);
    }

    /** With the HTTP side at {@code address} ({@code HOST:PORT} or {@code :PORT}), or without it (null). */
    public SchedulerConfig withDashboard(String address) {
        if (address != null) {
            DashboardAddress.parse(address, host);
        }
        return new SchedulerConfig(host, port, limits, workerTtl, workerSaturation, allowedFailures, schedulerFile,
                workerPipeline, address, workStealing);
    }

    /** {@link #dashboard} parsed, or null without a dashboard. */
    public DashboardAddress dashboardAddress() {
        return dashboard == null ? null : DashboardAddress.parse(dashboard, host);
    }

    /**
     * Where the HTTP side listens, parsed as {@code dask scheduler --dashboard-address} takes it:
     * {@code HOST:PORT}, {@code :PORT} (the scheduler's own host), {@code PORT}, or {@code [V6]:PORT}.
     *
     * @param host interface to bind
     * @param port TCP port, 0 for a free one
     */
    public record DashboardAddress(String host, int port) {

        public static DashboardAddress parse(String address, String schedulerHost) {
            String a = address.trim();
            int colon = a.lastIndexOf(':');
            String host = colon < 0 ? "" : a.substring(0, colon);
            String port = colon < 0 ? a : a.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("dashboard address: " + address + " (expected: HOST:PORT or :PORT)");
            }
            if (p < 0 || p > 65535) {
                throw new IllegalArgumentException("dashboard port: " + p + " (expected: 0 to 65535)");
            }
            return new DashboardAddress(host.isEmpty() ? schedulerHost : host, p);
        }
    }
}
