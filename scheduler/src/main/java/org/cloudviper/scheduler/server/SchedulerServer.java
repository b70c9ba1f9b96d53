package org.cloudviper.scheduler.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
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
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.cloudviper.protocol.netty.Handshake;
import org.cloudviper.protocol.netty.Reads;
import org.cloudviper.protocol.netty.RecyclingReadAllocator;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.protocol.netty.Transports;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.scheduler.state.GraphUpdate;
import org.cloudviper.scheduler.state.Outbox;
import org.cloudviper.scheduler.state.SchedulerState;
import org.cloudviper.scheduler.state.ToClient;
import org.cloudviper.scheduler.state.ToWorker;
import org.cloudviper.scheduler.state.WorkerRegistration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The Netty side of the scheduler: accepts Dask connections, turns their messages into events for
 * {@link SchedulerState}, and writes what the state sends. Everything, state included, runs on one
 * event loop thread, so the state needs no locks and a message's effects leave in the same loop turn.
 *
 * <p>A connection starts as request/reply (RPC); {@code register-client} and
 * {@code register-worker} turn it into that peer's batched stream (distributed/batched.py). Stream
 * output is gathered per connection and written once per loop turn, as one list-frame.
 */
public final class SchedulerServer {
    private static final Logger log = LoggerFactory.getLogger(SchedulerServer.class);

    /**
     * A write that fails (e.g. direct memory exhausted while a large reply is flushed) leaves the
     * peer waiting for a message that never comes: say why and close the connection, so the peer
     * sees a closed comm instead of a hang.
     */
    private static final ChannelFutureListener CLOSE_ON_WRITE_FAILURE = f -> {
        if (!f.isSuccess()) {
            log.error("Write to {} failed, closing it", f.channel().remoteAddress(), f.cause());
            f.channel().close();
        }
    };

    /** Encodes {@code message} and writes it as one Dask message; failures close the connection. */
    static void send(Channel ch, Object message) {
        ch.writeAndFlush(MessageCodec.encode(message)).addListener(CLOSE_ON_WRITE_FAILURE);
    }
    private static final AttributeKey<Peer> PEER = AttributeKey.valueOf("cloudviper.peer");

    private final SchedulerConfig config;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final SchedulerState state;
    private final RpcClient rpc;
    private final PickledGraph pickledGraphs = new PickledGraph();
    private final String id = "Scheduler-" + UUID.randomUUID();
    private final double started = now();
    private Channel serverChannel;
    private String address;
    private ScheduledFuture<?> ttlTimer;
    /** retire_workers calls waiting for their workers' data to be copied away. */
    private final List<Retirement> retirements = new ArrayList<>();
    private ScheduledFuture<?> retirementPoll;
    /** Every 2 s (Dask's memory manager interval) a pending retirement asks again for keys not yet copied. */
    private static final long RETIREMENT_RETRY_NANOS = TimeUnit.SECONDS.toNanos(2);
    private long lastRetirementTick = System.nanoTime();

    private final Map<String, Channel> workerStreams = new HashMap<>();
    private final Map<String, Channel> clientStreams = new HashMap<>();
    private final Map<String, Integer> workerGeneration = new HashMap<>();
    private final Map<String, Map<String, Object>> workerInfo = new LinkedHashMap<>();
    private final Map<Channel, List<Object>> pendingBatches = new IdentityHashMap<>();
    private boolean flushScheduled;
    /** When the current loop turn read its first message (0 when idle), for {@link #latency}. */
    private long turnStart;
    private final LatencyRecorder latency = new LatencyRecorder(1 << 17);
    /** The same turns up to the first socket write: decoding and deciding, without the writes' syscalls. */
    private final LatencyRecorder latencyBeforeWrites = new LatencyRecorder(1 << 17);
    private volatile int workerCount;

    /** What a connection is: RPC until it registers, then a client's or a worker's stream. */
    private static final class Peer {
        enum Role { RPC, CLIENT, WORKER }

        Role role = Role.RPC;
        String id;
        int generation = Wire.GEN_2022;
        boolean closing;
        /** Client streams: when the last batch went out, and whether a held one waits for a timer. */
        long lastBatchNanos = Long.MIN_VALUE / 2;
        boolean batchTimerSet;
    }

    private SchedulerServer(SchedulerConfig config) {
        this.config = config;
        this.group = new MultiThreadIoEventLoopGroup(1, Transports.ioHandlerFactory());
        this.loop = group.next();
        this.state = new SchedulerState(new StreamOutbox(), config.workerSaturation(), config.allowedFailures(),
                config.workerPipeline().toNanos() / 1e9);
        this.rpc = new RpcClient(loop, config.limits());
    }

    public static SchedulerServer start(SchedulerConfig config) throws InterruptedException {
        SchedulerServer s = new SchedulerServer(config);
        s.bind();
        return s;
    }

    private void bind() throws InterruptedException {
        ServerBootstrap b = new ServerBootstrap().group(group).channel(Transports.serverChannel(group))
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, Reads.LARGE)
                .childOption(ChannelOption.ALLOCATOR, RecyclingReadAllocator.SHARED)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.attr(PEER).set(new Peer());
                        ch.pipeline().addLast(new FrameDecoder(config.limits()), FrameEncoder.INSTANCE,
                                new Handshake(), new PeerHandler());
                    }
                });
        try {
            serverChannel = b.bind(config.host(), config.port()).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        InetSocketAddress local = (InetSocketAddress) serverChannel.localAddress();
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        address = "tcp://" + host + ":" + local.getPort();
        double ttl = config.workerTtl().toMillis() / 1000.0;
        long every = Math.max(200, Math.min(5_000, config.workerTtl().toMillis() / 4));
        ttlTimer = loop.scheduleAtFixedRate(() -> {
            List<String> dead = state.onTick(now(), ttl);
            for (String a : dead) {
                log.warn("Worker {} sent no heartbeat for {} s; removed", a, ttl);
                dropWorkerStream(a, "worker-ttl");
            }
        }, every, every, TimeUnit.MILLISECONDS);
        if (config.schedulerFile() != null) {
            try {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("type", "Scheduler");
                f.put("id", id);
                f.put("address", address);
                f.put("services", Map.of());
                f.put("started", started);
                f.put("workers", Map.of());
                SchedulerFile.write(config.schedulerFile(), f);
            } catch (java.io.IOException e) {
                close();
                throw new IllegalStateException("cannot write scheduler file " + config.schedulerFile(), e);
            }
        }
        log.info("Scheduler at: {}", address);
        log.info("Sockets on Netty's {} transport", Transports.name());
    }

    public String address() {
        return address;
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    public int workerCount() {
        return workerCount;
    }

    /**
     * Retires {@code addresses} as a client's retire_workers(workers=..., close_workers=close) would:
     * completes with the addresses actually retired once their unique data lives elsewhere.
     */
    public CompletableFuture<java.util.Set<String>> retireWorkers(List<String> addresses, boolean close) {
        CompletableFuture<java.util.Set<String>> f = new CompletableFuture<>();
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("workers", new ArrayList<Object>(addresses));
        req.put("close_workers", close);
        req.put("stimulus_id", stimulus("retire-workers-api"));
        loop.execute(() -> {
            try {
                retireWorkers(req, r -> f.complete(new java.util.LinkedHashSet<>(((Map<String, ?>) r).keySet())));
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** {@link SchedulerState#workersToClose}; call on the loop ({@link #onLoop}). */
    public List<String> stateWorkersToClose(int n) {
        return state.workersToClose(n);
    }

    /** Runs {@code task} on the state's thread and waits for its result (for tests and the facade). */
    public <T> T onLoop(java.util.function.Supplier<T> task) {
        if (loop.inEventLoop()) {
            return task.get();
        }
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(task.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f.join();
    }

    public void close() {
        if (ttlTimer != null) {
            ttlTimer.cancel(false);
        }
        try {
            loop.submit(rpc::close).await(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    private static String stimulus(String what) {
        return what + "-" + now();
    }

    // ------------------------------------------------------------------------------------------
    // Inbound
    // ------------------------------------------------------------------------------------------

    private final class PeerHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (turnStart == 0) {
                turnStart = System.nanoTime();
            }
            MessageCodec.withDecoded((Frames) msg, tree -> onMessage(ctx.channel(), tree));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (!flushScheduled) {
                turnStart = 0; // nothing to send: this read caused no stream output to time
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            onClosed(ctx.channel());
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                    ? cause.getCause() : cause;
            if (c instanceof ProtocolException || c instanceof java.io.IOException) {
                log.warn("Closing connection from {}: {}", ctx.channel().remoteAddress(), c.getMessage());
            } else {
                log.error("Closing connection from {} after an internal error", ctx.channel().remoteAddress(), c);
            }
            ctx.close();
        }
    }

    private void onMessage(Channel ch, Object msg) {
        Peer peer = ch.attr(PEER).get();
        if (peer.role == Peer.Role.RPC) {
            if (!(msg instanceof Map<?, ?> m)) {
                throw new ProtocolException("request is not a map: " + brief(msg));
            }
            onRequest(ch, peer, m);
            return;
        }
        if (msg instanceof List<?> batch) {
            for (Object o : batch) {
                if (!onStreamMessage(ch, peer, o)) {
                    return;
                }
            }
        } else {
            onStreamMessage(ch, peer, msg);
        }
    }

    /** Returns false when the stream ended. */
    private boolean onStreamMessage(Channel ch, Peer peer, Object o) {
        if ("OK".equals(o)) {
            endStream(ch, peer);
            return false;
        }
        if (!(o instanceof Map<?, ?> m)) {
            throw new ProtocolException("stream message is not a map: " + brief(o));
        }
        String op = Wire.str(m, "op");
        if ("close-stream".equals(op)) {
            endStream(ch, peer);
            return false;
        }
        if (peer.role == Peer.Role.WORKER) {
            onWorkerMessage(peer.id, op, m);
        } else {
            onClientMessage(ch, peer, op, m);
        }
        return true;
    }

    private void onClosed(Channel ch) {
        Peer peer = ch.attr(PEER).get();
        pendingBatches.remove(ch);
        heldForClients.remove(ch);
        if (peer == null || peer.role == Peer.Role.RPC) {
            return;
        }
        if (peer.role == Peer.Role.WORKER && workerStreams.get(peer.id) == ch) {
            forgetWorker(peer.id);
            log.info("Remove worker {} (stream closed)", peer.id);
            state.onRemoveWorker(peer.id, stimulus("handle-worker-cleanup"));
            workerCount = state.workerCount();
        } else if (peer.role == Peer.Role.CLIENT && clientStreams.get(peer.id) == ch) {
            clientStreams.remove(peer.id);
            log.info("Remove client {}", peer.id);
            state.onRemoveClient(peer.id, stimulus("remove-client"));
        }
    }

    private void endStream(Channel ch, Peer peer) {
        if (peer.role == Peer.Role.CLIENT && !peer.closing) {
            peer.closing = true;
            queue(ch, Map.of("op", "stream-closed"));
            flushAll();
        }
        ch.close();
    }

    /** Drops the server's records of a worker; returns its stream, or null. The state is told apart. */
    private Channel forgetWorker(String address) {
        Channel ch = workerStreams.remove(address);
        workerGeneration.remove(address);
        workerInfo.remove(address);
        return ch;
    }

    /**
     * For a worker the state has already removed: forgets it and closes its stream, first telling
     * it to close ({@code closeReason}) unless that is null.
     */
    private void dropWorkerStream(String address, String closeReason) {
        Channel ch = forgetWorker(address);
        workerCount = state.workerCount();
        if (ch != null) {
            if (closeReason != null) {
                queue(ch, Wire.toWorker(new ToWorker.Close(closeReason), Wire.GEN_2022));
                flushAll();
            }
            ch.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Retiring workers

    /** {@code infos}: each worker's info when the call arrived, for one that leaves meanwhile. */
    private record Retirement(List<String> workers, Map<String, Map<String, Object>> infos, boolean close,
                              boolean remove, String stimulusId, Consumer<Object> reply) {
    }

    /**
     * retire_workers (Scheduler.retire_workers of both generations): {@code workers=[addresses]},
     * {@code names=[...]} or {@code n=N} (the N cheapest, see SchedulerState.workersToClose);
     * {@code close_workers} (default false) and {@code remove} (default true). Replies, once every
     * unique key is copied away, with {address: worker info} of the workers retired (one that left
     * meanwhile counts as retired, as in Dask); a worker whose data nobody can take is not retired
     * and not in the reply.
     */
    private void retireWorkers(Map<?, ?> m, Consumer<Object> reply) {
        List<String> addresses = new ArrayList<>();
        List<Object> names = Wire.list(m.get("names"));
        List<Object> given = Wire.list(m.get("workers"));
        if (given != null && names != null) {
            // Dask raises TypeError: the client gets the same exception type.
            Map<String, Object> err = errorReply("names and workers are mutually exclusive");
            err.put("exception", org.cloudviper.protocol.pickle.Pickles.call("builtins", "TypeError",
                    "names and workers are mutually exclusive"));
            reply.accept(err);
            return;
        }
        if (given != null) {
            given.forEach(a -> addresses.add(String.valueOf(a)));
        } else if (names != null) {
            List<String> wanted = names.stream().map(String::valueOf).toList();
            workerInfo.forEach((a, info) -> {
                if (wanted.contains(String.valueOf(info.get("name")))) {
                    addresses.add(a);
                }
            });
        } else if (m.get("n") instanceof Number n) {
            addresses.addAll(state.workersToClose(n.intValue()));
        }
        String sid = Wire.str(m, "stimulus_id") != null ? Wire.str(m, "stimulus_id") : stimulus("retire-workers");
        List<String> known = state.onRetireWorkers(addresses, sid);
        if (known.isEmpty()) {
            reply.accept(Map.of());
            return;
        }
        log.info("Retiring workers {}", known);
        Map<String, Map<String, Object>> infos = new LinkedHashMap<>();
        known.forEach(a -> infos.put(a, workerInfo.getOrDefault(a, Map.of())));
        retirements.add(new Retirement(known, infos, Wire.bool(m, "close_workers"),
                !Boolean.FALSE.equals(m.get("remove")), sid, reply));
        pollRetirements();
    }

    /** Answers every retirement whose workers are all settled; polls again while some are not. */
    private void pollRetirements() {
        for (java.util.Iterator<Retirement> it = retirements.iterator(); it.hasNext(); ) {
            Retirement r = it.next();
            // Each outcome scans the worker's keys: ask once per poll, stop at the first still pending.
            Map<String, SchedulerState.RetireOutcome> outcomes = new LinkedHashMap<>();
            for (String a : r.workers()) {
                SchedulerState.RetireOutcome o = state.retirementOutcome(a);
                if (o == SchedulerState.RetireOutcome.PENDING) {
                    break;
                }
                outcomes.put(a, o);
            }
            if (outcomes.size() < r.workers().size()) {
                continue;
            }
            it.remove();
            Map<String, Object> retired = new LinkedHashMap<>();
            for (String a : r.workers()) {
                switch (outcomes.get(a)) {
                    case READY -> {
                        retired.put(a, workerInfo.getOrDefault(a, r.infos().get(a)));
                        if (r.remove()) {
                            state.onRetiredWorkerRemoved(a, r.stimulusId());
                            dropWorkerStream(a, r.close() ? "retired" : null);
                        } else if (r.close() && workerStreams.get(a) != null) {
                            queue(workerStreams.get(a), Wire.toWorker(new ToWorker.Close("retired"), Wire.GEN_2022));
                        }
                        log.info("Retired worker {}", a);
                    }
                    case ABORTED -> {
                        log.warn("Retiring worker {} called off: no running worker can take its data", a);
                        state.onRetirementAborted(a, r.stimulusId());
                    }
                    case GONE -> retired.put(a, r.infos().get(a)); // left meanwhile: it is gone all the same
                    default -> {
                        // PENDING cannot happen here
                    }
                }
            }
            r.reply().accept(retired);
        }
        if (!retirements.isEmpty() && retirementPoll == null) {
            retirementPoll = loop.schedule(() -> {
                retirementPoll = null;
                if (System.nanoTime() - lastRetirementTick > RETIREMENT_RETRY_NANOS) {
                    lastRetirementTick = System.nanoTime();
                    state.onRetirementTick(stimulus("retire-workers-retry"));
                }
                pollRetirements();
            }, 20, TimeUnit.MILLISECONDS);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Request/reply operations (Scheduler.handlers)
    // ------------------------------------------------------------------------------------------

    private void onRequest(Channel ch, Peer peer, Map<?, ?> m) {
        String op = Wire.str(m, "op");
        boolean wantsReply = !Boolean.FALSE.equals(m.get("reply"));
        boolean closeAfter = Wire.bool(m, "close");
        Consumer<Object> reply = value -> {
            if (wantsReply && ch.isActive()) {
                send(ch, value);
            }
            if (closeAfter) {
                ch.close();
            }
        };
        if (op == null && m.containsKey("status")) {
            return; // a 2024 nanny confirms register_nanny's reply with {"status": "ok"}
        }
        if (op == null) {
            throw new ProtocolException("request without op: " + brief(m));
        }
        switch (op) {
            case "identity" -> reply.accept(identity());
            case "register-client" -> registerClient(ch, peer, m);
            case "register-worker" -> registerWorker(ch, peer, m);
            case "heartbeat_worker" -> reply.accept(heartbeat(m));
            case "gather" -> gather(Wire.list(m.get("keys")), reply);
            case "scatter" -> scatter(m, reply);
            case "cancel" -> {
                state.onCancel(Wire.str(m, "client"), listOrEmpty(m.get("keys")), Wire.bool(m, "force"),
                        stimulus("cancel-key"));
                reply.accept(null);
            }
            case "retry" -> reply.accept(state.onRetry(Wire.str(m, "client"), listOrEmpty(m.get("keys")),
                    stimulus("stimulus-retry")));
            case "who_has" -> reply.accept(state.whoHas(Wire.list(m.get("keys"))));
            case "has_what" -> reply.accept(state.hasWhat(Wire.list(m.get("workers"))));
            case "ncores" -> reply.accept(state.ncores(Wire.list(m.get("workers")), false));
            case "ncores_running" -> reply.accept(state.ncores(Wire.list(m.get("workers")), true));
            case "publish_put" -> publishPut(m, reply);
            case "publish_get" -> {
                SchedulerState.Dataset d = state.dataset(Wire.str(m, "name"));
                if (d == null) {
                    reply.accept(null);
                } else {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("data", d.data());
                    r.put("keys", d.keys());
                    reply.accept(r);
                }
            }
            case "publish_list" -> reply.accept(state.datasetNames());
            case "publish_delete" -> {
                state.onPublishDelete(Wire.str(m, "name"), stimulus("publish-delete"));
                reply.accept(null);
            }
            case "publish_wait_flush" -> reply.accept(null);
            case "register_nanny" -> {
                // Nannies ask for plugins to install; cloudviper has none.
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("status", "OK");
                r.put("nanny-plugins", Map.of());
                reply.accept(r);
            }
            case "retire_workers" -> retireWorkers(m, reply);
            case "workers_to_close" -> reply.accept(state.workersToClose(
                    m.get("n") instanceof Number n ? n.intValue() : 0));
            case "unregister" -> {
                String a = Wire.str(m, "address");
                Channel ws = forgetWorker(a);
                state.onRemoveWorker(a, Wire.str(m, "stimulus_id") == null ? stimulus("unregister")
                        : Wire.str(m, "stimulus_id"));
                workerCount = state.workerCount();
                reply.accept("OK");
                if (ws != null) {
                    ws.close();
                }
            }
            case "versions" -> reply.accept(versions());
            case "cloudviper_latency" -> {
                Map<String, Object> r = latency.summary();
                r.put("before_writes", latencyBeforeWrites.summary());
                if (Wire.bool(m, "reset")) {
                    latency.reset();
                    latencyBeforeWrites.reset();
                }
                reply.accept(r);
            }
            case "close" -> {
                if (wantsReply) {
                    send(ch, "OK");
                }
                ch.close();
            }
            default -> {
                log.warn("Unknown operation {} from {}; replying nil", op, ch.remoteAddress());
                reply.accept(null);
            }
        }
    }

    private Map<String, Object> identity() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "Scheduler");
        r.put("id", id);
        r.put("address", address);
        r.put("services", Map.of());
        r.put("started", started);
        Map<String, Object> ws = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Object>> e : workerInfo.entrySet()) {
            ws.put(e.getKey(), e.getValue());
        }
        r.put("workers", ws);
        return r;
    }

    private Map<String, Object> versions() {
        Map<String, Object> sched = new LinkedHashMap<>();
        sched.put("host", Map.of("python", "cloudviper (Java " + Runtime.version() + ")"));
        sched.put("packages", Map.of());
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("scheduler", sched);
        r.put("workers", Map.of());
        return r;
    }

    private void registerClient(Channel ch, Peer peer, Map<?, ?> m) {
        String client = Wire.str(m, "client");
        if (client == null) {
            throw new ProtocolException("register-client without client id");
        }
        peer.role = Peer.Role.CLIENT;
        peer.id = client;
        peer.generation = generationOf(m);
        Channel old = clientStreams.put(client, ch);
        if (old != null && old != ch) {
            old.close();
        }
        state.onAddClient(client);
        log.info("Receive client connection: {}", client);
        // The client asserts that its first batch holds exactly this one message.
        Map<String, Object> start = new LinkedHashMap<>();
        start.put("op", "stream-start");
        start.put("warning", "");
        start.put("error", "");
        send(ch, List.of(start));
    }

    private void registerWorker(Channel ch, Peer peer, Map<?, ?> m) {
        String addr = Wire.str(m, "address");
        Map<String, Object> reply = new LinkedHashMap<>();
        if (addr == null) {
            throw new ProtocolException("register-worker without address");
        }
        int generation = generationOf(m);
        String name = m.get("name") == null ? addr : String.valueOf(m.get("name"));
        Map<String, Double> resources = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : Wire.map(m, "resources").entrySet()) {
            if (e.getValue() instanceof Number n) {
                resources.put(String.valueOf(e.getKey()), n.doubleValue());
            }
        }
        int nthreads = (int) Wire.lng(m, "nthreads", 1);
        long memoryLimit = Wire.lng(m, "memory_limit", 0);
        String error = state.onAddWorker(new WorkerRegistration(addr, name, nthreads, memoryLimit, resources,
                generation, now()));
        if (error != null) {
            reply.put("status", "error");
            reply.put("message", error);
            reply.put("time", now());
            send(ch, reply);
            log.warn("Refused worker {}: {}", addr, error);
            return;
        }
        peer.role = Peer.Role.WORKER;
        peer.id = addr;
        peer.generation = generation;
        workerStreams.put(addr, ch);
        workerGeneration.put(addr, generation);
        workerCount = state.workerCount();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("type", "Worker");
        info.put("id", addr);
        info.put("host", RpcClient.parseAddress(addr).getHostString());
        info.put("resources", resources);
        info.put("local_directory", m.get("local_directory"));
        info.put("name", m.get("name"));
        info.put("nthreads", (long) nthreads);
        info.put("memory_limit", memoryLimit);
        info.put("last_seen", now());
        info.put("services", m.get("services") == null ? Map.of() : m.get("services"));
        info.put("metrics", plain(m.get("metrics")));
        info.put("status", "running");
        info.put("nanny", m.get("nanny"));
        workerInfo.put(addr, info);
        reply.put("status", "OK");
        reply.put("time", now());
        reply.put("heartbeat-interval", heartbeatInterval());
        reply.put("worker-plugins", Map.of());
        reply.put("warning", "");
        reply.put("error", "");
        send(ch, reply);
        log.info("Register worker {} ({} threads, distributed {})", addr, nthreads, generation);
    }

    private Map<String, Object> heartbeat(Map<?, ?> m) {
        String addr = Wire.str(m, "address");
        Map<String, Object> r = new LinkedHashMap<>();
        if (addr == null || !state.onHeartbeat(addr, now())) {
            r.put("status", "missing");
            return r;
        }
        Map<String, Object> info = workerInfo.get(addr);
        if (info != null) {
            info.put("last_seen", now());
            if (m.get("metrics") != null) {
                info.put("metrics", plain(m.get("metrics")));
            }
        }
        r.put("status", "OK");
        r.put("time", now());
        r.put("heartbeat-interval", heartbeatInterval());
        return r;
    }

    /** distributed.scheduler.heartbeat_interval: more workers, rarer heartbeats. */
    private double heartbeatInterval() {
        int n = workerStreams.size();
        if (n <= 10) {
            return 0.5;
        } else if (n < 50) {
            return 1;
        } else if (n < 200) {
            return 2;
        }
        return n / 200.0 + 1;
    }

    private static int generationOf(Map<?, ?> m) {
        Map<?, ?> packages = Wire.map(Wire.map(m, "versions"), "packages");
        String v = Wire.str(packages, "distributed");
        if (v == null) {
            return Wire.GEN_2022;
        }
        try {
            int year = Integer.parseInt(v.substring(0, v.indexOf('.')));
            int month = Integer.parseInt(v.substring(v.indexOf('.') + 1).replaceFirst("\\..*", ""));
            // update-graph sends a pickled graph since 2023.4; compute-task fields changed with it.
            return year > 2023 || year == 2023 && month >= 4 ? Wire.GEN_2024 : Wire.GEN_2022;
        } catch (RuntimeException e) {
            return Wire.GEN_2022;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Stream messages
    // ------------------------------------------------------------------------------------------

    private void onWorkerMessage(String worker, String op, Map<?, ?> m) {
        String sid = Wire.str(m, "stimulus_id");
        if (op == null) {
            throw new ProtocolException("worker stream message without op");
        }
        switch (op) {
            case "task-finished" -> state.onTaskFinished(worker, m.get("key"), Wire.lng(m, "nbytes", -1),
                    m.get("type") instanceof byte[] b ? b : null, Wire.computeSeconds(m.get("startstops")), sid);
            case "task-erred" -> state.onTaskErred(worker, m.get("key"), m.get("exception"), m.get("traceback"), sid);
            case "release-worker-data" -> state.onReleaseWorkerData(worker, m.get("key"), sid);
            case "add-keys" -> state.onAddKeys(worker, listOrEmpty(m.get("keys")), sid);
            case "long-running" -> state.onLongRunning(worker, m.get("key"), sid);
            case "reschedule" -> state.onReschedule(worker, m.get("key"), sid);
            case "worker-status-change" -> {
                state.onWorkerStatusChange(worker, Wire.str(m, "status"), sid);
                Map<String, Object> info = workerInfo.get(worker);
                if (info != null) {
                    info.put("status", Wire.str(m, "status"));
                }
            }
            case "request-refresh-who-has" -> {
                Map<String, Object> msg = new LinkedHashMap<>();
                msg.put("op", "refresh-who-has");
                msg.put("who_has", state.whoHas(listOrEmpty(m.get("keys"))));
                msg.put("stimulus_id", stimulus("refresh-who-has"));
                Channel ch = workerStreams.get(worker);
                if (ch != null) {
                    queue(ch, msg);
                }
            }
            case "keep-alive", "log-event" -> {
            }
            default -> log.warn("Unknown worker stream operation {} from {}", op, worker);
        }
    }

    private void onClientMessage(Channel ch, Peer peer, String op, Map<?, ?> m) {
        String client = m.get("client") != null ? Wire.str(m, "client") : peer.id;
        if (op == null) {
            throw new ProtocolException("client stream message without op");
        }
        switch (op) {
            case "update-graph-hlg" -> updateGraph(ch, client, m);
            case "update-graph" -> {
                if (m.containsKey("graph_header") || m.containsKey("graph_frames")) {
                    updatePickledGraph(ch, client, m);
                } else {
                    // 2022.12 sends this with no tasks when futures are unpickled (get_dataset).
                    Map<?, ?> t = Wire.map(m, "tasks");
                    if (!t.isEmpty()) {
                        refuseGraph(ch, client, m, "legacy update-graph with tasks is not supported;"
                                + " use a client that sends update-graph-hlg");
                    } else {
                        state.onClientDesiresKeys(client, listOrEmpty(m.get("keys")), stimulus("update-graph"));
                    }
                }
            }
            case "client-desires-keys" -> state.onClientDesiresKeys(client, listOrEmpty(m.get("keys")),
                    stimulus("client-desires-keys"));
            case "client-releases-keys" -> state.onClientReleasesKeys(client, listOrEmpty(m.get("keys")),
                    stimulus("client-releases-keys"));
            case "cancel-keys" -> state.onCancel(client, listOrEmpty(m.get("keys")), Wire.bool(m, "force"),
                    stimulus("cancel-keys"));
            case "report-key" -> state.onReportKey(client, m.get("key"));
            case "close-client" -> {
                state.onRemoveClient(client, stimulus("remove-client"));
                clientStreams.remove(client);
            }
            case "heartbeat-client", "subscribe-topic", "unsubscribe-topic", "publish_flush_batched_send" -> {
            }
            default -> log.warn("Unknown client stream operation {} from {}", op, client);
        }
    }

    private void updateGraph(Channel ch, String client, Map<?, ?> m) {
        GraphUpdate u;
        try {
            u = HlgGraph.read(m, client, now(), stimulus("update-graph"));
        } catch (HlgGraph.UnsupportedLayer e) {
            refuseGraph(ch, client, m, e.getMessage());
            return;
        }
        state.onUpdateGraph(u);
    }

    private void updatePickledGraph(Channel ch, String client, Map<?, ?> m) {
        GraphUpdate u;
        try {
            u = pickledGraphs.read(m, client, now(), stimulus("update-graph"));
        } catch (org.cloudviper.protocol.pickle.PickleException e) {
            // Unsupported layers and hostile or malformed pickles: this client's keys err, nothing else.
            refuseGraph(ch, client, m, e.getMessage());
            return;
        }
        try {
            state.onUpdateGraph(u);
        } finally {
            PickledGraph.release(u);
        }
    }

    /** Every requested key errs with {@code why}: the client sees an exception, never a hang. */
    private void refuseGraph(Channel ch, String client, Map<?, ?> m, String why) {
        log.warn("Refused graph from {}: {}", client, why);
        for (Object key : listOrEmpty(m.get("keys"))) {
            queue(ch, Wire.toClient(new ToClient.TaskErred(key, why, null), Wire.GEN_2022));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Data movement: gather, scatter (relayed without copying frames)
    // ------------------------------------------------------------------------------------------

    private void gather(List<Object> keys, Consumer<Object> reply) {
        if (keys == null) {
            keys = List.of();
        }
        Map<Object, List<String>> whoHas = state.whoHas(keys);
        List<Object> missing = new ArrayList<>();
        Map<String, List<Object>> byWorker = new LinkedHashMap<>();
        for (Object k : keys) {
            List<String> w = whoHas.get(k);
            if (w == null || w.isEmpty()) {
                missing.add(k);
            } else {
                byWorker.computeIfAbsent(w.get(0), x -> new ArrayList<>()).add(k);
            }
        }
        if (!missing.isEmpty()) {
            reply.accept(gatherError(missing));
            return;
        }
        List<Object> order = keys;
        Map<Object, Object> data = new HashMap<>();
        List<Object> replies = new ArrayList<>();
        List<Object> failed = new ArrayList<>();
        int[] outstanding = {byWorker.size()};
        Runnable finish = () -> {
            try {
                if (!failed.isEmpty()) {
                    reply.accept(gatherError(failed));
                } else {
                    Map<Object, Object> ordered = new LinkedHashMap<>();
                    for (Object k : order) {
                        ordered.put(k, data.get(k));
                    }
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("status", "OK");
                    r.put("data", ordered);
                    reply.accept(r);
                }
            } finally {
                for (Object r : replies) {
                    MessageCodec.release(r);
                }
            }
        };
        if (byWorker.isEmpty()) {
            finish.run();
            return;
        }
        for (Map.Entry<String, List<Object>> e : byWorker.entrySet()) {
            getData(e.getKey(), e.getValue(), 20, (r, err) -> {
                if (err != null || !(r instanceof Map<?, ?> rm) || !"OK".equals(rm.get("status"))) {
                    log.warn("gather from {} failed: {}", e.getKey(), err != null ? err.toString() : brief(r));
                    failed.addAll(e.getValue());
                    MessageCodec.release(r);
                } else {
                    replies.add(r);
                    Map<?, ?> d = Wire.map(rm, "data");
                    for (Object k : e.getValue()) {
                        if (d.containsKey(k)) {
                            data.put(k, d.get(k));
                        } else {
                            failed.add(k);
                        }
                    }
                }
                if (--outstanding[0] == 0) {
                    finish.run();
                }
            });
        }
    }

    /** get_data with retries while the worker answers "busy". */
    private void getData(String worker, List<Object> keys, int attempts,
                         java.util.function.BiConsumer<Object, Throwable> done) {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("op", "get_data");
        req.put("keys", keys);
        req.put("who", null);
        if (workerGeneration.getOrDefault(worker, Wire.GEN_2022) < Wire.GEN_2024) {
            req.put("max_connections", false);
        }
        req.put("reply", true);
        rpc.call(worker, req, true, (r, err) -> {
            if (err == null && r instanceof Map<?, ?> rm && "busy".equals(rm.get("status")) && attempts > 0) {
                loop.schedule(() -> getData(worker, keys, attempts - 1, done), 20, TimeUnit.MILLISECONDS);
                return;
            }
            done.accept(r, err);
        });
    }

    private static Map<String, Object> gatherError(List<Object> keys) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("status", "error");
        r.put("keys", keys);
        return r;
    }

    private void scatter(Map<?, ?> m, Consumer<Object> reply) {
        Map<?, ?> data = Wire.map(m, "data");
        String client = Wire.str(m, "client");
        List<Object> allowed = Wire.list(m.get("workers"));
        boolean broadcast = Wire.bool(m, "broadcast");
        double deadline = now() + Math.max(0.1, Wire.dbl(m, "timeout", 2));
        // The request's tree is released when this handler returns: keep the values alive until sent.
        Map<Object, Object> values = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : data.entrySet()) {
            Object v = e.getValue();
            if (v instanceof SubObject s) {
                s.retain();
            }
            values.put(e.getKey(), v);
        }
        scatterWhenWorkers(client, values, allowed, broadcast, deadline, reply);
    }

    private void scatterWhenWorkers(String client, Map<Object, Object> values, List<Object> allowed,
                                    boolean broadcast, double deadline, Consumer<Object> reply) {
        List<Object> keys = new ArrayList<>(values.keySet());
        List<String> targets = state.scatterTargets(keys.size(), allowed);
        if (targets.isEmpty()) {
            if (now() > deadline) {
                MessageCodec.release(values);
                reply.accept(errorReply("TimeoutError: No valid workers found"));
            } else {
                loop.schedule(() -> scatterWhenWorkers(client, values, allowed, broadcast, deadline, reply),
                        100, TimeUnit.MILLISECONDS);
            }
            return;
        }
        Map<String, Map<Object, Object>> byWorker = new LinkedHashMap<>();
        if (broadcast) {
            for (String w : new java.util.LinkedHashSet<>(targets.isEmpty() ? List.of() : allTargets(allowed))) {
                byWorker.put(w, values);
            }
        } else {
            for (int i = 0; i < keys.size(); i++) {
                byWorker.computeIfAbsent(targets.get(i), x -> new LinkedHashMap<>()).put(keys.get(i), values.get(keys.get(i)));
            }
        }
        Map<Object, List<String>> whoHas = new LinkedHashMap<>();
        Map<Object, Long> nbytes = new HashMap<>();
        List<String> errors = new ArrayList<>();
        int[] outstanding = {byWorker.size()};
        for (Map.Entry<String, Map<Object, Object>> e : byWorker.entrySet()) {
            String w = e.getKey();
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("op", "update_data");
            req.put("data", e.getValue());
            if (workerGeneration.getOrDefault(w, Wire.GEN_2022) < Wire.GEN_2024) {
                req.put("report", false);
            }
            req.put("reply", true);
            rpc.call(w, req, false, (r, err) -> {
                if (err != null || !(r instanceof Map<?, ?> rm) || !"OK".equals(rm.get("status"))) {
                    errors.add(w + ": " + (err != null ? err.toString() : brief(r)));
                } else {
                    for (Map.Entry<?, ?> nb : Wire.map(rm, "nbytes").entrySet()) {
                        nbytes.put(nb.getKey(), nb.getValue() instanceof Number n ? n.longValue() : 0L);
                    }
                    for (Object k : e.getValue().keySet()) {
                        whoHas.computeIfAbsent(k, x -> new ArrayList<>()).add(w);
                    }
                }
                MessageCodec.release(r);
                if (--outstanding[0] == 0) {
                    MessageCodec.release(values);
                    if (!errors.isEmpty()) {
                        reply.accept(errorReply("scatter failed: " + String.join("; ", errors)));
                    } else {
                        state.onScattered(client, whoHas, nbytes, stimulus("scatter"));
                        reply.accept(keys);
                    }
                }
            });
        }
    }

    private List<String> allTargets(List<Object> allowed) {
        List<String> r = new ArrayList<>();
        for (String a : state.workerAddresses()) {
            if (allowed == null || allowed.contains(a)) {
                r.add(a);
            }
        }
        return r;
    }

    private void publishPut(Map<?, ?> m, Consumer<Object> reply) {
        String name = Wire.str(m, "name");
        SubObject data = m.get("data") instanceof SubObject s ? s : null;
        boolean ok = state.onPublishPut(name, listOrEmpty(m.get("keys")), data, Wire.bool(m, "override"),
                stimulus("publish"));
        if (!ok) {
            reply.accept(errorReply("KeyError: 'Dataset " + name + " already exists'"));
            return;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("status", "OK");
        r.put("name", name);
        reply.accept(r);
    }

    /** distributed.core.error_message with a plain-text exception (clean_exception wraps it). */
    private static Map<String, Object> errorReply(String text) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("status", "uncaught-error");
        r.put("exception", text);
        r.put("traceback", null);
        r.put("exception_text", text);
        r.put("traceback_text", "");
        return r;
    }

    // ------------------------------------------------------------------------------------------
    // Outbound streams, batched per loop turn
    // ------------------------------------------------------------------------------------------

    private final class StreamOutbox implements Outbox {
        @Override
        public void toWorker(String address, ToWorker message) {
            Channel ch = workerStreams.get(address);
            if (ch != null) {
                queue(ch, Wire.toWorker(message, workerGeneration.getOrDefault(address, Wire.GEN_2022)));
            }
        }

        @Override
        public void toClient(String client, ToClient message) {
            Channel ch = clientStreams.get(client);
            if (ch != null) {
                queue(ch, Wire.toClient(message, ch.attr(PEER).get().generation));
            }
        }
    }

    private void queue(Channel ch, Object msg) {
        pendingBatches.computeIfAbsent(ch, c -> new ArrayList<>()).add(msg);
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(this::flushAll);
        }
    }

    private void flushAll() {
        flushScheduled = false;
        long start = turnStart;
        turnStart = 0;
        if (pendingBatches.isEmpty()) {
            return;
        }
        if (start != 0) {
            latencyBeforeWrites.record(System.nanoTime() - start);
        }
        List<Map.Entry<Channel, List<Object>>> batches = new ArrayList<>(pendingBatches.entrySet());
        pendingBatches.clear();
        long now = System.nanoTime();
        for (Map.Entry<Channel, List<Object>> e : batches) {
            Channel ch = e.getKey();
            if (!ch.isActive()) {
                continue;
            }
            Peer peer = ch.attr(PEER).get();
            if (peer != null && peer.role == Peer.Role.CLIENT) {
                sendToClient(ch, peer, e.getValue(), now);
            } else {
                send(ch, e.getValue()); // workers at once: a free slot is refilled without a timer
            }
        }
        if (start != 0) {
            latency.record(System.nanoTime() - start);
        }
    }

    /**
     * How often a client stream is written at most, as Dask's scheduler batches each client's
     * stream (BatchedSend, 2 ms): the first message after a quiet spell goes at once, so a lone
     * result is not delayed, while a stream of results goes out in a few large writes instead of one
     * per task, which costs the scheduler a system call and the Python client a read and a decode each.
     */
    static final long CLIENT_BATCH_NANOS = 2_000_000;

    private final Map<Channel, List<Object>> heldForClients = new IdentityHashMap<>();

    private void sendToClient(Channel ch, Peer peer, List<Object> batch, long now) {
        List<Object> held = heldForClients.remove(ch);
        if (held != null) { // older messages first
            held.addAll(batch);
            batch = held;
        }
        long wait = peer.lastBatchNanos + CLIENT_BATCH_NANOS - now;
        if (wait <= 0) {
            peer.lastBatchNanos = now;
            send(ch, batch);
            return;
        }
        heldForClients.put(ch, batch);
        if (!peer.batchTimerSet) {
            peer.batchTimerSet = true;
            loop.schedule(() -> {
                peer.batchTimerSet = false;
                List<Object> due = heldForClients.remove(ch);
                if (due != null && ch.isActive()) {
                    peer.lastBatchNanos = System.nanoTime();
                    send(ch, due);
                }
            }, wait, TimeUnit.NANOSECONDS);
        }
    }

    // ------------------------------------------------------------------------------------------

    private static List<Object> listOrEmpty(Object v) {
        List<Object> l = Wire.list(v);
        return l == null ? List.of() : l;
    }

    /** A copy of a decoded value without sub-objects (safe to keep after the message is released). */
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

    private static String brief(Object v) {
        String s = String.valueOf(v);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
