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
     * Retires the workers at {@code addresses} without losing data, as Dask's {@code retire_workers}
     * does (the same code path as that RPC): they get no new tasks, every key only they hold is
     * copied to another running worker, then they are closed and removed. Completes with the
     * addresses actually retired; a worker whose unique data no other worker can take is kept
     * (running again) and left out. Unknown addresses are ignored.
     */
    public java.util.concurrent.CompletableFuture<java.util.Set<String>> retireWorkers(java.util.Collection<String> addresses) {
        java.util.concurrent.CompletableFuture<java.util.Set<String>> f = new java.util.concurrent.CompletableFuture<>();
        try {
            server.startRetirement(java.util.List.copyOf(addresses), null, null, true, true,
                    "retire-workers-java-" + System.currentTimeMillis() / 1000.0,
                    infos -> f.complete(java.util.Set.copyOf(infos.keySet())));
        } catch (RuntimeException e) {
            f.completeExceptionally(e);
        }
        return f;
    }

    @Override
    public void close() {
        server.close();
    }
}
