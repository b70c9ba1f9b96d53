package org.cloudviper.worker.runtime;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.netty.BatchedStream;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.cloudviper.protocol.netty.Handshake;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.protocol.netty.Transports;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.state.Event;
import org.cloudviper.worker.state.Instruction;
import org.cloudviper.worker.state.WorkerState;
import org.cloudviper.worker.tasks.TaskRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The Netty side of a worker. One event loop thread owns the {@link WorkerState}: scheduler stream
 * messages, get_data/update_data requests, fetch replies, finished computations and timers all
 * become events there, and the instructions the state returns are carried out from there: stream
 * messages batched per loop turn (distributed/batched.py), computations handed to the executor,
 * fetches sent as get_data to peers.
 *
 * <p>Connections: the worker stream (register-worker, then batched messages both ways), a pooled
 * RPC connection for versions/heartbeat_worker/unregister, one listener for peers, the scheduler
 * and clients (get_data, update_data, ...), and pooled connections to peers for get_data.
 */
public final class WorkerServer {
    private static final Logger log = LoggerFactory.getLogger(WorkerServer.class);
    private static final AttributeKey<Boolean> AWAITING_OK = AttributeKey.valueOf("cloudviper.worker.awaitingOk");
    private static final double KEEP_ALIVE_S = 60;
    private static final long FIND_MISSING_MS = 1000;
    private static final long RETRY_BUSY_MS = 150;
    /** After a failed spill, how long the worker keeps values in memory before trying to spill again. */
    private static final long RETRY_SPILL_MS = 1000;
    /** How long start() tries to reach and register with the scheduler. */
    private static final long REGISTER_TIMEOUT_MS = 60_000;

    private final WorkerConfig config;
    private final Executor executor;
    private final TaskRunner runner;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final RpcClient rpc;
    private final String serverId = "Worker-" + UUID.randomUUID();
    private final CompletableFuture<String> closed = new CompletableFuture<>();
    private final java.util.concurrent.atomic.AtomicBoolean closeStarted = new java.util.concurrent.atomic.AtomicBoolean();
    private final CompletableFuture<Void> registered = new CompletableFuture<>();
    private final Map<Object, Double> executingSince = new HashMap<>();
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private final Path localDirectory;
    /** Spilled values, in a folder of {@link #localDirectory} of this worker's own. */
    private SpillStore spillStore;
    private final Metrics metrics;

    private Channel listener;
    private BatchedStream stream;
    private String address;
    private WorkerState state;
    private int generation = Wire.GEN_2022;
    private Map<?, ?> schedulerPackages = Map.of();
    private double heartbeatInterval = 0.5;
    private boolean heartbeatPending;
    private double lastKeepAlive;
    private boolean closing;
    private int outgoingTransfers;
    private long outgoingTransfersTotal;
    private long incomingTransfersTotal;

    private WorkerServer(WorkerConfig config, TaskRegistry registry, Executor executor) throws IOException {
        this.config = config;
        this.executor = executor;
        this.runner = new TaskRunner(registry);
        this.group = new MultiThreadIoEventLoopGroup(1, Transports.ioHandlerFactory());
        this.loop = group.next();
        this.rpc = new RpcClient(loop, config.limits());
        this.localDirectory = config.localDirectory() != null ? Files.createDirectories(config.localDirectory())
                : Files.createTempDirectory("cloudviper-worker-");
        this.metrics = new Metrics();
    }

    /**
     * Listens, registers with the scheduler and returns once registered.
     *
     * @param executor runs the computations (the facade passes a pool of {@code nthreads} threads)
     */
    public static WorkerServer start(WorkerConfig config, TaskRegistry registry, Executor executor)
            throws IOException, InterruptedException {
        WorkerServer s = new WorkerServer(config, registry, executor);
        try {
            s.bind();
            s.loop.execute(s::connect);
            s.registered.get(REGISTER_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            s.close();
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(c.getMessage(), c);
        } catch (TimeoutException e) {
            s.close();
            throw new IOException("could not register with " + config.scheduler() + " within "
                    + REGISTER_TIMEOUT_MS / 1000 + " s");
        } catch (InterruptedException | RuntimeException e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void bind() throws InterruptedException, IOException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(Transports.serverChannel(group))
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FrameDecoder(config.limits()), FrameEncoder.INSTANCE,
                                new Handshake(), new ListenerHandler());
                    }
                });
        listener = b.bind(config.host(), config.port()).sync().channel();
        int port = ((InetSocketAddress) listener.localAddress()).getPort();
        String host = contactHost(config.host());
        address = "tcp://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        spillStore = new SpillStore(Files.createTempDirectory(localDirectory, "spill-"));
        state = new WorkerState(address, config.nthreads(), config.effectiveResources(),
                WorkerState.Limits.defaults(config.memoryLimit()), v -> ((StoredValue) v).release())
                .memoryLimit(config.memoryLimit());
        log.info("      Start worker at: {}", address);
        log.info("      Sockets on Netty's {} transport", Transports.name());
    }

    public String address() {
        return address;
    }

    /** Peers cannot dial a wildcard address: advertise this machine's address instead (as Dask does). */
    static String contactHost(String listenHost) {
        if (!listenHost.isEmpty() && !listenHost.equals("0.0.0.0") && !listenHost.equals("::")) {
            return listenHost;
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostAddress();
        } catch (java.net.UnknownHostException e) {
            return "127.0.0.1";
        }
    }

    public String name() {
        return config.name() != null ? config.name() : address;
    }

    /** Completes with the reason once the worker has shut down (scheduler gone, closed, ...). */
    public CompletableFuture<String> closed() {
        return closed;
    }

    /** Dask generation of the scheduler (2022 or 2024), as detected from its versions. */
    public int generation() {
        return generation;
    }

    /** Runs {@code task} on the state's thread and waits (tests, facade). */
    public <T> T onLoop(java.util.function.Function<WorkerState, T> task) {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(task.apply(state));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.join();
    }

    // ---------------------------------------------------------------------------------------------
    // Joining the scheduler

    /** Asks the scheduler for its versions (to speak its generation), then registers. */
    private void connect() {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("op", "versions");
        req.put("reply", true);
        rpc.call(config.scheduler(), req, false, (reply, err) -> {
            if (err != null) {
                if (!closing && !registered.isDone()) {
                    log.info("Waiting to connect to: {} ({})", config.scheduler(), err.toString());
                    loop.schedule(this::connect, 500, TimeUnit.MILLISECONDS);
                }
                return;
            }
            generation = Wire.generationOf(reply);
            if (reply instanceof Map<?, ?> m && m.get("packages") instanceof Map<?, ?> p) {
                schedulerPackages = (Map<?, ?>) plain(p);
            }
            Trees.release(reply);
            openStream();
        });
    }

    private void openStream() {
        BatchedStream.open(loop, config.limits(), config.scheduler(), registerMessage(), new StreamListener())
                .whenComplete((opened, err) -> {
                    if (err != null) {
                        registered.completeExceptionally(err);
                    } else {
                        stream = opened;
                    }
                });
    }

    private Map<String, Object> registerMessage() {
        return Wire.registerWorker(generation, address, name(), config.nthreads(), config.effectiveResources(),
                config.memoryLimit(), localDirectory.toString(), ProcessHandle.current().pid(), versions(),
                metricsMap(), "worker-connect-" + now(), serverId, now());
    }

    /**
     * Node.versions: our host, and the scheduler's package versions (we speak its protocol version, and
     * Dask warns on every client connect about packages that differ between peers).
     */
    private Map<String, Object> versions() {
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
            String v = generation >= Wire.GEN_2024 ? "2024.12.1" : "2022.12.1";
            packages.put("python", null);
            packages.put("dask", v);
            packages.put("distributed", v);
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

    private void onRegisterReply(Object reply) {
        if (!(reply instanceof Map<?, ?> m) || !"OK".equals(m.get("status"))) {
            String msg = reply instanceof Map<?, ?> m2 && m2.get("message") != null ? String.valueOf(m2.get("message"))
                    : Trees.brief(reply);
            registered.completeExceptionally(new IOException("the scheduler refused this worker: " + msg));
            stream.close();
            return;
        }
        if (m.get("warning") instanceof String w && !w.isEmpty()) {
            log.warn(w);
        }
        heartbeatInterval = Wire.dbl(m, "heartbeat-interval", 0.5);
        log.info("        Registered to: {} (distributed {})", config.scheduler(), generation);
        // Like a Python worker: announce "running" once registered.
        handle(new Event.WorkerStatusChange("running", "worker-status-change-" + now()));
        lastKeepAlive = now();
        scheduleHeartbeat();
        timers.add(loop.scheduleAtFixedRate(() -> handle(new Event.FindMissing("find-missing-" + now())),
                FIND_MISSING_MS, FIND_MISSING_MS, TimeUnit.MILLISECONDS));
        registered.complete(null);
    }

    // ---------------------------------------------------------------------------------------------
    // Heartbeats and keep-alive

    private void scheduleHeartbeat() {
        if (closing) {
            return;
        }
        loop.schedule(this::heartbeat, Math.max(50, (long) (heartbeatInterval * 1000)), TimeUnit.MILLISECONDS);
    }

    private void heartbeat() {
        if (closing) {
            return;
        }
        if (now() - lastKeepAlive >= KEEP_ALIVE_S) {
            lastKeepAlive = now();
            toScheduler(Map.of("op", "keep-alive"), null);
        }
        if (heartbeatPending) {
            return; // the reply schedules the next one
        }
        heartbeatPending = true;
        Map<Object, Object> executing = new LinkedHashMap<>();
        double t = now();
        executingSince.forEach((k, since) -> executing.put(k, t - since));
        Map<String, Object> req = Wire.heartbeat(address, t, metricsMap(), executing);
        rpc.call(config.scheduler(), req, false, (reply, err) -> {
            heartbeatPending = false;
            try {
                if (err != null) {
                    log.warn("Heartbeat to scheduler failed: {}", err.toString());
                } else if (reply instanceof Map<?, ?> m && "missing".equals(m.get("status"))) {
                    log.error("Scheduler was unaware of this worker; shutting down.");
                    closeAsync("scheduler-missing");
                    return;
                } else if (reply instanceof Map<?, ?> m) {
                    heartbeatInterval = Wire.dbl(m, "heartbeat-interval", heartbeatInterval);
                }
            } finally {
                Trees.release(reply);
            }
            scheduleHeartbeat();
        });
    }

    private Map<String, Object> metricsMap() {
        return Wire.metrics(generation, state.taskCounts(), state.managedBytes(), state.spilledBytes(),
                spillStore.diskBytes(), state.transferIncomingBytes(),
                state.transferIncomingCount(), incomingTransfersTotal, outgoingTransfers, outgoingTransfersTotal,
                metrics.cpuPercent(), metrics.rss(), metrics.openFds(), now());
    }

    // ---------------------------------------------------------------------------------------------
    // Events and instructions

    /** Feeds the state machine and carries out what it says. Call on the loop. */
    private void handle(Event... events) {
        if (closing) {
            for (Event e : events) {
                disposeValues(e);
            }
            return;
        }
        List<Instruction> instructions;
        try {
            instructions = state.handle(events);
        } catch (RuntimeException e) {
            log.error("Worker state machine failed; closing the worker", e);
            closeAsync("worker-state-error");
            return;
        }
        List<Event> ranInline = null;
        for (Instruction i : instructions) {
            if (i instanceof Instruction.ToScheduler m) {
                queueToScheduler(m);
            } else if (i instanceof Instruction.Execute x) {
                Event done = execute(x);
                if (done != null) {
                    if (ranInline == null) {
                        ranInline = new ArrayList<>();
                    }
                    ranInline.add(done);
                }
            } else if (i instanceof Instruction.GatherDep g) {
                gather(g);
            } else if (i instanceof Instruction.Spill sp) {
                spill(sp);
            } else if (i instanceof Instruction.RetrySpillLater r) {
                loop.schedule(() -> handle(new Event.RetrySpill(r.stimulusId())), RETRY_SPILL_MS,
                        TimeUnit.MILLISECONDS);
            } else if (i instanceof Instruction.RetryBusyWorkerLater r) {
                loop.schedule(() -> handle(new Event.RetryBusyWorker(r.worker(), r.stimulusId())),
                        RETRY_BUSY_MS, TimeUnit.MILLISECONDS);
            }
        }
        if (ranInline != null) {
            // As a later loop task, not recursively: a chain of inline tasks must not grow the stack,
            // and socket reads and writes get their turns in between.
            Event[] results = ranInline.toArray(Event[]::new);
            loop.execute(() -> handle(results));
        }
    }

    /**
     * Moves a stored value to disk as the state machine decided. Disk writes run on the loop, as
     * distributed 2022's synchronous spill does: simple ordering against reads and frees. A failed write
     * leaves the value in memory, whole, logs why, and tells the state, which counts it as in memory
     * again (so the pause fraction still applies) and retries spilling after {@link #RETRY_SPILL_MS}.
     */
    private void spill(Instruction.Spill sp) {
        if (state.data(sp.key()) instanceof StoredValue v) {
            try {
                v.spill(spillStore);
                log.debug("Spilled {} ({} bytes)", sp.key(), v.nbytes);
            } catch (IOException e) {
                log.error("Could not spill {} ({} bytes) to {}; it stays in memory: {}", sp.key(), v.nbytes,
                        spillStore.directory(), e.getMessage());
                handle(new Event.SpillFailed(sp.key(), String.valueOf(e.getMessage()), sp.stimulusId()));
                return;
            }
            handle(new Event.SpillDone(sp.key(), sp.stimulusId()));
        }
    }

    /** Values in an event that will never reach the state (closing) must still be released. */
    private static void disposeValues(Event e) {
        if (e instanceof Event.ExecuteSuccess s && s.value() instanceof StoredValue v) {
            v.release();
        } else if (e instanceof Event.GatherDepSuccess g) {
            g.data().values().forEach(v -> ((StoredValue) v).release());
        } else if (e instanceof Event.UpdateData u) {
            u.data().values().forEach(v -> ((StoredValue) v).release());
        }
    }

    /**
     * Runs a task: on a compute thread, or at once on this loop when the runner has seen its function
     * finish within microseconds every recent time (see {@link TaskRunner#runsInline}); then this
     * returns the result for the caller to feed to the state. Otherwise returns null and the result
     * comes back to the loop later.
     */
    private Event execute(Instruction.Execute x) {
        RunSpec spec = x.runSpec() instanceof RunSpec r ? r : RunSpec.refused("no task specification");
        Map<Object, StoredValue> deps = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> d : x.dependencies().entrySet()) {
            try {
                deps.put(d.getKey(), ((StoredValue) d.getValue()).forTask()); // the state may drop or spill it meanwhile
            } catch (IOException e) {
                deps.values().forEach(StoredValue::release);
                String text = "cloudviper Java worker could not read back the spilled value of " + d.getKey() + ": "
                        + e.getMessage();
                return new Event.ExecuteFailure(x.key(), new TaskError(text), null,
                        "RuntimeError(" + TaskRunner.pyRepr(text) + ")", "", now(), now(), 0, x.stimulusId());
            }
        }
        if (runner.runsInline(spec)) {
            try {
                return runner.run(x.key(), spec, deps, x.stimulusId());
            } finally {
                deps.values().forEach(StoredValue::release);
            }
        }
        executingSince.put(x.key(), now());
        try {
            executor.execute(() -> {
                Event done;
                try {
                    done = runner.run(x.key(), spec, deps, x.stimulusId());
                } finally {
                    deps.values().forEach(StoredValue::release);
                }
                Event result = done;
                loop.execute(() -> {
                    executingSince.remove(x.key());
                    handle(result);
                });
            });
        } catch (RejectedExecutionException e) {
            deps.values().forEach(StoredValue::release);
            executingSince.remove(x.key());
            return new Event.ExecuteFailure(x.key(), new TaskError("worker is shutting down"), null,
                    "RuntimeError('worker is shutting down')", "", now(), now(), 0, x.stimulusId());
        }
        return null;
    }

    /** get_data from a peer (distributed Worker.gather_dep / get_data_from_worker). */
    private void gather(Instruction.GatherDep g) {
        incomingTransfersTotal++;
        Map<String, Object> req = Wire.getData(generation, g.keys(), address);
        String sid = g.stimulusId();
        rpc.call(g.worker(), req, true, (reply, err) -> {
            try {
                if (err != null) {
                    log.info("Fetching {} from {} failed: {}", g.keys(), g.worker(), err.toString());
                    handle(new Event.GatherDepNetworkFailure(g.worker(), "gather-dep-network-failure-" + now()));
                } else if (reply instanceof Map<?, ?> m && "busy".equals(m.get("status"))) {
                    handle(new Event.GatherDepBusy(g.worker(), "gather-dep-busy-" + now()));
                } else if (reply instanceof Map<?, ?> m && "OK".equals(m.get("status"))) {
                    Map<Object, Object> data = new LinkedHashMap<>();
                    Map<Object, Long> nbytes = new LinkedHashMap<>();
                    for (Map.Entry<?, ?> e : Wire.map(m, "data").entrySet()) {
                        if (e.getValue() instanceof SubObject s) {
                            s.retain();
                            StoredValue v = StoredValue.received(s);
                            data.put(e.getKey(), v);
                            nbytes.put(e.getKey(), v.nbytes);
                        } else {
                            log.warn("{} sent {} unserialized; ignoring it", g.worker(), e.getKey());
                        }
                    }
                    handle(new Event.GatherDepSuccess(g.worker(), data, nbytes, "gather-dep-success-" + now()));
                } else {
                    String text = "unexpected get_data reply from " + g.worker() + ": " + Trees.brief(reply);
                    handle(new Event.GatherDepFailure(g.worker(), new TaskError(text),
                            "RuntimeError(" + TaskRunner.pyRepr(text) + ")", "gather-dep-failure-" + now()));
                }
            } finally {
                Trees.release(reply);
            }
        });
        log.debug("Request {} keys from {} ({})", g.keys().size(), g.worker(), sid);
    }

    // ---------------------------------------------------------------------------------------------
    // The worker stream (BatchedStream: one list frame per loop turn)

    private void queueToScheduler(Instruction.ToScheduler m) {
        List<SubObject> created = new ArrayList<>(0);
        Map<String, Object> message = Wire.toScheduler(m, generation, created);
        toScheduler(message, created.isEmpty() ? null : () -> created.forEach(SubObject::release));
    }

    /** Queues a stream message; {@code afterWrite} releases what it owns once it is written or dropped. */
    private void toScheduler(Object message, Runnable afterWrite) {
        if (stream != null && stream.isActive()) {
            stream.send(message, afterWrite);
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
            } else if (!closing) {
                log.warn("Connection to scheduler broken; closing the worker");
                closeAsync("worker-handle-scheduler-connection-broken");
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
        String op = Wire.str(m, "op");
        if (op == null) {
            throw new ProtocolException("stream message without op: " + Trees.brief(o));
        }
        if ("close".equals(op) || "close-stream".equals(op)) {
            String reason = Wire.str(m, "reason") == null ? "scheduler-" + op : Wire.str(m, "reason");
            if (!closeStarted.get()) {
                log.info("Scheduler asked to close: {}", reason);
            }
            closeAsync(reason);
            return;
        }
        Event e = Wire.fromScheduler(op, m);
        if (e != null) {
            handle(e);
        } else if (!"remove-worker".equals(op)) {
            log.warn("Unknown scheduler stream operation {}", op);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Listener: what peers, the scheduler and clients ask of this worker

    private final class ListenerHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            MessageCodec.withDecoded((Frames) msg, tree -> onRequest(ctx.channel(), tree));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (Boolean.TRUE.equals(ctx.channel().attr(AWAITING_OK).getAndSet(null))) {
                outgoingTransfers--;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                    ? cause.getCause() : cause;
            if (c instanceof ProtocolException || c instanceof IOException) {
                log.warn("Closing connection from {}: {}", ctx.channel().remoteAddress(), c.getMessage());
            } else {
                log.error("Closing connection from {} after an internal error", ctx.channel().remoteAddress(), c);
            }
            ctx.close();
        }
    }

    private void onRequest(Channel ch, Object msg) {
        if (Boolean.TRUE.equals(ch.attr(AWAITING_OK).get())) {
            // get_data's second step: the requester confirms it has the data (distributed Worker.get_data).
            ch.attr(AWAITING_OK).set(null);
            outgoingTransfers--;
            if (!"OK".equals(msg)) {
                throw new ProtocolException("expected \"OK\" after get_data, got " + Trees.brief(msg));
            }
            return;
        }
        if (!(msg instanceof Map<?, ?> m)) {
            throw new ProtocolException("request is not a map: " + Trees.brief(msg));
        }
        String op = Wire.str(m, "op");
        boolean wantsReply = !Boolean.FALSE.equals(m.get("reply"));
        if (op == null) {
            throw new ProtocolException("request without op: " + Trees.brief(m));
        }
        Object reply;
        switch (op) {
            case "get_data" -> {
                getData(ch, m);
                return;
            }
            case "update_data" -> reply = updateData(m);
            case "identity" -> {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("type", "Worker");
                r.put("id", serverId);
                r.put("scheduler", config.scheduler());
                r.put("nthreads", (long) config.nthreads());
                r.put("memory_limit", config.memoryLimit());
                reply = r;
            }
            case "keys" -> reply = new ArrayList<>(state.dataKeys());
            case "versions" -> reply = versions();
            case "ping" -> reply = "pong";
            case "free_keys" -> {
                handle(new Event.FreeKeys(Wire.keys(m.get("keys")), Wire.str(m, "stimulus_id") != null
                        ? Wire.str(m, "stimulus_id") : "free-keys-" + now()));
                reply = "OK";
            }
            case "terminate" -> {
                reply = "OK";
                loop.execute(() -> closeAsync("terminate"));
            }
            case "close" -> {
                if (wantsReply) {
                    ch.writeAndFlush(MessageCodec.encode("OK"));
                }
                ch.close();
                return;
            }
            default -> {
                log.warn("Unknown operation {} from {}; replying nil", op, ch.remoteAddress());
                reply = null;
            }
        }
        if (wantsReply) {
            ch.writeAndFlush(MessageCodec.encode(reply));
        }
        if (Boolean.TRUE.equals(m.get("close"))) {
            ch.close();
        }
    }

    private void getData(Channel ch, Map<?, ?> m) {
        List<Object> keys = Wire.keys(m.get("keys"));
        Object maxConnections = m.get("max_connections");
        long limit = config.outgoingTransferLimit();
        if (ch.remoteAddress() instanceof InetSocketAddress peer && listener.localAddress() instanceof InetSocketAddress me
                && peer.getAddress() != null && peer.getAddress().equals(me.getAddress())) {
            limit *= 2; // same host: allowed more liberally
        }
        if (maxConnections instanceof Number n) {
            limit = n.longValue();
        }
        boolean unlimited = Boolean.FALSE.equals(maxConnections);
        if ("paused".equals(state.status())) {
            limit = 1; // distributed throttles a paused worker's transfers, the scheduler's included
            unlimited = false;
        }
        if (!unlimited && outgoingTransfers >= limit) {
            ch.writeAndFlush(MessageCodec.encode(Map.of("status", "busy")));
            return;
        }
        Map<Object, Object> data = new LinkedHashMap<>();
        Frames encoded;
        try {
            for (Object k : keys) {
                if (state.data(k) instanceof StoredValue v) {
                    data.put(k, v.wireRetained()); // read back from disk if spilled
                }
            }
            Map<String, Object> reply = new LinkedHashMap<>();
            reply.put("status", "OK");
            reply.put("data", data);
            encoded = MessageCodec.encode(reply);
        } catch (IOException e) {
            log.error("get_data from {}: could not read a spilled value: {}", ch.remoteAddress(), e.getMessage());
            ch.close(); // the peer sees a failed transfer and asks elsewhere or reports the key missing
            return;
        } finally {
            data.values().forEach(v -> ((SubObject) v).release()); // the encoded frames hold their own references
        }
        outgoingTransfers++;
        outgoingTransfersTotal++;
        ch.attr(AWAITING_OK).set(Boolean.TRUE);
        ch.writeAndFlush(encoded).addListener(f -> {
            if (!f.isSuccess()) {
                ch.close();
            }
        });
    }

    /** update_data (scatter): keep the Serialized values as they came and serve them back verbatim. */
    private Object updateData(Map<?, ?> m) {
        Map<Object, Object> data = new LinkedHashMap<>();
        Map<Object, Long> nbytes = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : Wire.map(m, "data").entrySet()) {
            SubObject s;
            if (e.getValue() instanceof SubObject sub) {
                sub.retain();
                s = sub;
            } else {
                try {
                    s = Serde.encode(e.getValue()); // a plain msgpack value: keep it in the msgpack family
                } catch (Serde.DataException ex) {
                    throw new ProtocolException("update_data value of " + e.getKey() + ": " + ex.getMessage());
                }
            }
            StoredValue v = StoredValue.received(s);
            data.put(e.getKey(), v);
            nbytes.put(e.getKey(), v.nbytes);
        }
        boolean report = Wire.reportsUpdateData(generation, m.get("report"));
        String sid = Wire.str(m, "stimulus_id") != null ? Wire.str(m, "stimulus_id") : "update-data-" + now();
        handle(new Event.UpdateData(data, nbytes, report, sid));
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("nbytes", nbytes);
        r.put("status", "OK");
        return r;
    }

    // ---------------------------------------------------------------------------------------------
    // Shutdown

    private void closeAsync(String reason) {
        if (!closeStarted.get()) {
            new Thread(() -> close(reason), "cloudviper-worker-close").start();
        }
    }

    /** Leaves the cluster (unregister), stops listening and frees every stored value. */
    public void close() {
        close("worker-close");
    }

    /**
     * Hands this worker's data to its peers, then closes (distributed Worker.close_gracefully): asks the
     * scheduler to retire it without removing or closing it ({@code retire_workers(workers=[self],
     * close_workers=False, remove=False)}), which stops new tasks here and has every key only this
     * worker holds copied elsewhere, and waits for that up to {@code timeout}. When no peer can take
     * the data the scheduler says so at once; the worker then closes anyway and those keys are
     * recomputed where possible.
     */
    public void closeGracefully(java.time.Duration timeout) {
        CompletableFuture<Object> retired = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                if (closing || stream == null || !stream.isActive() || !registered.isDone()) {
                    retired.complete(null);
                    return;
                }
                Map<String, Object> req = new LinkedHashMap<>();
                req.put("op", "retire_workers");
                req.put("workers", List.of(address));
                req.put("close_workers", false);
                req.put("remove", false);
                req.put("stimulus_id", "worker-close-gracefully-" + now());
                req.put("reply", true);
                log.info("Closing worker gracefully: {}", address);
                rpc.call(config.scheduler(), req, false, (r, err) -> {
                    try {
                        if (err != null) {
                            retired.completeExceptionally(err);
                        } else {
                            retired.complete(Trees.brief(r));
                        }
                    } finally {
                        Trees.release(r);
                    }
                });
            });
            Object r = retired.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (r != null) {
                log.info("Retirement of {} answered: {}", address, r);
            }
        } catch (TimeoutException e) {
            log.warn("Data of {} not moved within {} s; closing anyway", address, timeout.toSeconds());
        } catch (ExecutionException e) {
            log.warn("Graceful close of {}: retire_workers failed ({}); closing anyway", address, e.getCause().toString());
        } catch (RejectedExecutionException e) {
            // already shut down
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close("worker-close-gracefully");
    }

    private void close(String reason) {
        if (!closeStarted.compareAndSet(false, true)) {
            try {
                closed.get(10, TimeUnit.SECONDS); // another thread is closing: wait for it
            } catch (ExecutionException | TimeoutException e) {
                // nothing more to do
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        CompletableFuture<Void> unregistered = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                if (closing) {
                    unregistered.complete(null);
                    return;
                }
                closing = true;
                log.info("Worker {} closing ({}): {} gets from peers, {} gets served", address, reason,
                        incomingTransfersTotal, outgoingTransfersTotal);
                timers.forEach(t -> t.cancel(false));
                if (stream != null && stream.isActive() && registered.isDone()
                        && !registered.isCompletedExceptionally() && !"scheduler-missing".equals(reason)) {
                    Map<String, Object> req = new LinkedHashMap<>();
                    req.put("op", "unregister");
                    req.put("address", address);
                    req.put("stimulus_id", "worker-close-" + now());
                    req.put("reply", true);
                    rpc.call(config.scheduler(), req, false, (r, err) -> {
                        Trees.release(r);
                        unregistered.complete(null);
                    });
                } else {
                    unregistered.complete(null);
                }
            });
            unregistered.get(3, TimeUnit.SECONDS);
        } catch (RejectedExecutionException | ExecutionException | TimeoutException e) {
            // the loop is gone or the scheduler did not answer: leave anyway
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            loop.submit(() -> {
                if (stream != null) {
                    stream.close(); // writes what is queued first
                }
                rpc.close();
                if (state != null) {
                    state.releaseAll();
                }
            }).await(2, TimeUnit.SECONDS);
        } catch (RejectedExecutionException e) {
            // already shut down
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (listener != null) {
            listener.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (spillStore != null) {
            try {
                spillStore.close();
            } catch (IOException e) {
                log.warn("Could not remove the spill directory {}: {}", spillStore.directory(), e.getMessage());
            }
        }
        if (config.localDirectory() == null) {
            try {
                Files.deleteIfExists(localDirectory);
            } catch (IOException e) {
                // a leftover empty temporary directory is harmless
            }
        }
        closed.complete(reason);
        log.info("Stopped worker at {}: {}", address, reason);
    }

    // ---------------------------------------------------------------------------------------------

    static double now() {
        return TaskRunner.now();
    }

    /** A copy of a decoded value without sub-objects. */
    private static Object plain(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> r = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                r.put(e.getKey(), plain(e.getValue()));
            }
            return r;
        }
        if (v instanceof List<?> l) {
            List<Object> r = new ArrayList<>(l.size());
            for (Object o : l) {
                r.add(plain(o));
            }
            return r;
        }
        return v instanceof SubObject ? null : v;
    }
}
