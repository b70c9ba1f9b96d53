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

    /** The HTTP side's port (health, metrics, /api/v1, status page), or -1 without one. */
    public int dashboardPort() {
        return server.dashboardPort();
    }

    /**
     * A copy of the workers (threads, memory, tasks, status) and task counts, taken on the scheduler's
     * thread; with {@code groups} also the counts per task prefix. Walks every task.
     */
    public org.cloudviper.scheduler.state.ClusterSummary summary(boolean groups) {
        return server.summary(groups);
    }

    /**
     * The workers the current work wants to finish within {@code targetDuration} (Dask's
     * adaptive_target); below the current count only by the idle workers. See
     * {@link org.cloudviper.scheduler.state.Adaptive}.
     */
    public int adaptiveTarget(java.time.Duration targetDuration) {
        return org.cloudviper.scheduler.state.Adaptive.target(summary(false), targetDuration.toNanos() / 1e9);
    }

    /**
     * Checks every counter and index the state keeps incrementally against its tasks and workers, on
     * the scheduler's thread; throws on the first that disagrees. For tests and load generators: it
     * walks every task.
     */
    public void validateState() {
        server.validateState();
    }

    /** Waits (at most {@code timeout}) for retirements under way to move their workers' data, then closes. */
    public void closeGracefully(java.time.Duration timeout) {
        server.closeGracefully(timeout);
    }

    @Override
    public void close() {
        server.close();
    }
}
