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

    /**
     * Up to {@code n} workers that are cheapest to retire: idle ones first, then those holding the
     * least data. What a scaler asks before shrinking the cluster.
     */
    public java.util.List<String> workersToClose(int n) {
        return server.onLoop(() -> server.stateWorkersToClose(n));
    }

    /**
     * Retires these workers without losing data: they get no new tasks, every result only they hold is
     * copied to another worker, then they are removed and (with {@code close}) told to close. Completes
     * with the addresses retired; a worker whose data no other running worker can take is left
     * running and is not in the result.
     */
    public java.util.concurrent.CompletableFuture<java.util.Set<String>> retireWorkers(java.util.List<String> addresses,
                                                                                   boolean close) {
        return server.retireWorkers(addresses, close);
    }

    @Override
    public void close() {
        server.close();
    }
}
