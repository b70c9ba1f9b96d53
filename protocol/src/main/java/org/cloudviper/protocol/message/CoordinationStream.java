package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.Map;

/**
 * What clients and workers send on their streams to the scheduler's coordination extensions
 * (distributed/variable.py, queues.py, pubsub.py). Dask's
 * stream handlers get the sender as {@code client=} or {@code worker=}; here the server knows it
 * from the stream, so the records hold only the message's own fields.
 */
public sealed interface CoordinationStream extends DaskMessage {

    /** The message of {@code m}, or null when its op is none of these. */
    static CoordinationStream decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "stream message");
        return switch (op) {
            case "variable-future-release", "variable-future-received-confirm" -> new VariableFutureReceived(
                    CoordinationRequest.name(m), m.get("key"), Fields.str(m, "token"));
            case "variable_delete" -> new VariableDelete(CoordinationRequest.name(m));
            case "queue-future-release" -> new QueueFutureRelease(CoordinationRequest.name(m), m.get("key"));
            case "queue_release" -> new QueueRelease(CoordinationRequest.name(m));
            case "pubsub-add-subscriber" -> new PubSubAddSubscriber(CoordinationRequest.name(m));
            case "pubsub-remove-subscriber" -> new PubSubRemoveSubscriber(CoordinationRequest.name(m));
            case "pubsub-remove-publisher" -> new PubSubRemovePublisher(CoordinationRequest.name(m));
            case "pubsub-msg" -> new PubSubMsg(CoordinationRequest.name(m), m.get("msg"));
            default -> null;
        };
    }

    /**
     * A client got a variable's future and holds it now: the variable's pending release of an older
     * value may go on. 2022.12 and 2024.1 call it variable-future-release (their client also sends
     * client-desires-keys itself); 2024.12 variable-future-received-confirm, and the scheduler makes
     * the client want the key ({@link Generation#confirmsVariableFutures}).
     */
    record VariableFutureReceived(Object name, Object key, String token) implements CoordinationStream {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(4);
            r.put("op", g.confirmsVariableFutures() ? "variable-future-received-confirm" : "variable-future-release");
            r.put("name", name);
            r.put("key", key);
            r.put("token", token);
            return r;
        }
    }

    /** Variable.delete: the variable and its hold on a future's key go. */
    record VariableDelete(Object name) implements CoordinationStream {
        @Override
        public Map<String, Object> encode(Generation g) {
            return opName("variable_delete", name);
        }
    }

    /** A client took a future out of the queue and holds it now; the queue's hold on the key goes. */
    record QueueFutureRelease(Object name, Object key) implements CoordinationStream {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(3);
            r.put("op", "queue-future-release");
            r.put("name", name);
            r.put("key", key);
            return r;
        }
    }

    /** Queue.close of one client: the queue goes with its last client. */
    record QueueRelease(Object name) implements CoordinationStream {
        @Override
        public Map<String, Object> encode(Generation g) {
            return opName("queue_release", name);
        }
    }

    /** A Sub of the topic started on the sending client or worker. */
    record PubSubAddSubscriber(Object name) implements CoordinationStream {
        @Override
        public Map<String, Object> encode(Generation g) {
            return opName("pubsub-add-subscriber", name);
        }
    }

    record PubSubRemoveSubscriber(Object name) implements CoordinationStream {
        @Override
        public Map<String, Object> encode(Generation g) {
            return opName("pubsub-remove-subscriber", name);
        }
    }

    record PubSubRemovePublisher(Object name) implements CoordinationStream {
        @Override
        public Map<String, Object> encode(Generation g) {
            return opName("pubsub-remove-publisher", name);
        }
    }

    /** A Pub's message ({@code msg}: a Serialized sub-object) to relay to the topic's subscribers. */
    record PubSubMsg(Object name, Object msg) implements CoordinationStream {
        @Override
        public Map<String, Object> encode(Generation g) {
            return CoordinationStream.pubSubMsg(name, msg);
        }
    }

    /** pubsub-msg as every stream carries it: client and worker to scheduler, scheduler to both. */
    static Map<String, Object> pubSubMsg(Object name, Object msg) {
        Map<String, Object> r = new CompactMap<>(3);
        r.put("op", "pubsub-msg");
        r.put("name", name);
        r.put("msg", msg);
        return r;
    }

    private static Map<String, Object> opName(String op, Object name) {
        Map<String, Object> r = new CompactMap<>(2);
        r.put("op", op);
        r.put("name", name);
        return r;
    }
}
