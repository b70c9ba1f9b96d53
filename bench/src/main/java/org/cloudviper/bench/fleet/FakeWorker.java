package org.cloudviper.bench.fleet;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.cloudviper.protocol.netty.BatchedStream;
import org.cloudviper.protocol.netty.RpcClient;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * One worker without a Python process: it registers on a stream and heartbeats over its own pooled
 * rpc connection as distributed's Worker does ({@code _register_with_scheduler}, {@code heartbeat}:
 * first after 1 s, the worker's default {@code heartbeat_interval}, then at the interval each reply
 * gives; a {@code keep-alive} on the stream every 60 s), and finishes every task the instant its
 * compute-task arrives. It holds the keys it finished until free-keys releases them, then answers
 * release-worker-data for each (worker_state_machine.py {@code _transition_memory_released}), and
 * answers steal-request with the key's state as a Python worker would. It serves no peers: nothing
 * gathers from it, so its address is never dialled. Runs entirely on one event loop.
 */
final class FakeWorker {
    /** distributed.worker.Worker(heartbeat_interval="1s"): the period before the scheduler's first reply. */
    private static final long FIRST_HEARTBEAT_MS = 1_000;
    /** Worker.periodic_callbacks["keep-alive"]. */
    private static final long KEEP_ALIVE_MS = 60_000;

    /** What the fleet counts. Called on the worker's loop. */
    interface Counter {
        void computed(FakeWorker worker, Object key);

        void heartbeat();
    }

    final String address;
    final String name;
    private final EventLoop loop;
    private final String scheduler;
    private final FrameLimits limits;
    private final WorkerTemplate template;
    private final int nthreads;
    private final Counter counter;
    private final RpcClient rpc;
    private final String serverId = "Worker-" + UUID.randomUUID();
    private final long thread;
    private final Set<Object> inMemory = new HashSet<>();
    private final CompletableFuture<Void> registered = new CompletableFuture<>();
    private BatchedStream stream;
    private ScheduledFuture<?> heartbeatTimer;
    private ScheduledFuture<?> keepAliveTimer;
    private boolean closed;

    FakeWorker(EventLoop loop, String scheduler, FrameLimits limits, WorkerTemplate template, String address,
               String name, int nthreads, Counter counter) {
        this.loop = loop;
        this.scheduler = scheduler;
        this.limits = limits;
        this.template = template;
        this.address = address;
        this.name = name;
        this.nthreads = nthreads;
        this.counter = counter;
        this.rpc = new RpcClient(loop, limits);
        this.thread = 139_730_261_350_080L + address.hashCode();
    }

    /** Opens the stream and registers; completes once the scheduler said OK (or with why not). */
    CompletableFuture<Void> start() {
        loop.execute(() -> {
            double now = now();
            Object opening = template.register(address, name, nthreads, ProcessHandle.current().pid(), serverId, now)
                    .encode(template.generation);
            BatchedStream.open(loop, limits, scheduler, opening, new Listener()).whenComplete((s, failure) -> {
                if (failure != null) {
                    registered.completeExceptionally(failure);
                } else {
                    stream = s;
                }
            });
        });
        return registered;
    }

    /** Keys this worker holds now. Call on its loop. */
    int heldKeys() {
        return inMemory.size();
    }

    EventLoop loop() {
        return loop;
    }

    /** Closes the stream and the rpc connection; the scheduler sees the worker's connection go. */
    CompletableFuture<Void> close() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            closed = true;
            if (heartbeatTimer != null) {
                heartbeatTimer.cancel(false);
            }
            if (keepAliveTimer != null) {
                keepAliveTimer.cancel(false);
            }
            rpc.close();
            if (stream == null) {
                done.complete(null);
            } else {
                stream.close().whenComplete((v, e) -> done.complete(null));
            }
        });
        return done;
    }

    private void onRegistered(Object reply) {
        SchedulerRequest.RegisterWorker.Reply r = SchedulerRequest.RegisterWorker.Reply.decode(reply);
        if (!r.isOk()) {
            registered.completeExceptionally(new IOException("the scheduler refused " + address + ": " + r.message()));
            stream.close();
            return;
        }
        // Worker.status = running, which a Python worker reports on its stream.
        stream.send(new WorkerToScheduler.WorkerStatusChange("running", "worker-status-change-" + now())
                .encode(template.generation));
        heartbeatTimer = loop.schedule(this::heartbeat, FIRST_HEARTBEAT_MS, TimeUnit.MILLISECONDS);
        keepAliveTimer = loop.scheduleAtFixedRate(() -> stream.send(WorkerToScheduler.KeepAlive.INSTANCE
                .encode(template.generation)), KEEP_ALIVE_MS, KEEP_ALIVE_MS, TimeUnit.MILLISECONDS);
        registered.complete(null);
    }

    private void heartbeat() {
        if (closed) {
            return;
        }
        rpc.call(scheduler, template.heartbeat(address, now()).encode(template.generation), false, (reply, err) -> {
            long nextMs = FIRST_HEARTBEAT_MS;
            try {
                if (err == null) {
                    SchedulerRequest.HeartbeatWorker.Reply r = SchedulerRequest.HeartbeatWorker.Reply.decode(reply);
                    if (r.isMissing()) {
                        close();
                        return;
                    }
                    counter.heartbeat();
                    if (!Double.isNaN(r.heartbeatInterval())) {
                        nextMs = Math.round(r.heartbeatInterval() * 1000);
                    }
                }
            } finally {
                MessageCodec.release(reply);
            }
            if (!closed) {
                heartbeatTimer = loop.schedule(this::heartbeat, nextMs, TimeUnit.MILLISECONDS);
            }
        });
    }

    private void onMessage(Map<?, ?> m) {
        SchedulerToWorker message = SchedulerToWorker.decode(m, template.generation);
        if (message instanceof SchedulerToWorker.ComputeTask c) {
            double start = now();
            inMemory.add(c.key());
            counter.computed(this, c.key());
            stream.send(template.finished(c.key(), c.runId(), thread, start, now()).encode(template.generation));
        } else if (message instanceof SchedulerToWorker.FreeKeys f) {
            release(f.keys(), f.stimulusId());
        } else if (message instanceof SchedulerToWorker.RemoveReplicas r) {
            release(r.keys(), r.stimulusId());
        } else if (message instanceof SchedulerToWorker.StealRequest s) {
            // the task ran the moment it arrived: it is in memory, or already released
            stream.send(new WorkerToScheduler.StealResponse(s.key(), inMemory.contains(s.key()) ? "memory" : null,
                    s.stimulusId()).encode(template.generation));
        } else if (message instanceof SchedulerToWorker.Close) {
            close();
        }
    }

    private void release(List<Object> keys, String stimulusId) {
        for (Object k : keys) {
            if (inMemory.remove(k)) {
                stream.send(new WorkerToScheduler.ReleaseWorkerData(k, stimulusId).encode(template.generation));
            }
        }
    }

    private final class Listener implements BatchedStream.Listener {
        private boolean replied;

        @Override
        public void onMessage(Object message) {
            if (!replied) {
                replied = true;
                onRegistered(message);
            } else if (message instanceof Map<?, ?> m) {
                FakeWorker.this.onMessage(m);
            }
        }

        @Override
        public void onClosed(Throwable cause) {
            if (!registered.isDone()) {
                registered.completeExceptionally(cause != null ? cause
                        : new IOException("the scheduler closed " + address + "'s stream"));
            }
            if (!closed) {
                close();
            }
        }
    }

    static double now() {
        return System.currentTimeMillis() / 1000.0;
    }
}
