package org.cloudviper.bench.fleet;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.netty.Transports;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Many {@link FakeWorker}s in one process, on a few event-loop threads, each with its own TCP
 * stream and rpc connection to the scheduler: the load of a large cluster of real Python workers of
 * one generation on the scheduler (registrations, heartbeats at Dask's interval, task-finished for
 * every compute-task) without their processes. Works against cloudviper's scheduler and Dask's own.
 *
 * <pre>
 * try (FakeFleet fleet = FakeFleet.start("tcp://127.0.0.1:8786", 1000, 1, Generation.DASK_2022, 2, false)) {
 *     ... submit a graph from a client; fleet.computed() counts the tasks run ...
 * }
 * </pre>
 */
public final class FakeFleet implements AutoCloseable {
    private final EventLoopGroup group;
    private final List<FakeWorker> workers = new ArrayList<>();
    private final LongAdder computed = new LongAdder();
    private final LongAdder heartbeats = new LongAdder();
    /** Key to how many times a worker was asked to compute it; only when tracking. */
    private final Map<Object, Integer> computedPerKey;

    private FakeFleet(int threads, boolean trackKeys) {
        this.group = new MultiThreadIoEventLoopGroup(threads, Transports.ioHandlerFactory());
        this.computedPerKey = trackKeys ? new ConcurrentHashMap<>() : null;
    }

    /**
     * Starts {@code n} workers of {@code generation} with {@code nthreads} each against
     * {@code scheduler} on {@code loopThreads} threads and waits until every one is registered.
     * {@code trackKeys} counts compute-tasks per key ({@link #computedPerKey}), which costs memory
     * per key.
     */
    public static FakeFleet start(String scheduler, int n, int nthreads, Generation generation, int loopThreads,
                                  boolean trackKeys) throws InterruptedException {
        FakeFleet fleet = new FakeFleet(loopThreads, trackKeys);
        try {
            fleet.startWorkers(scheduler, n, nthreads, WorkerTemplate.of(generation));
        } catch (RuntimeException | InterruptedException e) {
            fleet.close();
            throw e;
        }
        return fleet;
    }

    private void startWorkers(String scheduler, int n, int nthreads, WorkerTemplate template)
            throws InterruptedException {
        // Unique, never dialled addresses: the fake workers serve no peers.
        int base = 20_000 + (int) (ProcessHandle.current().pid() % 20_000);
        FakeWorker.Counter counter = new FakeWorker.Counter() {
            @Override
            public void computed(FakeWorker worker, Object key) {
                computed.increment();
                if (computedPerKey != null) {
                    computedPerKey.merge(key, 1, Integer::sum);
                }
            }

            @Override
            public void heartbeat() {
                heartbeats.increment();
            }
        };
        List<CompletableFuture<Void>> registered = new ArrayList<>(n);
        // Registering in waves of at most 100 keeps the scheduler's accept backlog from overflowing.
        for (int i = 0; i < n; i++) {
            String address = "tcp://127.0.0.1:" + (base + i);
            FakeWorker w = new FakeWorker(group.next(), scheduler, FrameLimits.DEFAULT, template, address,
                    "fake-" + i, nthreads, counter);
            workers.add(w);
            registered.add(w.start());
            if (registered.size() % 100 == 0) {
                join(registered.subList(registered.size() - 100, registered.size()));
            }
        }
        join(registered);
    }

    private static void join(List<CompletableFuture<Void>> futures) throws InterruptedException {
        try {
            CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a fake worker did not register: " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("fake workers did not register within 120 s", e);
        }
    }

    public int size() {
        return workers.size();
    }

    /** compute-tasks answered so far, over all workers. */
    public long computed() {
        return computed.sum();
    }

    /** Heartbeats the scheduler answered so far. */
    public long heartbeats() {
        return heartbeats.sum();
    }

    /** Key to the number of compute-tasks for it; empty unless started with {@code trackKeys}. */
    public Map<Object, Integer> computedPerKey() {
        return computedPerKey == null ? Map.of() : Map.copyOf(computedPerKey);
    }

    /** Keys the workers hold now (finished and not yet freed). */
    public long heldKeys() {
        long n = 0;
        for (FakeWorker w : workers) {
            n += CompletableFuture.supplyAsync(w::heldKeys, w.loop()).join();
        }
        return n;
    }

    @Override
    public void close() {
        List<CompletableFuture<Void>> closing = new ArrayList<>();
        for (FakeWorker w : workers) {
            closing.add(w.close());
        }
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the loop shuts down below whatever is left
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
