package org.cloudviper.worker;

import org.cloudviper.worker.runtime.WorkerServer;
import org.cloudviper.worker.tasks.TaskRegistry;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The module's facade: a Dask worker that runs tasks implemented in Java. It joins a Dask scheduler
 * (Python {@code dask scheduler} or cloudviper) as a Python {@code dask worker} does, advertises a
 * {@code java} resource, runs the {@link TaskRegistry}'s tasks on {@code nthreads} compute threads and
 * serves results to clients and peers.
 */
public final class Worker implements AutoCloseable {
    private final WorkerServer server;
    private final ExecutorService compute;

    private Worker(WorkerServer server, ExecutorService compute) {
        this.server = server;
        this.compute = compute;
    }

    /** Starts a worker with the built-in tasks; returns once it is registered with the scheduler. */
    public static Worker start(WorkerConfig config) throws IOException, InterruptedException {
        return start(config, TaskRegistry.withBuiltins());
    }

    /** Starts a worker running {@code registry}'s tasks; returns once registered. */
    public static Worker start(WorkerConfig config, TaskRegistry registry) throws IOException, InterruptedException {
        ExecutorService compute = Executors.newFixedThreadPool(config.nthreads(), computeThreads());
        try {
            Worker w = new Worker(WorkerServer.start(config, registry, compute), compute);
            w.server.closed().whenComplete((r, e) -> compute.shutdown());
            return w;
        } catch (IOException | InterruptedException | RuntimeException e) {
            compute.shutdownNow();
            throw e;
        }
    }

    private static ThreadFactory computeThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "cloudviper-compute-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** {@code tcp://host:port}: where peers and clients reach this worker. */
    public String address() {
        return server.address();
    }

    public String name() {
        return server.name();
    }

    /** The port of {@code /health} and {@code /metrics}, or -1 without them ({@link WorkerConfig#httpPort}). */
    public int httpPort() {
        return server.httpPort();
    }

    /** Completes with a reason once the worker has stopped (closed, or the scheduler went away). */
    public CompletableFuture<String> closed() {
        return server.closed();
    }

    /** Leaves the cluster and stops; waits briefly for running tasks. Data only this worker held is lost. */
    @Override
    public void close() {
        server.close();
        stopCompute();
    }

    /**
     * Moves every result only this worker holds to other workers (through the scheduler, as Dask's
     * {@code Worker.close_gracefully} does), waiting up to {@code timeout}, then closes. What scaling
     * down should use; the CLI does it on SIGTERM.
     */
    public void closeGracefully(java.time.Duration timeout) {
        server.closeGracefully(timeout);
        stopCompute();
    }

    private void stopCompute() {
        compute.shutdown();
        try {
            compute.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        compute.shutdownNow();
    }
}
