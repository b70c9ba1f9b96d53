package org.cloudviper.embedded;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.DaskMessage;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.PeerVersion;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.netty.BatchedStream;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.protocol.netty.Transports;
import org.cloudviper.protocol.pickle.PickleWriter;
import org.cloudviper.protocol.pickle.Pickles;
import org.cloudviper.worker.runtime.ClientValues;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Dask client written in Java: it submits graphs of Java tasks to a scheduler (cloudviper's, or a
 * stock Python one) and gets typed results back, speaking what a Python 2022.12.1 client speaks:
 * identity, register-client, update-graph-hlg with one materialized layer, key-in-memory /
 * task-erred on its stream, gather, client-releases-keys, close-client.
 *
 * <p>A {@link Task} names a function of the Java task registry by its qualified name (as a Python
 * client's pickle would: {@code cloudviper.tasks.sum}); its arguments are plain values (Long,
 * Double, String, byte[], Boolean, null, List, Map) or other tasks, also inside lists and maps,
 * whose results take their place when it runs. Building tasks sends nothing; {@link #compute} and
 * {@link #persist} submit every task the outputs depend on.
 *
 * <p>Thread-safe. A failed task surfaces as {@link TaskFailedException} carrying the remote message.
 */
public final class JavaClient implements AutoCloseable {
    private static final long CONNECT_TIMEOUT_S = 30;
    /** The messages this client speaks. */
    private static final Generation GENERATION = Generation.DASK_2022;

    /** A node of a graph: a call of a registered Java task. Immutable; built by {@link #task}. */
    public static final class Task {
        private final String key;
        private final String function;
        private final List<Object> args;

        private Task(String key, String function, List<Object> args) {
            this.key = key;
            this.function = function;
            this.args = args;
        }

        /** The Dask key of this task's result. */
        public String key() {
            return key;
        }

        @Override
        public String toString() {
            return function + "[" + key + "]";
        }
    }

    /** A task erred remotely (or its graph was refused); {@link #remoteMessage()} is the peer's text. */
    public static final class TaskFailedException extends RuntimeException {
        private final String key;
        private final String remoteMessage;

        TaskFailedException(String key, String remoteMessage) {
            super("task " + key + " failed: " + remoteMessage);
            this.key = key;
            this.remoteMessage = remoteMessage;
        }

        public String key() {
            return key;
        }

        public String remoteMessage() {
            return remoteMessage;
        }
    }

    private final String scheduler;
    private final String id = "Client-" + UUID.randomUUID();
    private final String keyPrefix = UUID.randomUUID().toString().substring(0, 8) + "-";
    private final AtomicLong counter = new AtomicLong();
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final RpcClient rpc;
    /** Keys submitted and not released, to their completion; written on the loop, read anywhere. */
    private final Map<String, CompletableFuture<Void>> results = new ConcurrentHashMap<>();
    private final Map<String, byte[]> functionPickles = new ConcurrentHashMap<>();
    private final CompletableFuture<Void> streamStarted = new CompletableFuture<>();
    private volatile BatchedStream stream;
    private volatile Throwable broken;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private JavaClient(String scheduler, EventLoopGroup group) {
        this.scheduler = scheduler;
        this.group = group;
        this.loop = group.next();
        this.rpc = new RpcClient(loop, FrameLimits.DEFAULT);
    }

    /** Connects to the scheduler at {@code tcp://host:port}; returns once registered. */
    public static JavaClient connect(String scheduler) throws IOException {
        Objects.requireNonNull(scheduler, "scheduler");
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, Transports.ioHandlerFactory());
        JavaClient c = new JavaClient(scheduler, group);
        try {
            c.start().get(CONNECT_TIMEOUT_S, TimeUnit.SECONDS);
            return c;
        } catch (ExecutionException e) {
            c.close();
            throw new IOException("cannot connect to " + scheduler + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            c.close();
            throw new IOException("cannot connect to " + scheduler + " within " + CONNECT_TIMEOUT_S + " s");
        } catch (InterruptedException e) {
            c.close();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while connecting to " + scheduler);
        }
    }

    /**
     * identity (the scheduler answers as one), versions (a Python scheduler must be of the 2022
     * line, the only one with update-graph-hlg), then the stream with register-client.
     */
    private CompletableFuture<Void> start() {
        CompletableFuture<Object> identity = new CompletableFuture<>();
        loop.execute(() -> rpc.call(scheduler, SchedulerRequest.Identity.INSTANCE.encode(GENERATION), false, (r, e) -> {
            if (e != null) {
                identity.completeExceptionally(e);
            } else {
                boolean ok = r instanceof Map<?, ?> m && "Scheduler".equals(m.get("type"));
                String seen = String.valueOf(r);
                MessageCodec.release(r);
                if (ok) {
                    identity.complete(null);
                } else {
                    identity.completeExceptionally(new IOException("not a Dask scheduler: identity replied "
                            + (seen.length() > 200 ? seen.substring(0, 200) + "..." : seen)));
                }
            }
        }));
        CompletableFuture<Object> versions = identity.thenCompose(x -> {
            CompletableFuture<Object> v = new CompletableFuture<>();
            loop.execute(() -> rpc.call(scheduler, SchedulerRequest.Versions.INSTANCE.encode(GENERATION), false,
                    (r, e) -> {
                        if (e != null) {
                            v.completeExceptionally(e);
                            return;
                        }
                        PeerVersion sv = PeerVersion.of(r);
                        MessageCodec.release(r);
                        if (sv.generation() != GENERATION) {
                            v.completeExceptionally(new IOException("the scheduler at " + scheduler + " runs " + sv
                                    + ": JavaClient speaks the distributed " + GENERATION.range() + " line"
                                    + " (update-graph-hlg), which only cloudviper's scheduler and distributed "
                                    + GENERATION.range() + " schedulers read"));
                        } else {
                            v.complete(null);
                        }
                    }));
            return v;
        });
        return versions.thenCompose(x -> BatchedStream.open(loop, FrameLimits.DEFAULT, scheduler,
                registerClient().encode(GENERATION), new StreamListener())).thenCompose(s -> {
                    stream = s;
                    return streamStarted;
                });
    }

    private SchedulerRequest.RegisterClient registerClient() {
        Map<String, Object> packages = new LinkedHashMap<>();
        packages.put("python", null);
        packages.put("dask", GENERATION.referenceVersion());
        packages.put("distributed", GENERATION.referenceVersion());
        packages.put(PeerVersion.CLOUDVIPER_PACKAGE, PeerVersion.cloudviperVersion());
        Map<String, Object> versions = new LinkedHashMap<>();
        versions.put("host", Map.of("python", "cloudviper JavaClient (Java " + Runtime.version() + ")"));
        versions.put("packages", packages);
        return new SchedulerRequest.RegisterClient(id, versions);
    }

    /** This client's id, as the scheduler knows it. */
    public String id() {
        return id;
    }

    /**
     * A call of the Java task registered as {@code function} with {@code args} (plain values or tasks,
     * also nested in lists and maps). Nothing is sent until {@link #compute} or {@link #persist}.
     */
    public Task task(String function, Object... args) {
        if (function == null || function.lastIndexOf('.') <= 0 || function.endsWith(".")) {
            throw new IllegalArgumentException("function: " + function + " (expected: module.name)");
        }
        List<Object> a = Arrays.asList(args.clone());
        for (Object o : a) {
            checkArgument(o, 0);
        }
        String name = function.substring(function.lastIndexOf('.') + 1);
        return new Task(name + "-" + keyPrefix + counter.incrementAndGet(), function, a);
    }

    private static void checkArgument(Object o, int depth) {
        if (depth > 100) {
            throw new IllegalArgumentException("arguments nested deeper than 100 levels");
        }
        if (o == null || o instanceof Task || o instanceof Long || o instanceof Integer || o instanceof Double
                || o instanceof Float || o instanceof String || o instanceof byte[] || o instanceof Boolean
                || o instanceof java.math.BigInteger || o instanceof Short || o instanceof Byte) {
            return;
        }
        if (o instanceof List<?> l) {
            for (Object x : l) {
                checkArgument(x, depth + 1);
            }
        } else if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (e.getKey() instanceof Task) {
                    throw new IllegalArgumentException("a task cannot be a dict key");
                }
                checkArgument(e.getKey(), depth + 1);
                checkArgument(e.getValue(), depth + 1);
            }
        } else {
            throw new IllegalArgumentException("argument of type " + o.getClass().getName() + " (expected: Task,"
                    + " Long, Double, String, byte[], Boolean, null, List or Map of these)");
        }
    }

    /** Runs {@code output} and everything it depends on; returns its result as {@code type}. */
    public <T> T compute(Task output, Class<T> type) {
        Object v = compute(List.of(output)).get(0);
        if (v != null && !type.isInstance(v)) {
            throw new ClassCastException("result of " + output + " is a " + v.getClass().getName() + ", not "
                    + type.getName());
        }
        return type.cast(v);
    }

    /** Runs {@code outputs} and their dependencies; returns their results in order, then releases them. */
    public List<Object> compute(List<Task> outputs) {
        persist(outputs);
        try {
            return gather(outputs);
        } finally {
            release(outputs);
        }
    }

    /**
     * Submits {@code outputs} and their dependencies as one graph and waits until every output is in
     * a worker's memory, where it stays until {@link #release}.
     *
     * @throws TaskFailedException for the first output that erred (the others stay held)
     */
    public void persist(List<Task> outputs) {
        List<CompletableFuture<Void>> done = submit(outputs);
        // One wait for all of them: waiting on each in turn parked and woke this thread once per
        // output (a futex pair per task in a 100,000-task graph).
        try {
            CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get();
        } catch (ExecutionException e) {
            // reported below, for the first erred output in order
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for results");
        }
        for (int i = 0; i < outputs.size(); i++) {
            await(outputs.get(i).key, done.get(i));
        }
    }

    /** The results of tasks already in memory ({@link #persist}), in order. */
    public List<Object> gather(List<Task> tasks) {
        List<Object> keys = new ArrayList<>(tasks.size());
        for (Task t : tasks) {
            keys.add(t.key);
        }
        CompletableFuture<List<Object>> values = new CompletableFuture<>();
        Map<String, Object> req = new SchedulerRequest.Gather(keys).encode(GENERATION);
        loop.execute(() -> rpc.call(scheduler, req, false, (r, e) -> {
            try {
                SchedulerRequest.Gather.Reply reply = e == null ? SchedulerRequest.Gather.Reply.decode(r) : null;
                if (e != null) {
                    values.completeExceptionally(e);
                } else if (reply.isOk()) {
                    List<Object> out = new ArrayList<>(keys.size());
                    for (Object k : keys) {
                        Object v = reply.data().get(k);
                        out.add(v instanceof SubObject s ? ClientValues.decode(s) : v);
                    }
                    values.complete(out);
                } else {
                    values.completeExceptionally(new IllegalStateException("gather failed: " + r));
                }
            } catch (RuntimeException x) {
                values.completeExceptionally(x);
            } finally {
                MessageCodec.release(r);
            }
        }));
        try {
            return values.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while gathering");
        }
    }

    /** Tells the scheduler this client no longer wants {@code tasks}' results (client-releases-keys). */
    public void release(Collection<Task> tasks) {
        List<Object> keys = new ArrayList<>(tasks.size());
        for (Task t : tasks) {
            if (results.remove(t.key) != null) {
                keys.add(t.key);
            }
        }
        if (!keys.isEmpty()) {
            send(new ClientToScheduler.ClientReleasesKeys(keys, id));
        }
    }

    private void await(String key, CompletableFuture<Void> f) {
        try {
            f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + key);
        }
    }

    /**
     * Submits {@code outputs} and their dependencies as one graph (one update-graph-hlg) without
     * waiting: the future of each output completes once it is in a worker's memory, where it stays
     * until {@link #release}, or fails with {@link TaskFailedException}. For progress reports: an
     * output that only feeds others can be released as soon as it completes (its dependents keep it).
     */
    public List<CompletableFuture<Void>> submit(List<Task> outputs) {
        Map<String, Object> dsk = new LinkedHashMap<>();
        Map<String, Object> dependencies = new HashMap<>();
        Set<String> seen = new HashSet<>();
        ArrayDeque<Task> todo = new ArrayDeque<>();
        for (Task t : outputs) {
            if (seen.add(t.key)) {
                todo.add(t);
            }
        }
        PickleWriter w = new PickleWriter();
        List<Task> found = new ArrayList<>();
        while (!todo.isEmpty()) {
            Task t = todo.poll();
            w.reset();
            w.proto();
            found.clear();
            w.value(substitute(t.args, found));
            w.stop();
            List<Object> deps = new ArrayList<>(found.size());
            for (Task d : found) {
                deps.add(d.key);
                if (seen.add(d.key)) {
                    todo.add(d);
                }
            }
            Map<String, Object> spec = new LinkedHashMap<>(4);
            spec.put("function", functionPickles.computeIfAbsent(t.function, JavaClient::functionPickle));
            spec.put("args", w.toByteArray());
            dsk.put(t.key, spec);
            // a Python set on the wire: the Python scheduler unions it with other layers' dependency sets
            dependencies.put(t.key, Fields.set(deps));
        }
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("__module__", "dask.highlevelgraph");
        layer.put("__name__", "MaterializedLayer");
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("dsk", dsk);
        state.put("dependencies", dependencies);
        layer.put("state", state);
        layer.put("annotations", null);
        List<Object> keys = new ArrayList<>(outputs.size());
        List<CompletableFuture<Void>> futures = new ArrayList<>(outputs.size());
        for (Task t : outputs) {
            keys.add(t.key);
            futures.add(results.computeIfAbsent(t.key, k -> new CompletableFuture<>()));
        }
        send(new ClientToScheduler.UpdateGraphHlg(Map.of("layers", List.of(layer)), keys, null, null, "100 ms", null,
                null, id));
        return futures;
    }

    /** {@code args} with each task replaced by its key (distributed's pack_data); tasks go to {@code found}. */
    private static Object substitute(Object v, List<Task> found) {
        if (v instanceof Task t) {
            found.add(t);
            return t.key;
        } else if (v instanceof List<?> l) {
            List<Object> r = new ArrayList<>(l.size());
            for (Object o : l) {
                r.add(substitute(o, found));
            }
            return r;
        } else if (v instanceof Map<?, ?> m) {
            Map<Object, Object> r = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                r.put(e.getKey(), substitute(e.getValue(), found));
            }
            return r;
        } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        return v;
    }

    /** The pickle of a module-level function by reference, as a Python client sends it. */
    private static byte[] functionPickle(String qualifiedName) {
        int dot = qualifiedName.lastIndexOf('.');
        return Pickles.global(qualifiedName.substring(0, dot), qualifiedName.substring(dot + 1));
    }

    private void send(DaskMessage message) {
        Throwable b = broken;
        if (b != null) {
            throw new IllegalStateException("connection to the scheduler is closed", b);
        }
        stream.send(message.encode(GENERATION));
    }

    private void failAll(Throwable cause) {
        broken = cause;
        for (CompletableFuture<Void> f : results.values()) {
            f.completeExceptionally(cause);
        }
        streamStarted.completeExceptionally(cause);
    }

    /** Messages on the client stream (distributed/client.py Client._handle_report). */
    private final class StreamListener implements BatchedStream.Listener {
        @Override
        public void onMessage(Object message) {
            if (!(message instanceof Map<?, ?> m)) {
                return;
            }
            SchedulerToClient report = SchedulerToClient.decode(m, GENERATION);
            if (report instanceof SchedulerToClient.StreamStart) {
                streamStarted.complete(null);
            } else if (report instanceof SchedulerToClient.KeyInMemory k) {
                CompletableFuture<Void> f = results.get(String.valueOf(k.key()));
                if (f != null) {
                    f.complete(null);
                }
            } else if (report instanceof SchedulerToClient.TaskErred e) {
                fail(String.valueOf(e.key()), ClientValues.exceptionText(e.exception()));
            } else if (report instanceof SchedulerToClient.CancelledKeys c) {
                c.keys().forEach(k -> fail(String.valueOf(k), "cancelled by the scheduler"));
            } else if (report instanceof SchedulerToClient.LostData l) {
                // The scheduler recomputes lost keys the client still wants; key-in-memory follows.
                String key = String.valueOf(l.key());
                CompletableFuture<Void> f = results.get(key);
                if (f != null && f.isDone()) {
                    results.replace(key, f, new CompletableFuture<>());
                }
            }
        }

        private void fail(String key, String why) {
            CompletableFuture<Void> f = results.get(key);
            if (f != null) {
                f.completeExceptionally(new TaskFailedException(key, why));
            }
        }

        @Override
        public void onClosed(Throwable cause) {
            failAll(new IOException("connection to the scheduler " + scheduler + " closed"
                    + (cause != null ? ": " + cause : ""), cause));
        }
    }

    /** Releases this client's keys, says close-client and disconnects. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        BatchedStream s = stream;
        if (s != null && broken == null) {
            s.send(new ClientToScheduler.CloseClient(id).encode(GENERATION));
            try {
                s.close().get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // closing anyway
            }
        }
        broken = new IOException("client closed");
        loop.execute(rpc::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
