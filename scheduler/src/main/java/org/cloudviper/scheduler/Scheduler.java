package org.cloudviper.scheduler;

/**
 * The module's facade: a running Dask-compatible scheduler. Start one with {@link #start}, point
 * Dask clients and workers at {@link #address()}, and {@link #close()} it when done.
 */
public final class Scheduler implements AutoCloseable {
    private final org.cloudviper.scheduler.server.SchedulerServer server;

    private Scheduler(org.cloudviper.scheduler.server.SchedulerServer server) {
        this.server = server;
    }

    /** Binds and starts serving; returns once the port is open. */
    public static Scheduler start(SchedulerConfig config) throws InterruptedException {
        return new Scheduler(org.cloudviper.scheduler.server.SchedulerServer.start(config));
    }

    /** {@code tcp://host:port}, as Dask peers spell it. */
    public String address() {
        return server.address();
    }

    public int port() {
        return server.port();
    }

    /** Number of workers currently registered (for tests and the scaler). */
    public int workerCount() {
        return server.workerCount();
    }

    @Override
    public void close() {
        server.close();
    }
}
