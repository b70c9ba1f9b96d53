package org.cloudviper.scheduler.server;

import io.netty.channel.EventLoop;
import org.cloudviper.protocol.message.CoordinationRequest;
import org.cloudviper.protocol.message.CoordinationStream;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.scheduler.state.coordination.Coordination;
import org.cloudviper.scheduler.state.coordination.Reply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The wire side of the coordination primitives ({@link Coordination}): decodes their requests and
 * stream messages, answers through {@link PeerReply}, and wakes the primitives when a timeout or a
 * lease may have run out (a timer per waiting request, and a tick every second for leases).
 */
final class CoordinationCalls {
    private static final Logger log = LoggerFactory.getLogger(CoordinationCalls.class);
    /** How often lapsed semaphore leases are looked for (Dask: lease-validation-interval, 10 s). */
    private static final long LEASE_TICK_MS = 1_000;
    /**
     * Seconds a semaphore lease of a 2022 client lives without a refresh (Dask's
     * distributed.scheduler.locks.lease-timeout; 2024 clients send their own).
     */
    static final double LEASE_TIMEOUT_S = 30;

    private final Coordination coordination;
    private final EventLoop loop;
    private final WorkerCalls workerCalls;

    CoordinationCalls(Coordination coordination, EventLoop loop, WorkerCalls workerCalls) {
        this.coordination = coordination;
        this.loop = loop;
        this.workerCalls = workerCalls;
        loop.scheduleAtFixedRate(() -> {
            if (coordination.semaphores().hasLeases()) {
                expire();
            }
        }, LEASE_TICK_MS, LEASE_TICK_MS, TimeUnit.MILLISECONDS);
    }

    Coordination coordination() {
        return coordination;
    }

    /** Handles the request if it is a coordination primitive's; false if it is not. */
    boolean handle(Peer peer, Map<?, ?> fields, Consumer<Object> answer) {
        CoordinationRequest request = CoordinationRequest.decode(fields, peer.generation);
        if (request == null) {
            return false;
        }
        if (request instanceof CoordinationRequest.Proxy p) {
            proxy(p, answer);
            return true;
        }
        double now = RequestHandlers.now();
        Reply reply = new PeerReply(peer, answer);
        Double timeout = null;
        if (request instanceof CoordinationRequest.VariableSet r) {
            coordination.variables().set(r, reply, now);
        } else if (request instanceof CoordinationRequest.VariableGet r) {
            coordination.variables().get(r, r.client() != null ? r.client() : peer.id, reply, now);
            timeout = r.timeout();
        } else if (request instanceof CoordinationRequest.QueueCreate r) {
            coordination.queues().create(r, reply);
        } else if (request instanceof CoordinationRequest.QueuePut r) {
            coordination.queues().put(r, reply, now);
            timeout = r.timeout();
        } else if (request instanceof CoordinationRequest.QueueGet r) {
            coordination.queues().get(r, reply, now);
            timeout = r.timeout();
        } else if (request instanceof CoordinationRequest.QueueQsize r) {
            coordination.queues().qsize(r.name(), reply);
        } else if (request instanceof CoordinationRequest.LockAcquire r) {
            coordination.locks().acquire(r, reply, now);
            timeout = r.timeout();
        } else if (request instanceof CoordinationRequest.LockRelease r) {
            coordination.locks().release(r, reply);
        } else if (request instanceof CoordinationRequest.MultiLockAcquire r) {
            coordination.multiLocks().acquire(r, reply, now);
            timeout = r.timeout();
        } else if (request instanceof CoordinationRequest.MultiLockRelease r) {
            coordination.multiLocks().release(r.id(), reply);
        } else if (request instanceof CoordinationRequest.SemaphoreRegister r) {
            coordination.semaphores().register(r, reply);
        } else if (request instanceof CoordinationRequest.SemaphoreAcquire r) {
            coordination.semaphores().acquire(r, reply, now);
            timeout = r.timeout();
        } else if (request instanceof CoordinationRequest.SemaphoreRelease r) {
            coordination.semaphores().release(r, reply, now);
        } else if (request instanceof CoordinationRequest.SemaphoreClose r) {
            coordination.semaphores().close(r.name(), reply);
        } else if (request instanceof CoordinationRequest.SemaphoreRefreshLeases r) {
            coordination.semaphores().refresh(r, reply, now);
        } else if (request instanceof CoordinationRequest.SemaphoreValue r) {
            coordination.semaphores().value(r.name(), reply);
        } else if (request instanceof CoordinationRequest.EventWait r) {
            coordination.events().waitFor(r, reply, now);
            timeout = r.timeout();
        } else if (request instanceof CoordinationRequest.EventSet r) {
            coordination.events().set(r.name(), reply);
        } else if (request instanceof CoordinationRequest.EventClear r) {
            coordination.events().clear(r.name(), reply);
        } else if (request instanceof CoordinationRequest.EventIsSet r) {
            coordination.events().isSet(r.name(), reply);
        } else if (request instanceof CoordinationRequest.PubSubAddPublisher r) {
            coordination.pubSub().addPublisher(r.name(), r.worker() != null ? r.worker() : peer.id, reply);
        }
        for (String w : coordination.semaphores().takeWarnings()) {
            log.warn(w);
        }
        if (timeout != null && timeout > 0 && Double.isFinite(timeout)) {
            loop.schedule(this::expire, (long) Math.ceil(timeout * 1000) + 1, TimeUnit.MILLISECONDS);
        }
        return true;
    }

    /** Scheduler.proxy: a broadcast to the one worker, answered with that worker's answer. */
    private void proxy(CoordinationRequest.Proxy p, Consumer<Object> answer) {
        if (p.worker() == null) {
            answer.accept(PeerReply.error("ValueError", "proxy without a worker"));
            return;
        }
        workerCalls.broadcast(new SchedulerRequest.Broadcast(p.msg(), List.of(p.worker()), null, false, "raise"),
                r -> answer.accept(r instanceof Map<?, ?> m && m.containsKey(p.worker()) ? m.get(p.worker()) : r));
    }

    /** Handles a stream message of a primitive; false if it is none of theirs. */
    boolean fromStream(Peer peer, Map<?, ?> fields) {
        CoordinationStream m = CoordinationStream.decode(fields, peer.generation);
        if (m == null) {
            return false;
        }
        double now = RequestHandlers.now();
        boolean fromWorker = peer.role == Peer.Role.WORKER;
        String worker = fromWorker ? peer.id : null;
        String client = fromWorker ? null : clientOf(peer, fields);
        if (m instanceof CoordinationStream.VariableFutureReceived v) {
            coordination.variables().futureReceived(v.name(), v.key(), v.token(), client, now);
        } else if (m instanceof CoordinationStream.VariableDelete v) {
            coordination.variables().delete(v.name(), now);
        } else if (m instanceof CoordinationStream.QueueFutureRelease q) {
            coordination.queues().futureRelease(q.name(), q.key(), client, now);
        } else if (m instanceof CoordinationStream.QueueRelease q) {
            coordination.queues().release(q.name(), now);
        } else if (m instanceof CoordinationStream.PubSubAddSubscriber p) {
            coordination.pubSub().addSubscriber(p.name(), worker, client);
        } else if (m instanceof CoordinationStream.PubSubRemoveSubscriber p) {
            coordination.pubSub().removeSubscriber(p.name(), worker, client);
        } else if (m instanceof CoordinationStream.PubSubRemovePublisher p) {
            coordination.pubSub().removePublisher(p.name(), worker);
        } else if (m instanceof CoordinationStream.PubSubMsg p) {
            coordination.pubSub().message(p.name(), Detached.copy(p.msg()), worker, client);
        }
        return true;
    }

    /** Dask adds {@code client=<the stream's client>} unless the message names one. */
    private static String clientOf(Peer peer, Map<?, ?> fields) {
        String named = Fields.str(fields, "client");
        return named != null ? named : peer.id;
    }

    /** A client's stream closed: its Pub/Sub subscriptions go, and its reads of Variables no longer hold keys. */
    void clientRemoved(String client) {
        coordination.clientRemoved(client, RequestHandlers.now());
    }

    /** A worker left: its Pubs and Subs go (the other workers' Pubs are told). */
    void workerRemoved(String worker) {
        coordination.workerRemoved(worker);
    }

    private void expire() {
        coordination.expire(RequestHandlers.now());
    }
}
