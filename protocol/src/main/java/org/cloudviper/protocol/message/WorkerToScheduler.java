package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.List;
import java.util.Map;

/**
 * Messages on a worker's stream to the scheduler (distributed Scheduler.stream_handlers; a Python
 * worker writes them with worker_state_machine.py {@code *Msg.to_dict}: the dataclass fields, then
 * {@code op} and {@code stimulus_id}, which is the order encoded here).
 */
public sealed interface WorkerToScheduler extends DaskMessage {
    /** The stimulus that caused this message (null for keep-alive). */
    String stimulusId();

    static WorkerToScheduler decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "worker stream message");
        String sid = Fields.str(m, "stimulus_id");
        return switch (op) {
            case "task-finished" -> new TaskFinished(Fields.require(m, "key", op), Fields.lng(m, "nbytes", -1),
                    m.get("type") instanceof byte[] b ? b : null, Fields.str(m, "typename"),
                    Fields.map(m, "metadata"), m.get("thread") instanceof Number n ? n.longValue() : null,
                    StartStop.decode(m.get("startstops")), Fields.lng(m, "run_id", -1), sid);
            case "task-erred" -> new TaskErred(Fields.require(m, "key", op), m.get("exception"), m.get("traceback"),
                    Fields.str(m, "exception_text"), Fields.str(m, "traceback_text"),
                    m.get("thread") instanceof Number n ? n.longValue() : null, StartStop.decode(m.get("startstops")),
                    Fields.lng(m, "run_id", -1), sid);
            case "release-worker-data" -> new ReleaseWorkerData(Fields.require(m, "key", op), sid);
            case "add-keys" -> new AddKeys(Fields.listOrEmpty(m.get("keys")), sid);
            case "long-running" -> new LongRunning(Fields.require(m, "key", op),
                    m.get("compute_duration") instanceof Number n ? n.doubleValue() : null, sid);
            case "reschedule" -> new Reschedule(Fields.require(m, "key", op), sid);
            case "worker-status-change" -> new WorkerStatusChange(Fields.requireStr(m, "status", op), sid);
            case "request-refresh-who-has" -> new RequestRefreshWhoHas(Fields.listOrEmpty(m.get("keys")), sid);
            case "steal-response" -> new StealResponse(Fields.require(m, "key", op), Fields.str(m, "state"), sid);
            case "keep-alive" -> KeepAlive.INSTANCE;
            default -> new Unknown(op, m);
        };
    }

    /**
     * The task's result is in this worker's memory. {@code type} is the pickled class (null when
     * unknown), {@code thread} the compute thread's id, {@code runId} -1 where the generation has none.
     */
    record TaskFinished(Object key, long nbytes, byte[] type, String typename, Map<?, ?> metadata, Long thread,
                        List<StartStop> startstops, long runId, String stimulusId) implements WorkerToScheduler {
        /** How long the task computed, NaN when the worker did not say. */
        public double computeSeconds() {
            return StartStop.computeSeconds(startstops);
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(11);
            r.put("key", key);
            if (g.hasRunIds()) {
                r.put("run_id", runId);
            }
            r.put("nbytes", nbytes);
            r.put("type", type);
            r.put("typename", typename == null ? "object" : typename);
            r.put("metadata", metadata == null ? Map.of() : metadata);
            r.put("thread", thread);
            r.put("startstops", StartStop.encode(startstops));
            r.put("op", "task-finished");
            r.put("stimulus_id", stimulusId);
            r.put("status", "OK");
            return r;
        }
    }

    /**
     * The task raised. {@code exception}/{@code traceback} are Serialized sub-objects (or plain text
     * from a peer that sends text); the {@code _text} fields are what a person reads.
     */
    record TaskErred(Object key, Object exception, Object traceback, String exceptionText, String tracebackText,
                     Long thread, List<StartStop> startstops, long runId, String stimulusId)
            implements WorkerToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(12);
            r.put("key", key);
            if (g.hasRunIds()) {
                r.put("run_id", runId);
            }
            r.put("exception", exception);
            r.put("traceback", traceback);
            r.put("exception_text", exceptionText);
            r.put("traceback_text", tracebackText);
            r.put("thread", thread);
            r.put("startstops", StartStop.encode(startstops));
            r.put("op", "task-erred");
            r.put("stimulus_id", stimulusId);
            r.put("status", "error");
            return r;
        }
    }

    /** This worker no longer holds {@code key}. */
    record ReleaseWorkerData(Object key, String stimulusId) implements WorkerToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            return fieldOpSid("key", key, "release-worker-data", stimulusId);
        }
    }

    /** This worker now holds replicas of {@code keys}. */
    record AddKeys(List<Object> keys, String stimulusId) implements WorkerToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            return fieldOpSid("keys", keys, "add-keys", stimulusId);
        }
    }

    /** The task seceded from its thread (long-running); {@code computeDuration} may be null. */
    record LongRunning(Object key, Double computeDuration, String stimulusId) implements WorkerToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(4);
            r.put("key", key);
            r.put("compute_duration", computeDuration);
            r.put("op", "long-running");
            r.put("stimulus_id", stimulusId);
            return r;
        }
    }

    /** The task raised Reschedule: run it elsewhere. */
    record Reschedule(Object key, String stimulusId) implements WorkerToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            return fieldOpSid("key", key, "reschedule", stimulusId);
        }
    }

    /** The worker's status: "running" once registered, "paused", "closing_gracefully" echoed. */
    record WorkerStatusChange(String status, String stimulusId) implements WorkerToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(3);
            r.put("op", "worker-status-change");
            r.put("status", status);
            r.put("stimulus_id", stimulusId);
            return r;
        }
    }

    /** Where are these keys now? Answered with refresh-who-has. */
    record RequestRefreshWhoHas(List<Object> keys, String stimulusId) implements WorkerToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            return fieldOpSid("keys", keys, "request-refresh-who-has", stimulusId);
        }
    }

    /** The answer to steal-request: the state {@code key} was in (null when unknown here). */
    record StealResponse(Object key, String state, String stimulusId) implements WorkerToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(4);
            r.put("key", key);
            r.put("state", state);
            r.put("op", "steal-response");
            r.put("stimulus_id", stimulusId);
            return r;
        }
    }

    /** Sent now and then so that an idle stream is not taken for dead. */
    enum KeepAlive implements WorkerToScheduler {
        INSTANCE;

        @Override
        public String stimulusId() {
            return null;
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            return Map.of("op", "keep-alive");
        }
    }

    /** An op this family does not model (log-event, metrics of newer releases, ...). */
    record Unknown(String op, Map<?, ?> fields) implements WorkerToScheduler {
        @Override
        public String stimulusId() {
            return Fields.str(fields, "stimulus_id");
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            return Fields.copy(fields);
        }
    }

    private static Map<String, Object> fieldOpSid(String field, Object value, String op, String stimulusId) {
        Map<String, Object> r = new CompactMap<>(3);
        r.put(field, value);
        r.put("op", op);
        r.put("stimulus_id", stimulusId);
        return r;
    }
}
