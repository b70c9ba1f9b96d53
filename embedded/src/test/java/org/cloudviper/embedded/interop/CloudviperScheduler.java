package org.cloudviper.embedded.interop;

import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.testkit.PythonPeers;

/**
 * Starts cloudviper's scheduler in this JVM for the worker's interop tests that the classes of this
 * package run again under it (the worker module runs them under a stock {@code dask scheduler}).
 */
final class CloudviperScheduler {
    private CloudviperScheduler() {
    }

    /** On 127.0.0.1, a free port; stopped by {@code peers} after every worker. Returns its address. */
    static String start(PythonPeers peers) throws InterruptedException {
        peers.note("scheduler under test: cloudviper, in this JVM");
        return peers.inProcessScheduler(Scheduler.start(SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0)))
                .address();
    }
}
