package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.List;
import java.util.Map;

/**
 * Messages on a worker's stream from the scheduler (distributed Worker.stream_handlers and the
 * {@code *Event} classes of worker_state_machine.py, which a Python worker builds from exactly these
 * fields: a field it does not know is an error there, so each generation gets its own field set).
 */
public sealed interface SchedulerToWorker extends DaskMessage {

    /** The message of {@code m} for any generation; an op this family does not know is {@link Unknown}. */
    static SchedulerToWorker decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "scheduler stream message");
        String sid = Fields.str(m, "stimulus_id");
        return switch (op) {
            case "compute-task" -> ComputeTask.decode(m, sid);
            case "free-keys" -> new FreeKeys(Fields.listOrEmpty(m.get("keys")), sid);
            case "remove-replicas" -> new RemoveReplicas(Fields.listOrEmpty(m.get("keys")), sid);
            case "acquire-replicas" -> new AcquireReplicas(Fields.whoHas(m.get("who_has")),
                    Fields.nbytes(m.get("nbytes"), ComputeTask.UNKNOWN_NBYTES), sid);
            case "refresh-who-has" -> new RefreshWhoHas(Fields.whoHas(m.get("who_has")), sid);
            case "steal-request" -> new StealRequest(m.get("key"), sid);
            case "cancel-compute" -> new CancelCompute(m.get("key"), sid);
            case "worker-status-change" -> new WorkerStatusChange(Fields.str(m, "status"), sid);
            case "close" -> new Close(Fields.str(m, "reason"));
            case "pubsub-add-subscriber" -> new PubSubSubscriber(CoordinationRequest.name(m),
                    Fields.str(m, "address"), true);
            case "pubsub-remove-subscriber" -> new PubSubSubscriber(CoordinationRequest.name(m),
                    Fields.str(m, "address"), false);
            case "pubsub-publish-scheduler" -> new PubSubPublishScheduler(CoordinationRequest.name(m),
                    Fields.bool(m, "publish"));
            case "pubsub-msg" -> new PubSubMsg(CoordinationRequest.name(m), m.get("msg"));
            default -> new Unknown(op, m);
        };
    }

    /**
     * Run {@code key}. {@code priority} is Dask's (-user priority, generation, order);
     * {@code whoHas}/{@code nbytes} cover the task's dependencies; {@code runId} is -1 and
     * {@code spanId} null where the generation has none.
     */
    record ComputeTask(Object key, long runId, List<Number> priority, double duration, String stimulusId,
                       Map<Object, List<String>> whoHas, Map<Object, Long> nbytes, RunSpec spec,
                       Map<String, ?> resourceRestrictions, boolean actor, Map<String, ?> annotations,
                       String spanId)
            implements SchedulerToWorker {
        /** What a dependency of unknown size counts as (distributed.scheduler.default-data-size). */
        public static final long UNKNOWN_NBYTES = 1024;

        static ComputeTask decode(Map<?, ?> m, String sid) {
            Object spec = m.get("run_spec");
            RunSpec s = m.containsKey("function")
                    ? new RunSpec(m.get("function"), m.get("args"), m.get("kwargs"), spec) : RunSpec.of(spec);
            List<Object> p = Fields.listOrEmpty(m.get("priority"));
            Number[] priority = new Number[p.size()];
            for (int i = 0; i < priority.length; i++) {
                priority[i] = p.get(i) instanceof Number n ? n : 0L;
            }
            Map<Object, List<String>> whoHas = Fields.whoHas(m.get("who_has"));
            Map<Object, Long> nbytes = Fields.nbytes(m.get("nbytes"), UNKNOWN_NBYTES);
            for (Object k : whoHas.keySet()) {
                nbytes.putIfAbsent(k, UNKNOWN_NBYTES);
            }
            return new ComputeTask(Fields.require(m, "key", "compute-task"), Fields.lng(m, "run_id", -1),
                    List.of(priority), Fields.dbl(m, "duration", 0.5), sid, whoHas, nbytes, s,
                    cast(Fields.map(m, "resource_restrictions")), Fields.bool(m, "actor"), cast(Fields.map(m, "annotations")),
                    Fields.str(m, "span_id"));
        }

        @SuppressWarnings("unchecked")
        private static Map<String, ?> cast(Map<?, ?> m) {
            return (Map<String, ?>) m;
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(16);
            r.put("op", "compute-task");
            r.put("key", key);
            if (g.hasRunIds()) {
                r.put("run_id", runId);
            }
            r.put("priority", priority);
            r.put("duration", duration);
            r.put("stimulus_id", stimulusId);
            r.put("who_has", whoHas);
            r.put("nbytes", nbytes);
            r.put("run_spec", spec.runSpec());
            if (g.sendsTaskAsRunSpecOnly()) {
                // 2024 reads "no restrictions" as None (Worker.handle_compute_task's default)
                r.put("resource_restrictions", resourceRestrictions.isEmpty() ? null : resourceRestrictions);
                r.put("actor", actor);
                r.put("annotations", annotations);
                r.put("span_id", spanId);
            } else {
                r.put("function", spec.function());
                r.put("args", spec.args());
                r.put("kwargs", spec.kwargs());
                r.put("resource_restrictions", resourceRestrictions);
                r.put("actor", actor);
                r.put("annotations", annotations);
            }
            return r;
        }
    }

    /** Forget these keys: drop their data, or stop computing them. */
    record FreeKeys(List<Object> keys, String stimulusId) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            return op3("free-keys", "keys", keys, stimulusId);
        }
    }

    /** Drop these replicas unless a task here still needs them. */
    record RemoveReplicas(List<Object> keys, String stimulusId) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            return op3("remove-replicas", "keys", keys, stimulusId);
        }
    }

    /** Fetch replicas of these keys from the named workers (retirement, replicate). */
    record AcquireReplicas(Map<Object, List<String>> whoHas, Map<Object, Long> nbytes, String stimulusId)
            implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(4);
            r.put("op", "acquire-replicas");
            r.put("who_has", whoHas);
            r.put("nbytes", nbytes);
            r.put("stimulus_id", stimulusId);
            return r;
        }
    }

    /** Where keys are now (the answer to request-refresh-who-has). */
    record RefreshWhoHas(Map<Object, List<String>> whoHas, String stimulusId) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            return op3("refresh-who-has", "who_has", whoHas, stimulusId);
        }
    }

    /** Give {@code key} up if it has not started; the worker always answers with steal-response. */
    record StealRequest(Object key, String stimulusId) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            return op3("steal-request", "key", key, stimulusId);
        }
    }

    /** Best-effort cancel of a task that has not started. */
    record CancelCompute(Object key, String stimulusId) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            return op3("cancel-compute", "key", key, stimulusId);
        }
    }

    /** "closing_gracefully" while a worker retires, "running" when that is called off, "paused". */
    record WorkerStatusChange(String status, String stimulusId) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            return op3("worker-status-change", "status", status, stimulusId);
        }
    }

    /** The scheduler is done with this worker. */
    record Close(String reason) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(2);
            r.put("op", "close");
            r.put("reason", reason);
            return r;
        }
    }

    /**
     * A worker subscriber of topic {@code name} at {@code address} came ({@code add}) or went: the
     * Pubs of this worker send to it directly (pubsub.py PubSubWorkerExtension).
     */
    record PubSubSubscriber(Object name, String address, boolean add) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(3);
            r.put("op", add ? "pubsub-add-subscriber" : "pubsub-remove-subscriber");
            r.put("address", address);
            r.put("name", name);
            return r;
        }
    }

    /** Whether this worker's Pubs of {@code name} also send to the scheduler (a client subscribes). */
    record PubSubPublishScheduler(Object name, boolean publish) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(3);
            r.put("op", "pubsub-publish-scheduler");
            r.put("name", name);
            r.put("publish", publish);
            return r;
        }
    }

    /** A client Pub's message, relayed to a worker subscriber of the topic. */
    record PubSubMsg(Object name, Object msg) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            return CoordinationStream.pubSubMsg(name, msg);
        }
    }

    /** An op this family does not model; kept whole so that it can be logged or relayed. */
    record Unknown(String op, Map<?, ?> fields) implements SchedulerToWorker {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Fields.copy(fields);
        }
    }

    private static Map<String, Object> op3(String op, String field, Object value, String stimulusId) {
        Map<String, Object> r = new CompactMap<>(3);
        r.put("op", op);
        r.put(field, value);
        r.put("stimulus_id", stimulusId);
        return r;
    }
}
