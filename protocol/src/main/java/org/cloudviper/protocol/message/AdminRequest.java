package org.cloudviper.protocol.message;

import java.util.List;
import java.util.Map;

/**
 * The administrative requests a client makes of the scheduler (distributed Scheduler.handlers of
 * 2022.12.1 and 2024.12.1): plugins, restart, diagnostics (task stream, logs, profiles, the
 * performance report), data placement (rebalance, replicate), events, and the requests that run
 * Python on the scheduler. Every record reads the fields of both generations and writes them in the
 * order the client's rpc does ({@code op}, the keyword arguments, {@code reply}); where only 2024
 * sends a field ({@code idempotent}, {@code stimulus_id}) the record writes it for 2024 peers only.
 * Time bounds ({@code start}, {@code stop}) are seconds since the epoch or Dask's duration strings
 * ("10s": that long before now), kept as decoded.
 */
public sealed interface AdminRequest extends DaskMessage {

    /** The request of {@code m}, or null when its op is not an administrative one. */
    static AdminRequest decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "request");
        return switch (op) {
            case "register_worker_plugin" -> RegisterPlugin.decode(PluginKind.WORKER, m);
            case "register_nanny_plugin" -> RegisterPlugin.decode(PluginKind.NANNY, m);
            case "register_scheduler_plugin" -> RegisterPlugin.decode(PluginKind.SCHEDULER, m);
            case "unregister_worker_plugin" -> new UnregisterPlugin(PluginKind.WORKER, Fields.str(m, "name"));
            case "unregister_nanny_plugin" -> new UnregisterPlugin(PluginKind.NANNY, Fields.str(m, "name"));
            case "unregister_scheduler_plugin" -> new UnregisterPlugin(PluginKind.SCHEDULER, Fields.str(m, "name"));
            case "restart" -> new Restart(timeout(m), !Boolean.FALSE.equals(m.get("wait_for_workers")),
                    Fields.str(m, "stimulus_id"));
            case "restart_workers" -> new RestartWorkers(Fields.strings(m.get("workers")), timeout(m),
                    !Boolean.FALSE.equals(m.get("wait_for_workers")),
                    m.get("on_error") == null ? "raise" : Fields.str(m, "on_error"), Fields.str(m, "stimulus_id"));
            case "get_task_stream" -> new GetTaskStream(m.get("start"), m.get("stop"),
                    m.get("count") instanceof Number n ? n.longValue() : null);
            case "get_logs", "logs" -> new GetLogs(op, Fields.dbl(m, "start", 0),
                    m.get("n") instanceof Number n ? n.longValue() : null, Fields.bool(m, "timestamps"));
            case "worker_logs" -> new WorkerLogs(m.get("n") instanceof Number n ? n.longValue() : null,
                    Fields.strings(m.get("workers")), Fields.bool(m, "nanny"));
            case "profile" -> new Profile(m.get("start"), m.get("stop"), m.get("key"), Fields.strings(m.get("workers")),
                    !Boolean.FALSE.equals(m.get("merge_workers")), Fields.bool(m, "server"),
                    Fields.bool(m, "scheduler"));
            case "rebalance" -> new Rebalance(Fields.list(m.get("keys")), Fields.strings(m.get("workers")),
                    Fields.str(m, "stimulus_id"));
            case "replicate" -> new Replicate(Fields.listOrEmpty(m.get("keys")),
                    m.get("n") instanceof Number n ? n.intValue() : null, Fields.strings(m.get("workers")),
                    (int) Fields.lng(m, "branching_factor", 2), !Boolean.FALSE.equals(m.get("delete")),
                    Fields.str(m, "stimulus_id"));
            case "run_function" -> new RunFunction(m.get("function"), m.get("args"), m.get("kwargs"),
                    !Boolean.FALSE.equals(m.get("wait")));
            case "performance_report" -> new PerformanceReport(Fields.dbl(m, "start", 0), Fields.lng(m, "last_count", 0),
                    Fields.str(m, "code"), Fields.str(m, "mode"));
            case "log_event" -> new LogEvent(m.get("topic"), m.get("msg"));
            case "events" -> new Events(m.get("topic"));
            case "echo" -> new Echo(m.get("data"));
            case "check_idle" -> CheckIdle.INSTANCE;
            case "call_stack" -> new CallStack(Fields.list(m.get("keys")));
            case "adaptive_target" -> new AdaptiveTarget(m.get("target_duration") instanceof Number n
                    ? n.doubleValue() : null);
            case "get_metadata" -> new GetMetadata(Fields.listOrEmpty(m.get("keys")), m.containsKey("default"),
                    m.get("default"));
            case "set_metadata" -> new SetMetadata(Fields.listOrEmpty(m.get("keys")), m.get("value"));
            case "get_task_status" -> new GetTaskStatus(Fields.listOrEmpty(m.get("keys")));
            case "nbytes" -> new Nbytes(Fields.list(m.get("keys")), !Boolean.FALSE.equals(m.get("summary")));
            case "add_keys" -> new AddKeys(Fields.str(m, "worker"), Fields.listOrEmpty(m.get("keys")),
                    Fields.str(m, "stimulus_id"));
            case "update_data" -> new UpdateData(Fields.whoHas(m.get("who_has")), Fields.nbytes(m.get("nbytes"), 0),
                    Fields.str(m, "client"));
            default -> null;
        };
    }

    private static Double timeout(Map<?, ?> m) {
        return m.get("timeout") instanceof Number n ? n.doubleValue() : null;
    }

    /** Where a plugin runs: in each worker, in each nanny, or in the scheduler. */
    enum PluginKind {
        WORKER("worker"), NANNY("nanny"), SCHEDULER("scheduler");

        private final String word;

        PluginKind(String word) {
            this.word = word;
        }

        public String word() {
            return word;
        }
    }

    /**
     * register_{worker,nanny,scheduler}_plugin: {@code plugin} is the client's pickle of the plugin
     * object (bytes, kept opaque); {@code idempotent} is 2024's (null from 2022: not idempotent).
     */
    record RegisterPlugin(PluginKind kind, Object plugin, String name, Boolean idempotent) implements AdminRequest {
        static RegisterPlugin decode(PluginKind kind, Map<?, ?> m) {
            return new RegisterPlugin(kind, m.get("plugin"), Fields.str(m, "name"),
                    m.get("idempotent") instanceof Boolean b ? b : null);
        }

        public boolean isIdempotent() {
            return Boolean.TRUE.equals(idempotent);
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("register_" + kind.word() + "_plugin").with("plugin", plugin).with("name", name);
            if (g == Generation.DASK_2024 || kind == PluginKind.SCHEDULER) {
                b.with("idempotent", isIdempotent());
            }
            return b.done();
        }
    }

    record UnregisterPlugin(PluginKind kind, String name) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("unregister_" + kind.word() + "_plugin").with("name", name).done();
        }
    }

    /**
     * Client.restart: every key released, every client told, every worker restarted through its
     * nanny (workers without one are closed); answered when as many workers are back, or after
     * {@code timeout} seconds (null: Dask's 30).
     */
    record Restart(Double timeout, boolean waitForWorkers, String stimulusId) implements AdminRequest {
        public double timeoutSeconds() {
            return timeout == null ? 30 : timeout;
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("restart").with("timeout", timeout).with("wait_for_workers", waitForWorkers);
            if (g == Generation.DASK_2024) {
                b.with("stimulus_id", stimulusId);
            }
            return b.done();
        }
    }

    /** 2024's Client.restart_workers: these workers restarted, the data kept; reply {address: outcome}. */
    record RestartWorkers(List<String> workers, Double timeout, boolean waitForWorkers, String onError,
                          String stimulusId) implements AdminRequest {
        public double timeoutSeconds() {
            return timeout == null ? 30 : timeout;
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("restart_workers").with("workers", workers).with("timeout", timeout)
                    .with("wait_for_workers", waitForWorkers).with("on_error", onError)
                    .with("stimulus_id", stimulusId).done();
        }
    }

    /** The task stream: what the workers reported of finished and erred tasks, by time or by count. */
    record GetTaskStream(Object start, Object stop, Long count) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("get_task_stream").with("start", start).with("stop", stop).with("count", count).done();
        }
    }

    /** The scheduler's own log lines ({@code op} "get_logs", or "logs" as Client.get_scheduler_logs sends). */
    record GetLogs(String op, double start, Long n, boolean timestamps) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request(op).with("n", n);
            if (start != 0) {
                b.with("start", start);
            }
            if (timestamps) {
                b.with("timestamps", true);
            }
            return b.done();
        }
    }

    /** Client.get_worker_logs: each worker's (or nanny's) get_logs. */
    record WorkerLogs(Long n, List<String> workers, boolean nanny) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("worker_logs").with("n", n).with("workers", workers).with("nanny", nanny).done();
        }
    }

    /** Client.profile: the workers' statistical profiles, merged into one tree unless {@code mergeWorkers} is false. */
    record Profile(Object start, Object stop, Object key, List<String> workers, boolean mergeWorkers, boolean server,
                   boolean scheduler) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("profile").with("key", key).with("workers", workers).with("merge_workers", mergeWorkers)
                    .with("start", start).with("stop", stop).with("server", server).with("scheduler", scheduler)
                    .done();
        }
    }

    /** Client.rebalance: even out the workers' memory by moving these keys (null: all). */
    record Rebalance(List<Object> keys, List<String> workers, String stimulusId) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("rebalance").with("keys", keys).with("workers", workers).done();
        }
    }

    /** Client.replicate: {@code n} copies of each key (null: one on every worker). */
    record Replicate(List<Object> keys, Integer n, List<String> workers, int branchingFactor, boolean delete,
                     String stimulusId) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("replicate").with("keys", keys).with("n", n == null ? null : (long) n)
                    .with("workers", workers).with("branching_factor", (long) branchingFactor).done();
        }
    }

    /** Client.run_on_scheduler: a pickled function to run in the scheduler's Python process. */
    record RunFunction(Object function, Object args, Object kwargs, boolean waitForResult) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("run_function").with("function", function).with("args", args).with("kwargs", kwargs)
                    .with("wait", waitForResult).done();
        }
    }

    /** The end of a {@code performance_report} block: the report's HTML, from {@code start} to now. */
    record PerformanceReport(double start, long lastCount, String code, String mode) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("performance_report").with("start", start).with("last_count", lastCount)
                    .with("code", code).with("mode", mode).done();
        }
    }

    /** Client.log_event: {@code msg} (any msgpack value) under a topic or a list of topics. */
    record LogEvent(Object topic, Object msg) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("log_event").with("topic", topic).with("msg", msg).done();
        }
    }

    /** Client.get_events: the (time, msg) pairs of a topic, or of every topic when null. */
    record Events(Object topic) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("events").with("topic", topic).done();
        }
    }

    /** Server.echo: {@code data} back. */
    record Echo(Object data) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("echo").with("data", data).done();
        }
    }

    /** Scheduler.get_metadata: the value at the path {@code keys}, or {@code dflt} when given and absent. */
    record GetMetadata(List<Object> keys, boolean hasDefault, Object dflt) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("get_metadata").with("keys", keys);
            if (hasDefault) {
                b.with("default", dflt);
            }
            return b.done();
        }
    }

    /** Scheduler.set_metadata: {@code value} at the path {@code keys} (a msgpack value). */
    record SetMetadata(List<Object> keys, Object value) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("set_metadata").with("keys", keys).with("value", value).done();
        }
    }

    /** Scheduler.get_task_status: {key: state, or null when unknown}. */
    record GetTaskStatus(List<Object> keys) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("get_task_status").with("keys", keys).done();
        }
    }

    /** Client.nbytes: bytes per key (all keys when null), summed per key prefix with {@code summary}. */
    record Nbytes(List<Object> keys, boolean summary) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("nbytes").with("keys", keys).with("summary", summary).done();
        }
    }

    /** The request form of a worker's add-keys: it holds {@code keys}. */
    record AddKeys(String worker, List<Object> keys, String stimulusId) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("add_keys").with("worker", worker).with("keys", keys).with("stimulus_id", stimulusId)
                    .done();
        }
    }

    /** Client.scatter(direct=True): the client placed the data itself; the keys are where {@code whoHas} says. */
    record UpdateData(Map<Object, List<String>> whoHas, Map<Object, Long> nbytes, String client)
            implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("update_data").with("who_has", whoHas).with("nbytes", nbytes).with("client", client)
                    .done();
        }
    }

    /** 2024's Scheduler.check_idle: since when the scheduler has been idle, or null. */
    enum CheckIdle implements AdminRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("check_idle").done();
        }
    }

    /** Client.call_stack: what each worker's threads are running (all tasks, or these keys). */
    record CallStack(List<Object> keys) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("call_stack").with("keys", keys).done();
        }
    }

    /** Scheduler.adaptive_target: how many workers the queued work wants, in seconds of {@code targetDuration}. */
    record AdaptiveTarget(Double targetDuration) implements AdminRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("adaptive_target").with("target_duration", targetDuration).done();
        }
    }
}
