package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.MessageCodec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Dask's structured events (Scheduler.log_event, get_events, subscribe_topic): each topic keeps its
 * last {@link #PER_TOPIC} {@code (time, msg)} pairs ({@code distributed.scheduler.events-log-length}),
 * and every client subscribed to a topic gets {@code {op: "event", topic, event}} on its stream as
 * an event is logged. Events come from clients (log_event) and from workers (the log-event stream
 * message, msg tagged with the worker). Used on the event loop only.
 */
final class EventTopics {
    static final int PER_TOPIC = 100_000;

    private final Peers peers;
    private final StreamBatcher batcher;
    private final Map<Object, ArrayDeque<List<Object>>> topics = new LinkedHashMap<>();
    private final Map<Object, Set<String>> subscribers = new LinkedHashMap<>();

    EventTopics(Peers peers, StreamBatcher batcher) {
        this.peers = peers;
        this.batcher = batcher;
    }

    /** {@code msg} (retained here) under a topic or a list of topics, at {@code now}. */
    void log(Object topic, Object msg, double now) {
        List<?> names = topic instanceof List<?> l ? l : Collections.singletonList(topic);
        for (Object t : names) {
            ArrayDeque<List<Object>> q = topics.computeIfAbsent(t, x -> new ArrayDeque<>());
            if (q.size() == PER_TOPIC) {
                MessageCodec.release(q.removeFirst());
            }
            MessageCodec.retain(msg);
            List<Object> event = Arrays.asList(now, msg);
            q.addLast(event);
            for (String client : subscribers.getOrDefault(t, Set.of())) {
                Peer p = peers.client(client);
                if (p != null) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("op", "event");
                    m.put("topic", t);
                    m.put("event", event);
                    batcher.queue(p, m);
                }
            }
        }
    }

    /** A worker's log-event: a map message is tagged with the worker, as Scheduler.log_worker_event does. */
    @SuppressWarnings("unchecked")
    void logFromWorker(String worker, Object topic, Object msg, double now) {
        Object m = msg;
        if (msg instanceof Map<?, ?> map) {
            Map<Object, Object> tagged = new LinkedHashMap<>((Map<Object, Object>) map);
            tagged.put("worker", worker);
            m = tagged;
        }
        log(topic, m, now);
    }

    void subscribe(String client, Object topic, boolean subscribe) {
        if (subscribe) {
            subscribers.computeIfAbsent(topic, t -> new LinkedHashSet<>()).add(client);
        } else if (subscribers.containsKey(topic)) {
            subscribers.get(topic).remove(client);
        }
    }

    /** Scheduler.get_events: a topic's (time, msg) pairs, or {topic: pairs} for every topic. */
    Object events(Object topic) {
        if (topic != null) {
            ArrayDeque<List<Object>> q = topics.get(topic);
            return q == null ? List.of() : new ArrayList<>(q);
        }
        Map<Object, Object> r = new LinkedHashMap<>();
        topics.forEach((t, q) -> r.put(t, new ArrayList<>(q)));
        return r;
    }
}
