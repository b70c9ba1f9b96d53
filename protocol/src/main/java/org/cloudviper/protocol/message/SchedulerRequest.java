package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.List;
import java.util.Map;

/**
 * Requests a scheduler serves on a request/reply connection (distributed Scheduler.handlers, called
 * as {@code handler(**fields)}). Python's rpc writes {@code op}, the keyword arguments, then
 * {@code reply} ({@link Rpc}); the records encode in that order. Replies that cloudviper reads or
 * writes field by field are records nested in their request.
 */
public sealed interface SchedulerRequest extends DaskMessage {

    static SchedulerRequest decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "request");
        return switch (op) {
            case "identity" -> Identity.INSTANCE;
            case "register-client" -> new RegisterClient(Fields.requireStr(m, "client", op), Fields.map(m, "versions"));
            case "register-worker" -> RegisterWorker.decode(m);
            case "heartbeat_worker" -> new HeartbeatWorker(Fields.requireStr(m, "address", op),
                    Fields.dbl(m, "now", Double.NaN), Fields.map(m, "metrics"), Fields.map(m, "executing"),
                    Fields.map(m, "extensions"));
            case "gather" -> new Gather(Fields.listOrEmpty(m.get("keys")));
            case "scatter" -> new Scatter(Fields.map(m, "data"), Fields.strings(m.get("workers")),
                    Fields.str(m, "client"), Fields.bool(m, "broadcast"),
                    m.get("timeout") instanceof Number t ? t : null);
            case "cancel" -> new Cancel(Fields.listOrEmpty(m.get("keys")), Fields.str(m, "client"),
                    Fields.bool(m, "force"));
            case "retry" -> new Retry(Fields.listOrEmpty(m.get("keys")), Fields.str(m, "client"));
            case "who_has" -> new WhoHas(Fields.list(m.get("keys")));
            case "has_what" -> new HasWhat(Fields.strings(m.get("workers")));
            case "ncores" -> new Ncores(Fields.strings(m.get("workers")), false);
            case "ncores_running" -> new Ncores(Fields.strings(m.get("workers")), true);
            case "publish_put" -> new PublishPut(Fields.listOrEmpty(m.get("keys")), Fields.requireStr(m, "name", op),
                    m.get("data"), Fields.bool(m, "override"), Fields.str(m, "client"));
            case "publish_get" -> new PublishGet(Fields.requireStr(m, "name", op), Fields.str(m, "client"));
            case "publish_list" -> PublishList.INSTANCE;
            case "publish_delete" -> new PublishDelete(Fields.requireStr(m, "name", op));
            case "publish_wait_flush" -> new PublishWaitFlush(Fields.str(m, "uid"));
            case "register_nanny" -> RegisterNanny.INSTANCE;
            case "retire_workers" -> new RetireWorkers(Fields.strings(m.get("workers")), Fields.list(m.get("names")),
                    m.get("n") instanceof Number n ? n.intValue() : null, Fields.bool(m, "close_workers"),
                    !Boolean.FALSE.equals(m.get("remove")), Fields.str(m, "stimulus_id"));
            case "workers_to_close" -> new WorkersToClose(m.get("n") instanceof Number n ? n.intValue() : 0);
            case "unregister" -> new Unregister(Fields.requireStr(m, "address", op), Fields.str(m, "stimulus_id"));
            case "versions" -> Versions.INSTANCE;
            case "get_story" -> new GetStory(Fields.listOrEmpty(m.get("keys_or_stimuli")));
            case "broadcast" -> new Broadcast(Fields.map(m, "msg"), Fields.strings(m.get("workers")),
                    Fields.strings(m.get("hosts")), Fields.bool(m, "nanny"), Fields.str(m, "on_error"));
            case "close" -> Close.INSTANCE;
            case "cloudviper_latency" -> new CloudviperLatency(Fields.bool(m, "reset"));
            default -> new Unknown(op, m);
        };
    }

    /** Who the scheduler is and which workers it has; the reply is a plain map. */
    enum Identity implements SchedulerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("identity").done();
        }
    }

    /** Turns the connection into the client's stream; answered with stream-start on it. */
    record RegisterClient(String client, Map<?, ?> versions) implements SchedulerRequest {
        /** The client's distributed version and line. */
        public PeerVersion peerVersion() {
            return PeerVersion.of(versions);
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(4);
            r.put("op", "register-client");
            r.put("client", client);
            r.put("reply", false);
            r.put("versions", versions);
            return r;
        }
    }

    /**
     * Turns the connection into the worker's stream (Scheduler.add_worker takes exactly these fields
     * in 2022; 2024 dropped keys/nbytes/types). {@code name} may be any msgpack value; {@code now}
     * is the worker's clock.
     */
    record RegisterWorker(String address, Object name, int nthreads, long memoryLimit, Map<String, Double> resources,
                          Object localDirectory, Map<?, ?> services, Object nanny, long pid, Map<?, ?> versions,
                          Map<?, ?> metrics, Map<?, ?> extra, String stimulusId, String serverId, double now)
            implements SchedulerRequest {
        static RegisterWorker decode(Map<?, ?> m) {
            return new RegisterWorker(Fields.requireStr(m, "address", "register-worker"), m.get("name"),
                    (int) Fields.lng(m, "nthreads", 1), Fields.lng(m, "memory_limit", 0),
                    Fields.amounts(m.get("resources")), m.get("local_directory"), Fields.map(m, "services"),
                    m.get("nanny"), Fields.lng(m, "pid", 0), Fields.map(m, "versions"), Fields.map(m, "metrics"),
                    Fields.map(m, "extra"), Fields.str(m, "stimulus_id"), Fields.str(m, "server_id"),
                    Fields.dbl(m, "now", Double.NaN));
        }

        /** The worker's distributed version and line. */
        public PeerVersion peerVersion() {
            return PeerVersion.of(versions);
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> m = new CompactMap<>(21);
            m.put("op", "register-worker");
            m.put("reply", false);
            m.put("address", address);
            m.put("status", "init");
            if (g.registersWorkerData()) {
                m.put("keys", List.of());
            }
            m.put("nthreads", (long) nthreads);
            m.put("name", name);
            if (g.registersWorkerData()) {
                m.put("nbytes", Map.of());
                m.put("types", Map.of());
            }
            m.put("now", now);
            m.put("resources", resources);
            m.put("memory_limit", memoryLimit);
            m.put("local_directory", localDirectory);
            m.put("services", services);
            m.put("nanny", nanny);
            m.put("pid", pid);
            m.put("versions", versions);
            m.put("metrics", metrics);
            m.put("extra", extra);
            m.put("stimulus_id", stimulusId);
            m.put("server_id", serverId);
            return m;
        }

        /**
         * The scheduler's answer on the new stream: {@code status} "OK" or "error" (then
         * {@code message} says why); {@code heartbeatInterval} in seconds; {@code workerPlugins}
         * name to pickled plugin (2024's scheduler sends its shuffle plugin; cloudviper has none).
         */
        public record Reply(String status, double time, double heartbeatInterval, Map<?, ?> workerPlugins,
                            String message, String warning) implements DaskMessage {
            public static Reply ok(double time, double heartbeatInterval) {
                return new Reply("OK", time, heartbeatInterval, Map.of(), null, "");
            }

            public static Reply error(double time, String message) {
                return new Reply("error", time, Double.NaN, Map.of(), message, null);
            }

            public static Reply decode(Object reply) {
                Map<?, ?> m = reply instanceof Map<?, ?> mm ? mm : Map.of();
                return new Reply(Fields.str(m, "status"), Fields.dbl(m, "time", Double.NaN),
                        Fields.dbl(m, "heartbeat-interval", 0.5), Fields.map(m, "worker-plugins"),
                        Fields.str(m, "message"), Fields.str(m, "warning"));
            }

            public boolean isOk() {
                return "OK".equals(status);
            }

            @Override
            public Map<String, Object> encode(Generation g) {
                Map<String, Object> r = new CompactMap<>(6);
                r.put("status", status);
                if (!isOk()) {
                    r.put("message", message);
                    r.put("time", time);
                    return r;
                }
                r.put("time", time);
                r.put("heartbeat-interval", heartbeatInterval);
                r.put("worker-plugins", workerPlugins);
                r.put("warning", warning == null ? "" : warning);
                r.put("error", "");
                return r;
            }
        }
    }

    /** The worker is alive; {@code executing}: key to seconds it has run. */
    record HeartbeatWorker(String address, double now, Map<?, ?> metrics, Map<?, ?> executing, Map<?, ?> extensions)
            implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("heartbeat_worker").with("address", address).with("now", now).with("metrics", metrics)
                    .with("executing", executing).with("extensions", extensions).done();
        }

        /** "OK", or "missing" when the scheduler does not know the worker (it then shuts down). */
        public record Reply(String status, double time, double heartbeatInterval) implements DaskMessage {
            public static Reply decode(Object reply) {
                Map<?, ?> m = reply instanceof Map<?, ?> mm ? mm : Map.of();
                return new Reply(Fields.str(m, "status"), Fields.dbl(m, "time", Double.NaN),
                        Fields.dbl(m, "heartbeat-interval", Double.NaN));
            }

            public boolean isMissing() {
                return "missing".equals(status);
            }

            @Override
            public Map<String, Object> encode(Generation g) {
                Map<String, Object> r = new CompactMap<>(3);
                r.put("status", status);
                if (!isMissing()) {
                    r.put("time", time);
                    r.put("heartbeat-interval", heartbeatInterval);
                }
                return r;
            }
        }
    }

    /** The results of these keys, relayed from the workers that hold them. */
    record Gather(List<Object> keys) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("gather").with("keys", keys).done();
        }

        /** "OK" with {@code data} (key to Serialized value, in the order asked), or "error" with the {@code missing} keys. */
        public record Reply(Map<?, ?> data, List<Object> missing) implements DaskMessage {
            public static Reply ok(Map<?, ?> data) {
                return new Reply(data, null);
            }

            public static Reply missing(List<Object> keys) {
                return new Reply(null, keys);
            }

            public static Reply decode(Object reply) {
                Map<?, ?> m = reply instanceof Map<?, ?> mm ? mm : Map.of();
                return "OK".equals(m.get("status")) ? ok(Fields.map(m, "data"))
                        : missing(Fields.listOrEmpty(m.get("keys")));
            }

            public boolean isOk() {
                return missing == null;
            }

            @Override
            public Map<String, Object> encode(Generation g) {
                Map<String, Object> r = new CompactMap<>(2);
                r.put("status", isOk() ? "OK" : "error");
                if (isOk()) {
                    r.put("data", data);
                } else {
                    r.put("keys", missing);
                }
                return r;
            }
        }
    }

    /**
     * Place these (Serialized) values on workers; the reply is the list of keys. {@code timeout}:
     * seconds to wait for a worker, as the client sent it (null: Dask's default of 2).
     */
    record Scatter(Map<?, ?> data, List<String> workers, String client, boolean broadcast, Number timeout)
            implements SchedulerRequest {
        public double timeoutSeconds() {
            return timeout == null ? 2 : timeout.doubleValue();
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("scatter").with("data", data).with("workers", workers).with("client", client)
                    .with("broadcast", broadcast).with("timeout", timeout).done();
        }
    }

    /** client.cancel (2022's request form; 2024 uses the cancel-keys stream message). */
    record Cancel(List<Object> keys, String client, boolean force) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("cancel").with("keys", keys).with("client", client).with("force", force).done();
        }
    }

    /** client.retry of erred keys; the reply lists the keys retried. */
    record Retry(List<Object> keys, String client) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("retry").with("keys", keys).with("client", client).done();
        }
    }

    /** Where keys are; {@code keys} null asks for every key. */
    record WhoHas(List<Object> keys) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("who_has").with("keys", keys).done();
        }
    }

    /** What workers hold; {@code workers} null asks for every worker. */
    record HasWhat(List<String> workers) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("has_what").with("workers", workers).done();
        }
    }

    /** Threads per worker (ncores), or per running worker (ncores_running). */
    record Ncores(List<String> workers, boolean runningOnly) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request(runningOnly ? "ncores_running" : "ncores").with("workers", workers).done();
        }
    }

    /** client.publish_dataset: {@code data} is the Serialized dataset, kept opaque. */
    record PublishPut(List<Object> keys, String name, Object data, boolean override, String client)
            implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("publish_put").with("keys", keys).with("name", name).with("data", data)
                    .with("override", override).with("client", client).done();
        }
    }

    /** client.get_dataset: the reply is {data, keys}, or nil when there is no such dataset. */
    record PublishGet(String name, String client) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("publish_get").with("name", name).with("client", client).done();
        }
    }

    enum PublishList implements SchedulerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("publish_list").done();
        }
    }

    record PublishDelete(String name) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("publish_delete").with("name", name).done();
        }
    }

    /**
     * 2024: answered once the client's stream has delivered its publish_flush_batched_send of the
     * same {@code uid}, so that what the client sent on the stream before is handled.
     */
    record PublishWaitFlush(String uid) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("publish_wait_flush").with("uid", uid).done();
        }
    }

    /** A nanny asks for its plugins. */
    enum RegisterNanny implements SchedulerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("register_nanny").done();
        }
    }

    /**
     * Scheduler.retire_workers: by {@code workers} (addresses), {@code names} or {@code n} (the n
     * cheapest); at most one of the first two. The reply maps each retired address to its info.
     */
    record RetireWorkers(List<String> workers, List<Object> names, Integer n, boolean closeWorkers, boolean remove,
                         String stimulusId) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("retire_workers");
            if (workers != null) {
                b.with("workers", workers);
            }
            if (names != null) {
                b.with("names", names);
            }
            if (n != null) {
                b.with("n", (long) n);
            }
            return b.with("close_workers", closeWorkers).with("remove", remove).with("stimulus_id", stimulusId).done();
        }
    }

    /** Which {@code n} workers retire_workers(n=...) would pick. */
    record WorkersToClose(int n) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("workers_to_close").with("n", (long) n).done();
        }
    }

    /** A worker leaves the cluster on its own. */
    record Unregister(String address, String stimulusId) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("unregister").with("address", address).with("stimulus_id", stimulusId).done();
        }
    }

    /** The package versions of the scheduler (a peer of a worker asks first, to speak its generation). */
    enum Versions implements SchedulerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("versions").done();
        }
    }

    /**
     * Scheduler.get_story: the transitions of these keys, or of the tasks these stimulus ids moved,
     * as {@code (key, start, finish, recommendations, stimulus_id, timestamp)} tuples.
     */
    record GetStory(List<Object> keysOrStimuli) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("get_story").with("keys_or_stimuli", keysOrStimuli).done();
        }
    }

    /**
     * Scheduler.broadcast: send {@code msg} (a request of a worker's handlers) to every worker, or
     * those named, and reply {address: reply}; {@code onError} "raise" (default), "return" or
     * "ignore" says what a worker's failure does.
     */
    record Broadcast(Map<?, ?> msg, List<String> workers, List<String> hosts, boolean nanny, String onError)
            implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("broadcast").with("msg", msg).with("workers", workers).with("hosts", hosts)
                    .with("nanny", nanny).with("on_error", onError == null ? "raise" : onError).done();
        }
    }

    /** Close this connection (not the scheduler). */
    enum Close implements SchedulerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("close").done();
        }
    }

    /** cloudviper's own: the scheduler's loop-turn latency histogram (bench/scripts), optionally reset. */
    record CloudviperLatency(boolean reset) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("cloudviper_latency").with("reset", reset).done();
        }
    }

    /** An op this family does not model; the server answers it with a clear error. */
    record Unknown(String op, Map<?, ?> fields) implements SchedulerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Fields.copy(fields);
        }
    }
}
