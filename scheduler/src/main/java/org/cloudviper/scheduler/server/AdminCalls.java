package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.AdminRequest;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.scheduler.server.http.IdleWatch;
import org.cloudviper.scheduler.state.SchedulerState;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The administrative requests ({@link AdminRequest}): worker and nanny plugins, restart, the task
 * stream, logs and profiles, the performance report, replicate and rebalance, events; and a clear
 * NotImplementedError for every request of Dask's scheduler that needs Python on the scheduler or
 * that cloudviper does not serve, naming it, so that no client waits on a nil answer.
 */
final class AdminCalls {
    private static final Logger log = SchedulerLogs.logger(AdminCalls.class);
    private static final String NO_PYTHON = "cloudviper's scheduler is a Java process and runs no Python: ";

    /**
     * Requests of Dask's scheduler (distributed/scheduler.py handlers, 2022.12.1 and 2024.12.1)
     * that cloudviper answers with an error, and why.
     */
    static final Map<String, String> UNSUPPORTED = Map.ofEntries(
            Map.entry("run_function", NO_PYTHON + "run_on_scheduler is not supported; client.run runs a function"
                    + " on the workers"),
            Map.entry("feed", NO_PYTHON + "Scheduler.feed (a Python function run on the scheduler) is not supported"),
            Map.entry("register_scheduler_plugin", NO_PYTHON + "scheduler plugins are not supported (worker and"
                    + " nanny plugins are)"),
            Map.entry("unregister_scheduler_plugin", NO_PYTHON + "scheduler plugins are not supported"),
            Map.entry("terminate", "cloudviper's scheduler is not shut down by its clients: stop its process"
                    + " (Client.shutdown is not supported)"),
            Map.entry("dump_state", NO_PYTHON + "dump_state (the scheduler's Python objects) is not supported"),
            Map.entry("get_cluster_state", NO_PYTHON + "get_cluster_state / dump_cluster_state is not supported;"
                    + " client.story and get_task_stream show what happened"),
            Map.entry("dump_cluster_state_to_url", NO_PYTHON + "dump_cluster_state is not supported"),
            Map.entry("connection_stream", "cloudviper's scheduler does not open extra streams"
                    + " (connection_stream); clients register with register-client"),
            Map.entry("subscribe_worker_status", NO_PYTHON + "subscribe_worker_status (a scheduler plugin) is not"
                    + " supported"),
            Map.entry("start_task_metadata", "task metadata collection (start_task_metadata) is not supported by"
                    + " cloudviper's scheduler"),
            Map.entry("stop_task_metadata", "task metadata collection (stop_task_metadata) is not supported by"
                    + " cloudviper's scheduler"),
            Map.entry("benchmark_hardware", "benchmark_hardware is not supported by cloudviper's scheduler"),
            Map.entry("set_resources", "changing a worker's resources after it registered (set_resources) is not"
                    + " supported by cloudviper's scheduler"),
            Map.entry("set_restrictions", "changing a task's worker restrictions (set_restrictions) is not supported"
                    + " by cloudviper's scheduler"),
            Map.entry("get_task_prefix_states", "get_task_prefix_states is not supported by cloudviper's scheduler;"
                    + " its /status page and /metrics count tasks per prefix"),
            Map.entry("processing", "the processing request is not supported by cloudviper's scheduler;"
                    + " client.call_stack shows what each worker runs"));

    private final SchedulerState state;
    private final Peers peers;
    private final WorkerCalls workerCalls;
    private final Restarts restarts;
    private final DataPlacement placement;
    private final TaskStream taskStream;
    private final Supplier<String> address;
    private final Map<String, Object> workerPlugins = new LinkedHashMap<>();
    private final Map<String, Object> nannyPlugins = new LinkedHashMap<>();
    private final EventTopics events;
    /** Scheduler.task_metadata: a tree of msgpack values that set_metadata / get_metadata address by path. */
    private final Map<Object, Object> metadata = new LinkedHashMap<>();
    private final IdleWatch idle = new IdleWatch();

    AdminCalls(SchedulerState state, Peers peers, WorkerCalls workerCalls, Restarts restarts, DataPlacement placement,
               TaskStream taskStream, EventTopics events, Supplier<String> address) {
        this.events = events;
        this.state = state;
        this.peers = peers;
        this.workerCalls = workerCalls;
        this.restarts = restarts;
        this.placement = placement;
        this.taskStream = taskStream;
        this.address = address;
    }

    /** Worker plugins by name, as register-worker's reply gives them to every new worker. */
    Map<String, Object> workerPlugins() {
        return workerPlugins;
    }

    /** Nanny plugins by name, as register_nanny's reply gives them to every new nanny. */
    Map<String, Object> nannyPlugins() {
        return nannyPlugins;
    }

    TaskStream taskStream() {
        return taskStream;
    }

    /**
     * Serves {@code request} if it is an administrative one (true), answering through {@code reply};
     * false leaves it to the caller.
     */
    boolean handle(SchedulerRequest.Unknown request, Generation generation, Consumer<Object> reply) {
        AdminRequest a = AdminRequest.decode(request.fields(), generation);
        if (a == null && !UNSUPPORTED.containsKey(request.op())) {
            return false;
        }
        try {
            serve(request, a, generation, reply);
        } catch (RuntimeException e) {
            // a bug here must not close the client's connection: the client gets the error
            log.error("{} failed", request.op(), e);
            reply.accept(PeerReply.error("RuntimeError", request.op() + " failed on cloudviper's scheduler: " + e));
        }
        return true;
    }

    private void serve(SchedulerRequest.Unknown request, AdminRequest a, Generation generation,
                       Consumer<Object> reply) {
        if (a instanceof AdminRequest.RegisterPlugin p) {
            registerPlugin(p, reply);
        } else if (a instanceof AdminRequest.UnregisterPlugin u) {
            unregisterPlugin(u, reply);
        } else if (a instanceof AdminRequest.Restart r) {
            restarts.restart(r, reply);
        } else if (a instanceof AdminRequest.RestartWorkers r) {
            restarts.restartWorkers(r, reply);
        } else if (a instanceof AdminRequest.GetTaskStream t) {
            List<Object> r = new ArrayList<>();
            for (TaskStream.Entry e : taskStream.collect(t.start(), t.stop(), t.count(), RequestHandlers.now())) {
                r.add(e.toMap());
            }
            reply.accept(r);
        } else if (a instanceof AdminRequest.GetLogs l) {
            List<Object> r = new ArrayList<>();
            for (SchedulerLogs.Line line : SchedulerLogs.lines(l.start(), l.n(), generation == Generation.DASK_2024)) {
                r.add(l.timestamps() ? List.of(line.created(), line.level(), line.formatted())
                        : List.of(line.level(), line.formatted()));
            }
            reply.accept(r);
        } else if (a instanceof AdminRequest.WorkerLogs w) {
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("op", "get_logs");
            msg.put("n", w.n());
            workerCalls.broadcast(new SchedulerRequest.Broadcast(msg, w.workers(), null, w.nanny(), null), reply);
        } else if (a instanceof AdminRequest.Profile p) {
            profile(p, reply);
        } else if (a instanceof AdminRequest.Replicate r) {
            placement.replicate(r, reply);
        } else if (a instanceof AdminRequest.Rebalance r) {
            placement.rebalance(r, reply);
        } else if (a instanceof AdminRequest.RunFunction f) {
            runFunction(f, reply);
        } else if (a instanceof AdminRequest.PerformanceReport p) {
            performanceReport(p, reply);
        } else if (a instanceof AdminRequest.LogEvent e) {
            events.log(e.topic(), e.msg(), RequestHandlers.now());
            reply.accept(null);
        } else if (a instanceof AdminRequest.Events e) {
            reply.accept(events.events(e.topic()));
        } else if (a instanceof AdminRequest.CheckIdle) {
            // Dask checks every 250 ms; here each request is a check (the first after any activity
            // finds the scheduler busy, as Dask's first check after a transition does)
            reply.accept(idle.check(state.queries().transitions(), () -> state.queries().summary(false), RequestHandlers.now()));
        } else if (a instanceof AdminRequest.CallStack c) {
            // each worker's call_stack of the keys (all when null); workers running none of them
            // answer nothing and are left out, as Scheduler.get_call_stack leaves them out
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("op", "call_stack");
            msg.put("keys", c.keys());
            workerCalls.broadcast(new SchedulerRequest.Broadcast(msg, null, null, false, "ignore"), all -> {
                if (all instanceof Map<?, ?> m && !Rpc.Error.is(all)) {
                    Map<Object, Object> r = new LinkedHashMap<>();
                    m.forEach((w, stacks) -> {
                        if (stacks instanceof Map<?, ?> sm && !sm.isEmpty()) {
                            r.put(w, stacks);
                        }
                    });
                    reply.accept(r);
                } else {
                    reply.accept(all);
                }
            });
        } else if (a instanceof AdminRequest.AdaptiveTarget t) {
            reply.accept((long) org.cloudviper.scheduler.state.Adaptive.target(state.queries().summary(false),
                    t.targetDuration() != null ? t.targetDuration()
                            : org.cloudviper.scheduler.state.Adaptive.DEFAULT_TARGET_SECONDS));
        } else if (a instanceof AdminRequest.Echo e) {
            reply.accept(e.data());
        } else if (a instanceof AdminRequest.GetMetadata g) {
            getMetadata(g, reply);
        } else if (a instanceof AdminRequest.SetMetadata m) {
            setMetadata(m);
            reply.accept(null);
        } else if (a instanceof AdminRequest.GetTaskStatus t) {
            Map<Object, Object> r = new LinkedHashMap<>();
            t.keys().forEach(k -> r.put(k, state.queries().taskStatus(k)));
            reply.accept(r);
        } else if (a instanceof AdminRequest.Nbytes n) {
            reply.accept(nbytes(n));
        } else if (a instanceof AdminRequest.AddKeys k) {
            if (k.worker() != null && state.queries().hasWorker(k.worker())) {
                state.onAddKeys(k.worker(), k.keys(), k.stimulusId() != null ? k.stimulusId()
                        : RequestHandlers.stimulus("add-keys"));
            }
            reply.accept("OK");
        } else if (a instanceof AdminRequest.UpdateData u) {
            state.onScattered(u.client(), u.whoHas(), u.nbytes(), RequestHandlers.stimulus("update-data"));
            reply.accept(null);
        } else {
            reply.accept(unsupported(UNSUPPORTED.get(request.op())));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Small queries and the metadata tree

    private Map<Object, Long> nbytes(AdminRequest.Nbytes n) {
        Map<Object, Long> sizes = state.queries().nbytes(n.keys());
        if (!n.summary()) {
            return sizes;
        }
        Map<Object, Long> r = new LinkedHashMap<>();
        sizes.forEach((k, v) -> r.merge(org.cloudviper.scheduler.state.KeyPrefix.of(k), v, Long::sum));
        return r;
    }

    @SuppressWarnings("unchecked")
    private void setMetadata(AdminRequest.SetMetadata m) {
        if (m.keys().isEmpty()) {
            return;
        }
        Map<Object, Object> node = metadata;
        for (Object k : m.keys().subList(0, m.keys().size() - 1)) {
            Object child = node.get(k);
            if (!(child instanceof Map<?, ?>)) {
                child = new LinkedHashMap<>();
                MessageCodec.release(node.put(k, child));
            }
            node = (Map<Object, Object>) child;
        }
        MessageCodec.retain(m.value());
        MessageCodec.release(node.put(m.keys().get(m.keys().size() - 1), m.value()));
    }

    private void getMetadata(AdminRequest.GetMetadata g, Consumer<Object> reply) {
        Object node = metadata;
        for (Object k : g.keys()) {
            if (node instanceof Map<?, ?> m && m.containsKey(k)) {
                node = m.get(k);
            } else {
                reply.accept(g.hasDefault() ? g.dflt() : PeerReply.error("KeyError", String.valueOf(k)));
                return;
            }
        }
        reply.accept(node);
    }

    /** The answer to a request cloudviper does not serve: a NotImplementedError with {@code text}. */
    static Object unsupported(String text) {
        return PeerReply.error("NotImplementedError", text);
    }

    // ------------------------------------------------------------------------------------------
    // Plugins

    /**
     * register_worker_plugin / register_nanny_plugin: kept for the workers (nannies) that register
     * later and sent to every current one ({@code plugin-add}, a nanny's {@code plugin_add}); the
     * reply is each one's answer. A scheduler plugin can only be 2024's SchedulerUploadFile, which
     * upload_file sends beside the workers' UploadFile so that the scheduler can import the file: a
     * Java scheduler imports nothing, so it is accepted as done; any other is refused, named.
     */
    private void registerPlugin(AdminRequest.RegisterPlugin p, Consumer<Object> reply) {
        if (p.kind() == AdminRequest.PluginKind.SCHEDULER) {
            String cls = ClientPickles.className(p.plugin());
            if ("distributed.diagnostics.plugin.SchedulerUploadFile".equals(cls)) {
                log.info("upload_file {}: nothing to load on the scheduler (it runs no Python)", p.name());
                reply.accept(null);
            } else {
                reply.accept(unsupported(UNSUPPORTED.get("register_scheduler_plugin")
                        + "; refused " + (cls == null ? "plugin " + p.name() : cls)));
            }
            return;
        }
        boolean nanny = p.kind() == AdminRequest.PluginKind.NANNY;
        Map<String, Object> plugins = nanny ? nannyPlugins : workerPlugins;
        if (p.isIdempotent() && plugins.containsKey(p.name())) {
            reply.accept(Map.of());
            return;
        }
        log.info("Registering {} plugin {}", nanny ? "Nanny" : "Worker", p.name());
        MessageCodec.retain(p.plugin());
        MessageCodec.release(plugins.put(p.name(), p.plugin()));
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", nanny ? "plugin_add" : "plugin-add");
        msg.put("plugin", p.plugin());
        msg.put("name", p.name());
        workerCalls.broadcast(new SchedulerRequest.Broadcast(msg, null, null, nanny, null), reply);
    }

    private void unregisterPlugin(AdminRequest.UnregisterPlugin u, Consumer<Object> reply) {
        if (u.kind() == AdminRequest.PluginKind.SCHEDULER) {
            reply.accept(unsupported(UNSUPPORTED.get("unregister_scheduler_plugin")));
            return;
        }
        boolean nanny = u.kind() == AdminRequest.PluginKind.NANNY;
        Map<String, Object> plugins = nanny ? nannyPlugins : workerPlugins;
        if (!plugins.containsKey(u.name())) {
            reply.accept(PeerReply.error("ValueError", "The " + u.kind().word() + " plugin " + u.name()
                    + " does not exist"));
            return;
        }
        MessageCodec.release(plugins.remove(u.name()));
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", nanny ? "plugin_remove" : "plugin-remove");
        msg.put("name", u.name());
        workerCalls.broadcast(new SchedulerRequest.Broadcast(msg, null, null, nanny, null), reply);
    }

    // ------------------------------------------------------------------------------------------
    // Diagnostics

    /**
     * Scheduler.get_profile: each worker's profile ({@code profile} request), merged unless
     * {@code merge_workers} is false; the scheduler's own ({@code scheduler=True}) is empty.
     */
    private void profile(AdminRequest.Profile p, Consumer<Object> reply) {
        if (p.scheduler()) {
            reply.accept(ProfileTrees.empty());
            return;
        }
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", "profile");
        msg.put("start", p.start());
        msg.put("stop", p.stop());
        msg.put("key", p.key());
        msg.put("server", p.server());
        List<String> workers = p.workers() == null ? null
                : p.workers().stream().filter(state.queries()::hasWorker).toList();
        workerCalls.broadcast(new SchedulerRequest.Broadcast(msg, workers, null, false, "ignore"), answers -> {
            if (Rpc.Error.is(answers) || !(answers instanceof Map<?, ?> byWorker)) {
                reply.accept(answers);
            } else if (p.mergeWorkers()) {
                reply.accept(ProfileTrees.merge(new ArrayList<>(byWorker.values())));
            } else {
                reply.accept(new LinkedHashMap<>(byWorker));
            }
        });
    }

    /**
     * run_on_scheduler is refused, except for the probe performance_report sends on entry, which
     * gets 0 (the scheduler's system monitor count, which only Dask's report reads back).
     */
    private void runFunction(AdminRequest.RunFunction f, Consumer<Object> reply) {
        if (ClientPickles.isMonitorCountProbe(f.function())) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("status", "OK");
            r.put("result", 0L);
            reply.accept(r);
            return;
        }
        reply.accept(unsupported(UNSUPPORTED.get("run_function")));
    }

    /** The HTML report of the task stream and the workers' profile since {@code start}. */
    private void performanceReport(AdminRequest.PerformanceReport p, Consumer<Object> reply) {
        double stop = RequestHandlers.now();
        List<TaskStream.Entry> stream = taskStream.collect(p.start(), null, null, stop);
        AdminRequest.Profile compute = new AdminRequest.Profile(p.start(), null, null, null, true, false, false);
        profile(compute, tree -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> merged = tree instanceof Map<?, ?> m && m.containsKey("children")
                    ? (Map<String, Object>) m : ProfileTrees.empty();
            long threads = 0;
            for (Map<String, Object> info : peers.workerInfo().values()) {
                threads += info.get("nthreads") instanceof Number n ? n.longValue() : 0;
            }
            reply.accept(PerformanceReportPage.render(stream, merged, p.start(), stop, p.code(), address.get(),
                    peers.workerCount(), threads));
        });
    }
}
