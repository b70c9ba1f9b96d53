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
 */
public record SchedulerConfig(String host, int port, FrameLimits limits, Duration workerTtl,
                              double workerSaturation, int allowedFailures, Path schedulerFile,
                              Duration workerPipeline) {

    public static SchedulerConfig defaults() {
        return new SchedulerConfig("127.0.0.1", 8786, FrameLimits.DEFAULT, Duration.ofMinutes(5), 1.1, 3, null,
                Duration.ofMillis(5));
    }

    public SchedulerConfig withHost(String h) {
        return new SchedulerConfig(h, port, limits, workerTtl, workerSaturation, allowedFailures, schedulerFile, workerPipeline);
    }

    public SchedulerConfig withPort(int p) {
        return new SchedulerConfig(host, p, limits, workerTtl, workerSaturation, allowedFailures, schedulerFile, workerPipeline);
    }

    public SchedulerConfig withLimits(FrameLimits l) {
        return new SchedulerConfig(host, port, l, workerTtl, workerSaturation, allowedFailures, schedulerFile, workerPipeline);
    }

    public SchedulerConfig withWorkerTtl(Duration t) {
        return new SchedulerConfig(host, port, limits, t, workerSaturation, allowedFailures, schedulerFile, workerPipeline);
    }

    public SchedulerConfig withWorkerSaturation(double s) {
        return new SchedulerConfig(host, port, limits, workerTtl, s, allowedFailures, schedulerFile, workerPipeline);
    }

    public SchedulerConfig withAllowedFailures(int n) {
        return new SchedulerConfig(host, port, limits, workerTtl, workerSaturation, n, schedulerFile, workerPipeline);
    }

    public SchedulerConfig withSchedulerFile(Path f) {
        return new SchedulerConfig(host, port, limits, workerTtl, workerSaturation, allowedFailures, f, workerPipeline);
    }

    public SchedulerConfig withWorkerPipeline(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("worker pipeline: " + d + " (expected: >= 0)");
        }
        return new SchedulerConfig(host, port, limits, workerTtl, workerSaturation, allowedFailures, schedulerFile, d);
    }
}
