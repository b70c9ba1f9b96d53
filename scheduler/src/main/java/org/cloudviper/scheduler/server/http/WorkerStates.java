package org.cloudviper.scheduler.server.http;

import org.cloudviper.scheduler.state.ClusterSummary;

/**
 * The workers by Dask's load classes, as the metrics and {@code /json/counts.json} report them: idle
 * (running, fewer tasks than threads), saturated (running, more tasks than threads: some wait on the
 * worker), partially saturated (the other running ones), paused, retiring. Dask also weighs expected
 * durations (Scheduler.check_idle_saturated); cloudviper counts tasks.
 */
record WorkerStates(int idle, int partiallySaturated, int saturated, int paused, int retiring) {

    static WorkerStates of(ClusterSummary s) {
        int idle = 0;
        int saturated = 0;
        int running = 0;
        int paused = 0;
        int retiring = 0;
        for (ClusterSummary.Worker w : s.workers()) {
            switch (w.status()) {
                case RUNNING -> {
                    running++;
                    if (w.processing() < w.nthreads()) {
                        idle++;
                    } else if (w.processing() > w.nthreads()) {
                        saturated++;
                    }
                }
                case PAUSED -> paused++;
                case CLOSING_GRACEFULLY -> retiring++;
            }
        }
        return new WorkerStates(idle, running - idle - saturated, saturated, paused, retiring);
    }
}
