package org.cloudviper.scheduler.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.cloudviper.protocol.netty.Handshake;
import org.cloudviper.protocol.netty.Reads;
import org.cloudviper.protocol.netty.RecyclingReadAllocator;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.protocol.netty.Transports;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.scheduler.server.http.DashboardService;
import org.cloudviper.scheduler.server.http.SchedulerView;
import org.cloudviper.scheduler.state.ClusterSummary;
import org.cloudviper.scheduler.state.Outbox;
import org.cloudviper.scheduler.state.SchedulerState;
import org.cloudviper.scheduler.state.coordination.Coordination;
import org.cloudviper.scheduler.state.coordination.StateKeys;
import org.slf4j.Logger;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The Netty side of the scheduler: accepts Dask connections ({@link Dispatcher}), turns their
 * messages into events for {@link SchedulerState} ({@link RequestHandlers}, {@link StreamHandlers})
 * and writes what the state sends ({@link StreamBatcher}). Everything, state included, runs on one
 * event loop thread, so the state needs no locks and a message's effects leave in the same loop turn.
 */
public final class SchedulerServer implements RequestHandlers.Server, Retirements.WorkerStreams, Dispatcher.Closures {
    private static final Logger log = SchedulerLogs.logger(SchedulerServer.class);

    private final SchedulerConfig config;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final SchedulerState state;
    private final RpcClient rpc;
    private final Peers peers = new Peers();
    private final StreamBatcher batcher;
    private final LatencyRecorder latency = new LatencyRecorder(1 << 17);
    /** The same turns up to the first socket write: decoding and deciding, without the writes' syscalls. */
    private final LatencyRecorder latencyBeforeWrites = new LatencyRecorder(1 << 17);
    private final Retirements retirements;
    private final Dispatcher dispatcher;
    private final RequestHandlers requests;
    private final CoordinationCalls coordination;
    private DashboardService dashboard;
    private final String id = "Scheduler-" + UUID.randomUUID();
    private final double started = now();
    private Channel serverChannel;
    private String address;
    private ScheduledFuture<?> ttlTimer;
    private ScheduledFuture<?> stealTimer;
    private boolean stealTicking;
    private volatile boolean closed;
    private volatile int workerCount;

    private SchedulerServer(SchedulerConfig config) {
        this.config = config;
        this.group = new MultiThreadIoEventLoopGroup(1, Transports.ioHandlerFactory());
        this.loop = group.next();
        this.batcher = new StreamBatcher(System::nanoTime, loop,
                (task, delayNanos) -> loop.schedule(task, delayNanos, TimeUnit.NANOSECONDS), latency, latencyBeforeWrites);
        this.state = new SchedulerState(new StreamOutbox(), config.workerSaturation(), config.allowedFailures(),
                config.workerPipeline().toNanos() / 1e9);
        this.rpc = new RpcClient(loop, config.limits());
        this.retirements = new Retirements(state, peers, loop, this);
        DataRelay relay = new DataRelay(state, peers, rpc, loop);
        FlushMarkers flushMarkers = new FlushMarkers();
        WorkerCalls workerCalls = new WorkerCalls(state, peers, rpc);
        TaskStream taskStream = new TaskStream();
        EventTopics events = new EventTopics(peers, batcher);
        AdminCalls admin = new AdminCalls(state, peers, workerCalls,
                new Restarts(state, peers, rpc, loop, batcher, this), new DataPlacement(state, peers, rpc), taskStream,
                events, () -> address);
        this.requests = new RequestHandlers(this, state, peers, relay, retirements, workerCalls, flushMarkers, admin);
        this.coordination = new CoordinationCalls(new Coordination(new StateKeys(state), new StreamOutbox(),
                CoordinationCalls.LEASE_TIMEOUT_S), loop, workerCalls);
        this.dispatcher = new Dispatcher(requests, new StreamHandlers(state, peers, batcher, flushMarkers, taskStream,
                events, this::wantStealing), batcher, this, coordination);
    }

    public static SchedulerServer start(SchedulerConfig config) throws InterruptedException {
        SchedulerServer s = new SchedulerServer(config);
        s.bind();
        return s;
    }

    private void bind() throws InterruptedException {
        // A larger frame 0 is read while it arrives (a client's graph, GraphStream); smaller ones whole.
        long streamFrame0From = Long.getLong("cloudviper.scheduler.streamFrame0From", 1 << 20);
        ServerBootstrap b = new ServerBootstrap().group(group).channel(Transports.serverChannel(group))
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, Reads.LARGE)
                .childOption(ChannelOption.ALLOCATOR, RecyclingReadAllocator.SHARED)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FrameDecoder(config.limits(), streamFrame0From), FrameEncoder.INSTANCE,
                                new Handshake(), dispatcher);
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
            for (String a : state.onTick(now(), ttl)) {
                log.warn("Worker {} sent no heartbeat for {} s; removed", a, ttl);
                drop(a, "worker-ttl");
            }
        }, every, every, TimeUnit.MILLISECONDS);
        loop.execute(this::wantStealing); // the port is open: a graph may already be coming in on the loop
        if (config.dashboard() != null) {
            startDashboard();
        }
        if (config.schedulerFile() != null) {
            writeSchedulerFile();
        }
        log.info("Scheduler at: {}", address);
        log.info("Sockets on Netty's {} transport", Transports.name());
    }

    /** Binds the HTTP side; a port in use gives way to a free one with a warning, as Dask does. */
    private void startDashboard() throws InterruptedException {
        SchedulerConfig.DashboardAddress at = config.dashboardAddress();
        SchedulerView view = new View();
        try {
            dashboard = DashboardService.start(view, group, at.host(), at.port());
        } catch (InterruptedException e) {
            close();
            throw e;
        } catch (Exception e) { // Netty rethrows the bind's IOException unchecked
            if (at.port() == 0) {
                close();
                throw new IllegalStateException("cannot bind the dashboard on " + config.dashboard(), e);
            }
            dashboard = DashboardService.start(view, group, at.host(), 0);
            log.warn("Port {} is already in use; hosting the HTTP server on port {} instead", at.port(), dashboard.port());
        }
        log.info("  dashboard at:  http://{}:{}/status", at.host().contains(":") ? "[" + at.host() + "]" : at.host(),
                dashboard.port());
    }

    /** Dask's {@code services}: {"dashboard": port} when the HTTP side runs. */
    @Override
    public Map<String, Object> services() {
        return dashboard == null ? Map.of() : Map.of("dashboard", (long) dashboard.port());
    }

    /** The dashboard's port, or -1 without one. */
    public int dashboardPort() {
        return dashboard == null ? -1 : dashboard.port();
    }

    /** {@link SchedulerState#summary}, taken on the loop. */
    public ClusterSummary summary(boolean groups) {
        return onLoop(() -> state.queries().summary(groups));
    }

    /**
     * Closes once no retirement is under way (their data moved), waiting at most {@code timeout}: what
     * SIGTERM does, so that workers a scaler is retiring hand their data over before the scheduler goes.
     */
    public void closeGracefully(java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (onLoop(retirements::pendingCount) > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
    }

    private void writeSchedulerFile() {
        try {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("type", "Scheduler");
            f.put("id", id);
            f.put("address", address);
            f.put("services", services());
            f.put("started", started);
            f.put("workers", Map.of());
            SchedulerFile.write(config.schedulerFile(), f);
        } catch (java.io.IOException e) {
            close();
            throw new IllegalStateException("cannot write scheduler file " + config.schedulerFile(), e);
        }
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public double started() {
        return started;
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
    public CompletableFuture<Set<String>> retireWorkers(List<String> addresses, boolean close) {
        CompletableFuture<Set<String>> f = new CompletableFuture<>();
        loop.execute(() -> {
            try {
                retirements.retire(new SchedulerRequest.RetireWorkers(addresses, null, null, close, true, null),
                        RequestHandlers.stimulus("retire-workers-api"),
                        r -> f.complete(new LinkedHashSet<>(((Map<String, ?>) r).keySet())));
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

    /** {@link SchedulerState#validate()}, on the loop. */
    public void validateState() {
        onLoop(() -> {
            state.validate();
            return null;
        });
    }

    /** Runs {@code task} on the state's thread and waits for its result (for tests and the facade). */
    public <T> T onLoop(Supplier<T> task) {
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

    /**
     * Balances the workers' queues every 100 ms (distributed.scheduler.work-stealing-interval) while
     * the scheduler holds tasks; a scheduler holding none is not woken for it (an idle scheduler's
     * wake-ups halve). A graph taken restarts the tick. Event loop only.
     */
    private void wantStealing() {
        if (config.workStealing() && !stealTicking && !closed) {
            stealTicking = true;
            stealTimer = loop.schedule(this::stealTick, 100, TimeUnit.MILLISECONDS);
        }
    }

    private void stealTick() {
        state.onBalance(now());
        if (!closed && state.queries().taskCount() > 0) {
            stealTimer = loop.schedule(this::stealTick, 100, TimeUnit.MILLISECONDS);
        } else {
            stealTicking = false;
        }
    }

    public void close() {
        closed = true;
        loop.execute(() -> {
            if (stealTimer != null) {
                stealTimer.cancel(false);
            }
        });
        if (ttlTimer != null) {
            ttlTimer.cancel(false);
        }
        try {
            loop.submit(rpc::close).await(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (dashboard != null) {
            dashboard.close();
        }
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    static double now() {
        return System.currentTimeMillis() / 1000.0;
    }

    // ------------------------------------------------------------------------------------------
    // Streams coming and going

    @Override
    public void streamClosed(Peer peer) {
        if (!peers.isCurrent(peer)) {
            return;
        }
        if (peer.role == Peer.Role.WORKER) {
            peers.removeWorker(peer.id);
            log.info("Remove worker {} (stream closed)", peer.id);
            state.onRemoveWorker(peer.id, RequestHandlers.stimulus("handle-worker-cleanup"));
            coordination.workerRemoved(peer.id);
            workersChanged();
        } else {
            peers.removeClient(peer.id);
            log.info("Remove client {}", peer.id);
            state.onRemoveClient(peer.id, RequestHandlers.stimulus("remove-client"));
            coordination.clientRemoved(peer.id);
        }
    }

    @Override
    public void dropWorker(String address, String closeReason) {
        drop(address, closeReason);
    }

    @Override
    public void drop(String address, String reason) {
        Peer p = peers.removeWorker(address);
        coordination.workerRemoved(address);
        workersChanged();
        if (p != null) {
            if (reason != null) {
                batcher.queue(p, new SchedulerToWorker.Close(reason).encode(p.generation));
                batcher.flushNow(p);
            }
            p.channel.close();
        }
    }

    @Override
    public void tellToClose(String address, String reason) {
        Peer p = peers.worker(address);
        if (p != null) {
            batcher.queue(p, new SchedulerToWorker.Close(reason).encode(p.generation));
        }
    }

    @Override
    public void workersChanged() {
        workerCount = state.queries().workerCount();
    }

    @Override
    public Map<String, Object> latency(boolean reset) {
        Map<String, Object> r = latency.summary();
        r.put("before_writes", latencyBeforeWrites.summary());
        if (reset) {
            latency.reset();
            latencyBeforeWrites.reset();
        }
        return r;
    }

    /** The HTTP side's window on the state; called on the loop. */
    private final class View implements SchedulerView {
        @Override
        public ClusterSummary summary(boolean groups) {
            return state.queries().summary(groups);
        }

        @Override
        public long transitions() {
            return state.queries().transitions();
        }

        @Override
        public Activity activity() {
            Peers.PeerCounts c = peers.counts();
            return new Activity(state.queries().forgottenTotal(), Map.copyOf(state.queries().suspiciousByPrefix()), c.workersAdded(),
                    c.workersRemoved(), c.clientsAdded(), c.clientsRemoved(), latency.recorded(),
                    latency.takeMax() / 1e9);
        }

        @Override
        public Map<String, Object> identity() {
            return requests.identity();
        }

        @Override
        public List<String> workersToClose(int n) {
            return state.workersToClose(n);
        }

        @Override
        public void retireWorkers(List<String> addresses, Consumer<Object> reply) {
            retirements.retire(new SchedulerRequest.RetireWorkers(addresses, null, null, false, true, null),
                    RequestHandlers.stimulus("retire-workers-http"), reply);
        }
    }

    /** The state machine's messages, queued on their peers' streams in each peer's generation. */
    private final class StreamOutbox implements Outbox {
        @Override
        public void toWorker(String address, SchedulerToWorker message) {
            Peer p = peers.worker(address);
            if (p != null) {
                batcher.queue(p, message.encode(p.generation));
            }
        }

        @Override
        public void toClient(String client, SchedulerToClient message) {
            Peer p = peers.client(client);
            if (p != null) {
                batcher.queue(p, message.encode(p.generation));
            }
        }
    }
}
