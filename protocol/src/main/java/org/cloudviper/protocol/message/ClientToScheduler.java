package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.List;
import java.util.Map;

/**
 * Messages on a client's stream to the scheduler (distributed Scheduler.stream_handlers for
 * clients). Dask adds {@code client=<the stream's client>} to every handler call unless the message
 * names one itself, so {@code client} here is null when the message did not carry it.
 */
public sealed interface ClientToScheduler extends DaskMessage {

    static ClientToScheduler decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "client stream message");
        String client = Fields.str(m, "client");
        return switch (op) {
            case "update-graph-hlg" -> new UpdateGraphHlg(Fields.map(m, "hlg"), Fields.listOrEmpty(m.get("keys")),
                    m.get("priority") instanceof Map<?, ?> p ? p : null, m.get("submitting_task"),
                    m.get("fifo_timeout"), m.get("actors"), m.get("code"), client);
            case "update-graph" -> UpdateGraph.decode(m, client);
            case "client-desires-keys" -> new ClientDesiresKeys(Fields.listOrEmpty(m.get("keys")), client);
            case "client-releases-keys" -> new ClientReleasesKeys(Fields.listOrEmpty(m.get("keys")), client);
            case "cancel-keys" -> new CancelKeys(Fields.listOrEmpty(m.get("keys")), Fields.bool(m, "force"), client);
            case "report-key" -> new ReportKey(m.get("key"), client);
            case "close-client" -> new CloseClient(client);
            case "close-stream" -> CloseStream.INSTANCE;
            case "heartbeat-client" -> HeartbeatClient.INSTANCE;
            case "subscribe-topic" -> new SubscribeTopic(Fields.requireStr(m, "topic", op), client, true);
            case "unsubscribe-topic" -> new SubscribeTopic(Fields.requireStr(m, "topic", op), client, false);
            case "publish_flush_batched_send" -> new PublishFlushBatchedSend(Fields.str(m, "uid"));
            default -> new Unknown(op, m);
        };
    }

    /**
     * 2022: the client's graph as packed HighLevelGraph layers ({@code hlg}, read by the scheduler's
     * graph reader), the keys it wants, and its per-key order ({@code priority}, null when the
     * scheduler should order the graph itself).
     */
    record UpdateGraphHlg(Map<?, ?> hlg, List<Object> keys, Map<?, ?> priority, Object submittingTask,
                          Object fifoTimeout, Object actors, Object code, String client) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(9);
            r.put("op", "update-graph-hlg");
            r.put("hlg", hlg);
            r.put("keys", keys);
            r.put("priority", priority);
            r.put("submitting_task", submittingTask);
            r.put("fifo_timeout", fifoTimeout);
            r.put("actors", actors);
            r.put("code", code);
            if (client != null) {
                r.put("client", client);
            }
            return r;
        }
    }

    /**
     * 2024.1 and later: the whole graph pickled ({@code graphFrames}: the pickle, then its out-of-band
     * buffers; {@code internalPriority} the client's order by key; {@code annotations} a pickled
     * dict; {@code spanMetadata} null where the client's line sends none).
     * 2022 sends this op too, without a graph and with an empty {@code tasks}, when a future is
     * unpickled (get_dataset): then {@code graphFrames} is null and only {@code keys} matter.
     */
    record UpdateGraph(Object graphHeader, List<Object> graphFrames, List<Object> keys, Map<?, ?> internalPriority,
                       Object submittingTask, Object fifoTimeout, Object actors, Object code, Object annotations,
                       Object spanMetadata, Map<?, ?> legacyTasks, String client) implements ClientToScheduler {
        static UpdateGraph decode(Map<?, ?> m, String client) {
            return new UpdateGraph(m.get("graph_header"), Fields.list(m.get("graph_frames")),
                    Fields.listOrEmpty(m.get("keys")), m.get("internal_priority") instanceof Map<?, ?> p ? p : null,
                    m.get("submitting_task"), m.get("fifo_timeout"), m.get("actors"), m.get("code"),
                    m.get("annotations"), m.get("span_metadata"), Fields.map(m, "tasks"), client);
        }

        /** Whether this carries a pickled graph (else it is 2022's task-less form). */
        public boolean hasGraph() {
            return graphHeader != null || graphFrames != null;
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(12);
            r.put("op", "update-graph");
            if (!hasGraph()) {
                r.put("tasks", legacyTasks == null ? Map.of() : legacyTasks);
                r.put("keys", keys);
                r.put("client", client);
                return r;
            }
            r.put("graph_header", graphHeader);
            r.put("graph_frames", graphFrames);
            r.put("keys", g.updateGraphKeysAsSet() ? Fields.set(keys) : keys);
            r.put("internal_priority", internalPriority);
            r.put("submitting_task", submittingTask);
            r.put("fifo_timeout", fifoTimeout);
            r.put("actors", actors);
            r.put("code", code);
            r.put("annotations", annotations);
            if (g.updateGraphHasSpanMetadata()) {
                r.put("span_metadata", spanMetadata);
            }
            return r;
        }
    }

    /** The client (or "fire-and-forget") wants these keys' results. */
    record ClientDesiresKeys(List<Object> keys, String client) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            return keysAndClient("client-desires-keys", keys, client);
        }
    }

    /** The client dropped its last future of these keys. */
    record ClientReleasesKeys(List<Object> keys, String client) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            return keysAndClient("client-releases-keys", keys, client);
        }
    }

    /** 2024's stream form of cancel. */
    record CancelKeys(List<Object> keys, boolean force, String client) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(3);
            r.put("op", "cancel-keys");
            r.put("keys", keys);
            r.put("force", force);
            return r;
        }
    }

    /** Tell the client again where {@code key} stands (a future created for a key already known). */
    record ReportKey(Object key, String client) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(2);
            r.put("op", "report-key");
            r.put("key", key);
            return r;
        }
    }

    /** The client is leaving; its wanted keys are released. */
    record CloseClient(String client) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Map.of("op", "close-client");
        }
    }

    /** The end of the stream; the scheduler answers stream-closed and closes it. */
    enum CloseStream implements ClientToScheduler {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Map.of("op", "close-stream");
        }
    }

    /** The client is alive (every few seconds; no reply). */
    enum HeartbeatClient implements ClientToScheduler {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Map.of("op", "heartbeat-client");
        }
    }

    /** Subscribe to (or unsubscribe from) a topic of events (every client asks for "print" and "warn"). */
    record SubscribeTopic(String topic, String client, boolean subscribe) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(3);
            r.put("op", subscribe ? "subscribe-topic" : "unsubscribe-topic");
            r.put("topic", topic);
            r.put("client", client);
            return r;
        }
    }

    /** 2024: marks the point in the stream that publish_wait_flush of the same {@code uid} waits for. */
    record PublishFlushBatchedSend(String uid) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(2);
            r.put("op", "publish_flush_batched_send");
            r.put("uid", uid);
            return r;
        }
    }

    /** An op this family does not model. */
    record Unknown(String op, Map<?, ?> fields) implements ClientToScheduler {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Fields.copy(fields);
        }
    }

    private static Map<String, Object> keysAndClient(String op, List<Object> keys, String client) {
        Map<String, Object> r = new CompactMap<>(3);
        r.put("op", op);
        r.put("keys", keys);
        if (client != null) {
            r.put("client", client);
        }
        return r;
    }
}
