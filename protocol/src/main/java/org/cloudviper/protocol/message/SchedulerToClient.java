package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.List;
import java.util.Map;

/** Messages on a client's stream from the scheduler (distributed Client._stream_handlers). */
public sealed interface SchedulerToClient extends DaskMessage {

    static SchedulerToClient decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "scheduler stream message");
        return switch (op) {
            case "stream-start" -> new StreamStart(Fields.str(m, "warning"), Fields.str(m, "error"));
            case "key-in-memory" -> new KeyInMemory(Fields.require(m, "key", op),
                    m.get("type") instanceof byte[] b ? b : null);
            case "task-erred" -> new TaskErred(Fields.require(m, "key", op), m.get("exception"), m.get("traceback"));
            case "lost-data" -> new LostData(Fields.require(m, "key", op));
            case "cancelled-key" -> new CancelledKeys(List.of(Fields.require(m, "key", op)));
            case "cancelled-keys" -> new CancelledKeys(Fields.listOrEmpty(m.get("keys")));
            case "task-retried" -> new TaskRetried(Fields.require(m, "key", op));
            case "stream-closed" -> StreamClosed.INSTANCE;
            case "pubsub-msg" -> new PubSubMsg(CoordinationRequest.name(m), m.get("msg"));
            default -> new Unknown(op, m);
        };
    }

    /**
     * The first message of a registered client's stream; the client asserts that its first batch
     * holds exactly this one. A non-empty {@code error} makes the client raise.
     */
    record StreamStart(String warning, String error) implements SchedulerToClient {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(3);
            r.put("op", "stream-start");
            r.put("warning", warning == null ? "" : warning);
            r.put("error", error == null ? "" : error);
            return r;
        }
    }

    /** {@code type} is the pickled result class, or null when unknown (then left out, e.g. scattered data). */
    record KeyInMemory(Object key, byte[] type) implements SchedulerToClient {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(3);
            r.put("op", "key-in-memory");
            r.put("key", key);
            if (type != null) {
                r.put("type", type);
            }
            return r;
        }
    }

    /** {@code exception}/{@code traceback}: the worker's Serialized values, pickles, or text. */
    record TaskErred(Object key, Object exception, Object traceback) implements SchedulerToClient {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(4);
            r.put("op", "task-erred");
            r.put("key", key);
            r.put("exception", exception);
            r.put("traceback", traceback);
            return r;
        }
    }

    /** The only copy of {@code key}'s result is gone. */
    record LostData(Object key) implements SchedulerToClient {
        @Override
        public Map<String, Object> encode(Generation g) {
            return opKey("lost-data", key);
        }
    }

    /**
     * These keys were cancelled. 2022 has only the one-key form ({@code cancelled-key}): a message
     * for a 2022 client must hold exactly one key.
     */
    record CancelledKeys(List<Object> keys) implements SchedulerToClient {
        @Override
        public Map<String, Object> encode(Generation g) {
            if (g.cancelsKeysInBatches()) {
                Map<String, Object> r = new CompactMap<>(2);
                r.put("op", "cancelled-keys");
                r.put("keys", keys);
                return r;
            }
            if (keys.size() != 1) {
                throw new IllegalArgumentException("cancelled-key holds one key, not " + keys.size());
            }
            return opKey("cancelled-key", keys.get(0));
        }
    }

    /** {@code client.retry} put the task back to be computed. */
    record TaskRetried(Object key) implements SchedulerToClient {
        @Override
        public Map<String, Object> encode(Generation g) {
            return opKey("task-retried", key);
        }
    }

    /** The scheduler closes the stream (answers close-stream). */
    enum StreamClosed implements SchedulerToClient {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Map.of("op", "stream-closed");
        }
    }

    /** A Pub's message on a topic this client subscribes to (pubsub.py; {@code msg} as the Pub sent it). */
    record PubSubMsg(Object name, Object msg) implements SchedulerToClient {
        @Override
        public Map<String, Object> encode(Generation g) {
            return CoordinationStream.pubSubMsg(name, msg);
        }
    }

    record Unknown(String op, Map<?, ?> fields) implements SchedulerToClient {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Fields.copy(fields);
        }
    }

    private static Map<String, Object> opKey(String op, Object key) {
        Map<String, Object> r = new CompactMap<>(2);
        r.put("op", op);
        r.put("key", key);
        return r;
    }
}
