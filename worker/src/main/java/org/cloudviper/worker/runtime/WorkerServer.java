package org.cloudviper.worker.runtime;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.WorkerMetrics;
import org.cloudviper.protocol.message.WorkerRequest;
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
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Netty side of a worker. One event loop thread owns the {@link WorkerState}: scheduler stream
 * messages ({@link SchedulerLink}), requests of peers and clients ({@link PeerService}), fetch
 * replies, finished computations and timers all become events there, and the instructions the state
 * returns are carried out from there: messages to the scheduler, computations handed to the
 * executor, fetches sent as get_data to peers, spills to disk.
 */
public final class WorkerServer implements SchedulerLink.Worker, PeerService.Worker {
    private static final Logger log = LoggerFactory.getLogger(WorkerServer.class);
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
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final Path localDirectory;
    private final Metrics metrics = new Metrics();
    private final SchedulerLink link;
    private final PeerService peers;
    /** Spilled values, in a folder of {@link #localDirectory} of this worker's own. */
    private SpillStore spillStore;

    private Channel listener;
    private String address;
    private WorkerState state;
    private boolean closing;
    private WorkerHttp http;
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
        this.link = new SchedulerLink(config, loop, rpc, this);
        this.peers = new PeerService(config, this, () -> (InetSocketAddress) listener.localAddress());
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
            s.loop.execute(s.link::connect);
            s.link.registered().get(REGISTER_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            s.loop.execute(() -> s.link.every(FIND_MISSING_MS,
                    () -> s.handle(new Event.FindMissing("find-missing-" + now()))));
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
                                new Handshake(), peers.handler());
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
        if (config.httpPort() >= 0) {
            http = WorkerHttp.start(group, config.host(), config.httpPort(), config.nthreads(),
                    () -> metrics(link.generation()));
        }
        log.info("      Start worker at: {}", address);
        if (http != null) {
            log.info("      dashboard at: {}:{}", contactHost(config.host()), http.port());
        }
        log.info("      Sockets on Netty's {} transport", Transports.name());
    }

    @Override
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

    /** The HTTP side's port ({@code /health}, {@code /metrics}), or -1 without one. */
    public int httpPort() {
        return http == null ? -1 : http.port();
    }

    @Override
    public String name() {
        return config.name() != null ? config.name() : address;
    }

    @Override
    public String localDirectory() {
        return localDirectory.toString();
    }

    @Override
    public String serverId() {
        return serverId;
    }

    @Override
    public Map<String, Object> services() {
        return http == null ? Map.of() : Map.of("dashboard", (long) http.port());
    }

    @Override
    public WorkerState state() {
        return state;
    }

    @Override
    public SchedulerLink link() {
        return link;
    }

    @Override
    public boolean closing() {
        return closing;
    }

    /** Completes with the reason once the worker has shut down (scheduler gone, closed, ...). */
    public CompletableFuture<String> closed() {
        return closed;
    }

    /** The Dask generation of the scheduler, as detected from its versions. */
    public Generation generation() {
        return link.generation();
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

    @Override
    public WorkerMetrics metrics(Generation g) {
        return new WorkerMetrics(state.taskCounts(), state.managedBytes(), state.spilledBytes(),
                spillStore.diskBytes(), state.transferIncomingBytes(), state.transferIncomingCount(),
                incomingTransfersTotal, peers.outgoingTransfers(), peers.outgoingTransfersTotal(),
                metrics.cpuPercent(), metrics.rss(), metrics.openFds(), now());
    }

    // ---------------------------------------------------------------------------------------------
    // Events and instructions

    @Override
    public void handle(Event e) {
        handle(new Event[]{e});
    }

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
            instructions = state.handle(now(), events);
        } catch (RuntimeException e) {
            log.error("Worker state machine failed; closing the worker", e);
            closeAsync("worker-state-error");
            return;
        }
        List<Event> ranInline = null;
        for (Instruction i : instructions) {
            if (i instanceof Instruction.Send m) {
                link.send(m);
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
        link.executionStarted(x.key());
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
                    link.executionEnded(x.key());
                    handle(result);
                });
            });
        } catch (RejectedExecutionException e) {
            deps.values().forEach(StoredValue::release);
            link.executionEnded(x.key());
            return new Event.ExecuteFailure(x.key(), new TaskError("worker is shutting down"), null,
                    "RuntimeError('worker is shutting down')", "", now(), now(), 0, x.stimulusId());
        }
        return null;
    }

    /** get_data from a peer (distributed Worker.gather_dep / get_data_from_worker). */
    private void gather(Instruction.GatherDep g) {
        incomingTransfersTotal++;
        Map<String, Object> req = new WorkerRequest.GetData(g.keys(), address, null).encode(link.generation());
        String sid = g.stimulusId();
        rpc.call(g.worker(), req, true, (message, err) -> {
            try {
                WorkerRequest.GetData.Reply reply = err == null ? WorkerRequest.GetData.Reply.decode(message) : null;
                if (err != null) {
                    log.info("Fetching {} from {} failed: {}", g.keys(), g.worker(), err.toString());
                    handle(new Event.GatherDepNetworkFailure(g.worker(), "gather-dep-network-failure-" + now()));
                } else if (reply.isBusy()) {
                    handle(new Event.GatherDepBusy(g.worker(), "gather-dep-busy-" + now()));
                } else if (reply.isOk()) {
                    Map<Object, Object> data = new LinkedHashMap<>();
                    Map<Object, Long> nbytes = new LinkedHashMap<>();
                    for (Map.Entry<?, ?> e : reply.data().entrySet()) {
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
                    String text = "unexpected get_data reply from " + g.worker() + ": " + Trees.brief(message);
                    handle(new Event.GatherDepFailure(g.worker(), new TaskError(text),
                            "RuntimeError(" + TaskRunner.pyRepr(text) + ")", "gather-dep-failure-" + now()));
                }
            } finally {
                MessageCodec.release(message);
            }
        });
        log.debug("Request {} keys from {} ({})", g.keys().size(), g.worker(), sid);
    }

    // ---------------------------------------------------------------------------------------------
    // Shutdown

    @Override
    public void closeAsync(String reason) {
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
                if (closing || !link.isOpen()) {
                    retired.complete(null);
                    return;
                }
                log.info("Closing worker gracefully: {}", address);
                link.retire((r, err) -> {
                    if (err != null) {
                        retired.completeExceptionally(err);
                    } else {
                        retired.complete(r);
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
                        incomingTransfersTotal, peers.outgoingTransfersTotal());
                if (link.isOpen() && !"scheduler-missing".equals(reason)) {
                    link.unregister(() -> unregistered.complete(null));
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
                link.close(); // writes what is queued first
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
        if (http != null) {
            http.close();
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
}
