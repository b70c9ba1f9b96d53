package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.message.CoordinationRequest;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.scheduler.state.Outbox;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Dask's Pub/Sub (distributed/pubsub.py PubSubSchedulerExtension): the scheduler introduces worker
 * Pubs to worker Subs of a topic (they then talk directly), tells worker Pubs whether clients
 * subscribe (then they also send to the scheduler), and relays messages to client Subs, and from
 * client Pubs to worker Subs. Messages are relayed as they came. Unlike Dask, a worker or client
 * that leaves is taken off every topic at once, not when a send to it fails.
 */
public final class PubSub {
    private final Outbox out;
    /** topic -> workers with a Pub of it. */
    private final Map<Object, Set<String>> publishers = new HashMap<>();
    /** topic -> workers with a Sub of it. */
    private final Map<Object, Set<String>> subscribers = new HashMap<>();
    /** topic -> clients with a Sub of it. */
    private final Map<Object, Set<String>> clientSubscribers = new HashMap<>();

    public PubSub(Outbox out) {
        this.out = out;
    }

    /** pubsub_add_publisher: the worker's Pub learns the topic's worker Subs and whether clients listen. */
    public void addPublisher(Object name, String worker, Reply reply) {
        publishers.computeIfAbsent(name, n -> new LinkedHashSet<>()).add(worker);
        reply.send(new CoordinationRequest.PubSubAddPublisher.Reply(
                new ArrayList<>(subscribers.getOrDefault(name, Set.of())),
                !clientSubscribers.getOrDefault(name, Set.of()).isEmpty()).encode(Generation.DASK_2022));
    }

    /** pubsub-add-subscriber from a worker ({@code worker}) or a client ({@code client}). */
    public void addSubscriber(Object name, String worker, String client) {
        if (worker != null) {
            subscribers.computeIfAbsent(name, n -> new LinkedHashSet<>()).add(worker);
            for (String pub : publishers.getOrDefault(name, Set.of())) {
                out.toWorker(pub, new SchedulerToWorker.PubSubSubscriber(name, worker, true));
            }
        } else if (client != null) {
            for (String pub : publishers.getOrDefault(name, Set.of())) {
                out.toWorker(pub, new SchedulerToWorker.PubSubPublishScheduler(name, true));
            }
            clientSubscribers.computeIfAbsent(name, n -> new LinkedHashSet<>()).add(client);
        }
    }

    public void removePublisher(Object name, String worker) {
        Set<String> pubs = publishers.get(name);
        if (pubs != null && pubs.remove(worker)) {
            cleanup(name);
        }
    }

    public void removeSubscriber(Object name, String worker, String client) {
        if (worker != null) {
            Set<String> subs = subscribers.get(name);
            if (subs != null && subs.remove(worker)) {
                for (String pub : publishers.getOrDefault(name, Set.of())) {
                    out.toWorker(pub, new SchedulerToWorker.PubSubSubscriber(name, worker, false));
                }
            }
        } else if (client != null) {
            Set<String> subs = clientSubscribers.get(name);
            if (subs != null && subs.remove(client) && subs.isEmpty()) {
                clientSubscribers.remove(name);
                for (String pub : publishers.getOrDefault(name, Set.of())) {
                    out.toWorker(pub, new SchedulerToWorker.PubSubPublishScheduler(name, false));
                }
            }
        }
        cleanup(name);
    }

    /**
     * pubsub-msg from a worker Pub (to client Subs) or a client Pub (to client and worker Subs).
     * {@code msg} must stay valid until the stream writes (the server hands a detached copy).
     */
    public void message(Object name, Object msg, String worker, String client) {
        for (String c : clientSubscribers.getOrDefault(name, Set.of())) {
            out.toClient(c, new SchedulerToClient.PubSubMsg(name, msg));
        }
        if (client != null) {
            for (String w : subscribers.getOrDefault(name, Set.of())) {
                out.toWorker(w, new SchedulerToWorker.PubSubMsg(name, msg));
            }
        }
    }

    /** A worker left: off every topic, as Pub and as Sub (the other Pubs are told). */
    public void workerRemoved(String worker) {
        for (Object name : new ArrayList<>(publishers.keySet())) {
            removePublisher(name, worker);
        }
        for (Object name : new ArrayList<>(subscribers.keySet())) {
            removeSubscriber(name, worker, null);
        }
    }

    /** A client left: its Subs are gone. */
    public void clientRemoved(String client) {
        for (Object name : new ArrayList<>(clientSubscribers.keySet())) {
            removeSubscriber(name, null, client);
        }
    }

    /** Topics known (for tests). */
    public List<Object> topics() {
        Set<Object> all = new LinkedHashSet<>(publishers.keySet());
        all.addAll(subscribers.keySet());
        all.addAll(clientSubscribers.keySet());
        return new ArrayList<>(all);
    }

    private void cleanup(Object name) {
        if (publishers.getOrDefault(name, Set.of()).isEmpty() && subscribers.getOrDefault(name, Set.of()).isEmpty()) {
            publishers.remove(name);
            subscribers.remove(name);
        }
    }
}
