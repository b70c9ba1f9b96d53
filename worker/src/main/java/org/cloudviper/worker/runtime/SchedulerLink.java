package org.cloudviper.worker.runtime;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.PeerVersion;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.message.WorkerMetrics;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.cloudviper.protocol.netty.BatchedStream;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.state.Event;
import org.cloudviper.worker.state.Instruction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The worker's side of its scheduler: asks the scheduler's versions (to speak its generation),
 * registers on the stream (distributed Worker._register_with_scheduler), heartbeats at the interval
 * the scheduler gives, and carries stream messages both ways (batched per loop turn, as
 * distributed/batched.py does). Everything runs on the worker's event loop.
 */
final class SchedulerLink {
    private static final Logger log = LoggerFactory.getLogger(SchedulerLink.class);
    private static final double KEEP_ALIVE_S = 60;
    private static final long RECONNECT_MS = 500;

    /** What the link needs of its worker. */
    interface Worker {
        String address();

        String name();

        String localDirectory();

        String serverId();

        /** Dask's {@code services} of the registration: {"dashboard": port} when the HTTP side runs. */
        Map<String, Object> services();

        WorkerMetrics metrics(Generation g);

        /** Feeds the state machine. */
        void handle(Event e);

        /** Shuts the worker down (another thread does it). */
        void closeAsync(String reason);

        boolean closing();
    }

    private final WorkerConfig config;
    private final EventLoop loop;
    private final RpcClient rpc;
    private final Worker worker;
    private final CompletableFuture<Void> registered = new CompletableFuture<>();
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private BatchedStream stream;
    private Generation generation = Generation.DASK_2022;
    private Map<?, ?> schedulerPackages = Map.of();
    private double heartbeatInterval = 0.5;
    private boolean heartbeatPending;
    private double lastKeepAlive;

    SchedulerLink(WorkerConfig config, EventLoop loop, RpcClient rpc, Worker worker) {
        this.config = config;
        this.loop = loop;
        this.rpc = rpc;
        this.worker = worker;
    }

    /** Completes once the scheduler has accepted this worker, or with why it did not. */
    CompletableFuture<Void> registered() {
        return registered;
    }

    /** The scheduler's generation, as its versions said. */
    Generation generation() {
        return generation;
    }

    /** Whether messages can go to the scheduler now. */
    boolean isOpen() {
        return stream != null && stream.isActive() && registered.isDone() && !registered.isCompletedExceptionally();
    }

    /** Call on the loop: asks the scheduler for its versions, then registers. */
    void connect() {
        rpc.call(config.scheduler(), SchedulerRequest.Versions.INSTANCE.encode(generation), false, (reply, err) -> {
            if (err != null) {
                if (!worker.closing() && !registered.isDone()) {
                    log.info("Waiting to connect to: {} ({})", config.scheduler(), err.toString());
                    loop.schedule(this::connect, RECONNECT_MS, TimeUnit.MILLISECONDS);
                }
                return;
            }
            PeerVersion version = PeerVersion.of(reply);
            if (reply instanceof Map<?, ?> m && m.get("packages") instanceof Map<?, ?> p) {
                schedulerPackages = (Map<?, ?>) Fields.plain(p);
            }
            MessageCodec.release(reply);
            if (!version.supported()) {
                // Registering would send messages of some other line to a scheduler that cannot read them.
                String why = version.refusal("the scheduler at " + config.scheduler());
                log.error("Unable to connect to scheduler: {}", why);
                registered.completeExceptionally(new IOException(why));
                return;
            }
            generation = version.generation();
            BatchedStream.open(loop, config.limits(), config.scheduler(), registration().encode(generation),
                    new StreamListener()).whenComplete((opened, failure) -> {
                        if (failure != null) {
                            registered.completeExceptionally(failure);
                        } else {
                            stream = opened;
                        }
                    });
        });
    }

    private SchedulerRequest.RegisterWorker registration() {
        return new SchedulerRequest.RegisterWorker(worker.address(), worker.name(), config.nthreads(),
                config.memoryLimit(), config.effectiveResources(), worker.localDirectory(), worker.services(), null,
                ProcessHandle.current().pid(), versions(), worker.metrics(generation).encode(generation), Map.of(),
                "worker-connect-" + now(), worker.serverId(), now());
    }

    /**
     * Node.versions: this host, and the scheduler's package versions (the worker speaks its protocol
     * version, and Dask warns on every client connect about packages that differ between peers).
     */
    Map<String, Object> versions() {
        Map<String, Object> host = new LinkedHashMap<>();
        host.put("python", "cloudviper-worker (Java " + Runtime.version() + ")");
        host.put("python-bits", 64L);
        host.put("OS", System.getProperty("os.name"));
        host.put("OS-release", System.getProperty("os.version"));
        host.put("machine", System.getProperty("os.arch"));
        host.put("processor", "");
        host.put("byteorder", "little");
        host.put("LC_ALL", String.valueOf(System.getenv().getOrDefault("LC_ALL", "None")));
        host.put("LANG", String.valueOf(System.getenv().getOrDefault("LANG", "None")));
        Map<String, Object> packages = new LinkedHashMap<>();
        if (schedulerPackages.isEmpty()) {
            // cloudviper's scheduler: it knows this worker by the cloudviper package (a Python scheduler
            // would warn every client of a package they lack, so there the worker lists only the scheduler's)
            String v = generation.referenceVersion();
            packages.put("python", null);
            packages.put("dask", v);
            packages.put("distributed", v);
            packages.put(PeerVersion.CLOUDVIPER_PACKAGE, PeerVersion.cloudviperVersion());
        } else {
            for (Map.Entry<?, ?> e : schedulerPackages.entrySet()) {
                packages.put(String.valueOf(e.getKey()), e.getValue());
            }
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("host", host);
        r.put("packages", packages);
        return r;
    }

    private void onRegisterReply(Object message) {
        SchedulerRequest.RegisterWorker.Reply reply = SchedulerRequest.RegisterWorker.Reply.decode(message);
        if (!reply.isOk()) {
            String why = reply.message() != null ? reply.message() : String.valueOf(message);
            registered.completeExceptionally(new IOException("the scheduler refused this worker: " + why));
            stream.close();
            return;
        }
        if (reply.warning() != null && !reply.warning().isEmpty()) {
            log.warn(reply.warning());
        }
        heartbeatInterval = reply.heartbeatInterval();
        log.info("        Registered to: {} (the distributed {} line)", config.scheduler(), generation.range());
        // Like a Python worker: announce "running" once registered.
        worker.handle(new Event.WorkerStatusChange("running", "worker-status-change-" + now()));
        lastKeepAlive = now();
        scheduleHeartbeat();
        registered.complete(null);
    }

    /** Runs {@code task} every {@code periodMs} on the loop until the link closes. */
    void every(long periodMs, Runnable task) {
        timers.add(loop.scheduleAtFixedRate(task, periodMs, periodMs, TimeUnit.MILLISECONDS));
    }

    // ---------------------------------------------------------------------------------------------
    // Heartbeats

    private void scheduleHeartbeat() {
        if (!worker.closing()) {
            timers.add(loop.schedule(this::heartbeat, Math.max(50, (long) (heartbeatInterval * 1000)),
                    TimeUnit.MILLISECONDS));
        }
    }

    /** Worker.heartbeat, with a keep-alive on the stream once a minute. */
    private void heartbeat() {
        if (worker.closing()) {
            return;
        }
        if (now() - lastKeepAlive >= KEEP_ALIVE_S) {
            lastKeepAlive = now();
            send(WorkerToScheduler.KeepAlive.INSTANCE, null);
        }
        if (heartbeatPending) {
            return; // the reply schedules the next one
        }
        heartbeatPending = true;
        Map<Object, Object> executing = new LinkedHashMap<>();
        double t = now();
        executingSince.forEach((k, since) -> executing.put(k, t - since));
        SchedulerRequest.HeartbeatWorker req = new SchedulerRequest.HeartbeatWorker(worker.address(), t,
                worker.metrics(generation).encode(generation), executing, Map.of());
        rpc.call(config.scheduler(), req.encode(generation), false, (message, err) -> {
            heartbeatPending = false;
            try {
                if (err != null) {
                    log.warn("Heartbeat to scheduler failed: {}", err.toString());
                } else {
                    SchedulerRequest.HeartbeatWorker.Reply reply = SchedulerRequest.HeartbeatWorker.Reply.decode(message);
                    if (reply.isMissing()) {
                        log.error("Scheduler was unaware of this worker; shutting down.");
                        worker.closeAsync("scheduler-missing");
                        return;
                    }
                    if (!Double.isNaN(reply.heartbeatInterval())) {
                        heartbeatInterval = reply.heartbeatInterval();
                    }
                }
            } finally {
                MessageCodec.release(message);
            }
            scheduleHeartbeat();
        });
    }

    /** When each executing task started (its key to seconds), for the heartbeat's {@code executing}. */
    private final Map<Object, Double> executingSince = new LinkedHashMap<>();

    void executionStarted(Object key) {
        executingSince.put(key, now());
    }

    void executionEnded(Object key) {
        executingSince.remove(key);
    }

    // ---------------------------------------------------------------------------------------------
    // The stream

    /** Queues what the state machine has for the scheduler. */
    void send(Instruction.Send m) {
        List<SubObject> created = new ArrayList<>(0);
        WorkerToScheduler message = SchedulerMessages.writable(m.message(), created);
        send(message, created.isEmpty() ? null : () -> created.forEach(SubObject::release));
    }

    /** Queues a stream message; {@code afterWrite} releases what it owns once it is written or dropped. */
    void send(WorkerToScheduler message, Runnable afterWrite) {
        if (stream != null && stream.isActive()) {
            stream.send(message.encode(generation), afterWrite);
        } else if (afterWrite != null) {
            afterWrite.run();
        }
    }

    private final class StreamListener implements BatchedStream.Listener {
        private boolean gotReply;

        @Override
        public void onMessage(Object message) {
            if (!gotReply) {
                gotReply = true;
                onRegisterReply(message);
            } else {
                onStreamMessage(message);
            }
        }

        @Override
        public void onClosed(Throwable cause) {
            if (cause != null) {
                log.warn("Scheduler stream failed: {}", cause.toString());
            }
            if (!registered.isDone()) {
                registered.completeExceptionally(new IOException("the scheduler closed the connection"));
            } else if (!worker.closing()) {
                log.warn("Connection to scheduler broken; closing the worker");
                worker.closeAsync("worker-handle-scheduler-connection-broken");
            }
        }
    }

    private void onStreamMessage(Object o) {
        if ("OK".equals(o)) {
            return;
        }
        if (!(o instanceof Map<?, ?> m)) {
            throw new ProtocolException("stream message is not a map: " + Trees.brief(o));
        }
        SchedulerToWorker message = SchedulerToWorker.decode(m, generation);
        if (message instanceof SchedulerToWorker.Close c) {
            closeRequested(c.reason() == null ? "scheduler-close" : c.reason());
            return;
        }
        if (message instanceof SchedulerToWorker.Unknown u) {
            if ("close-stream".equals(u.op())) {
                closeRequested("scheduler-close-stream");
            } else if (!"remove-worker".equals(u.op())) {
                log.warn("Unknown scheduler stream operation {}", u.op());
            }
            return;
        }
        worker.handle(SchedulerMessages.toEvent(message, now()));
    }

    private void closeRequested(String reason) {
        if (!worker.closing()) {
            log.info("Scheduler asked to close: {}", reason);
        }
        worker.closeAsync(reason);
    }

    // ---------------------------------------------------------------------------------------------
    // Leaving

    /**
     * Call on the loop: asks the scheduler to retire this worker without removing or closing it
     * (Worker.close_gracefully); {@code done} gets the reply or the failure.
     */
    void retire(BiConsumer<Object, Throwable> done) {
        SchedulerRequest.RetireWorkers req = new SchedulerRequest.RetireWorkers(List.of(worker.address()), null, null,
                false, false, "worker-close-gracefully-" + now());
        rpc.call(config.scheduler(), req.encode(generation), false, (r, err) -> {
            try {
                done.accept(err == null ? Trees.brief(r) : null, err);
            } finally {
                MessageCodec.release(r);
            }
        });
    }

    /** Call on the loop: tells the scheduler this worker leaves; {@code done} runs once answered. */
    void unregister(Runnable done) {
        SchedulerRequest.Unregister req = new SchedulerRequest.Unregister(worker.address(), "worker-close-" + now());
        rpc.call(config.scheduler(), req.encode(generation), false, (r, err) -> {
            MessageCodec.release(r);
            done.run();
        });
    }

    /** Call on the loop: stops the timers and closes the stream once what is queued is written. */
    void close() {
        timers.forEach(t -> t.cancel(false));
        if (stream != null) {
            stream.close();
        }
    }

    static double now() {
        return TaskRunner.now();
    }

}
