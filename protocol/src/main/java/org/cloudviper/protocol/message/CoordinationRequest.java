package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Requests of Dask's coordination primitives, which Dask's scheduler serves from its extensions
 * (distributed/variable.py, queues.py, lock.py, multi_lock.py, semaphore.py, event.py, pubsub.py),
 * and the {@code proxy} through which a client reaches its actors' workers (actor.py ProxyRPC).
 * Every record reads the fields of every generation; where they differ (2024.12 sends a
 * {@code timeout} with variable_set, {@code lease_timeout} with semaphore_register:
 * {@link Generation#coordinationSendsTimeouts}) it writes the peer's. Names are str or, as Dask allows, a list (Dask turns it into a tuple), kept as decoded.
 * {@code timeout} is seconds, null for none.
 */
public sealed interface CoordinationRequest extends DaskMessage {

    /** The request of {@code m}, or null when its op is not a coordination primitive's. */
    static CoordinationRequest decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "request");
        return switch (op) {
            case "variable_set" -> new VariableSet(name(m), m.get("key"), m.get("data"), Fields.str(m, "client"),
                    timeout(m, "timeout"));
            case "variable_get" -> new VariableGet(name(m), Fields.str(m, "client"), timeout(m, "timeout"));
            case "queue_create" -> new QueueCreate(name(m), Fields.str(m, "client"), Fields.lng(m, "maxsize", 0));
            case "queue_put" -> new QueuePut(name(m), m.get("key"), m.get("data"), Fields.str(m, "client"),
                    timeout(m, "timeout"));
            case "queue_get" -> new QueueGet(name(m), Fields.str(m, "client"), timeout(m, "timeout"),
                    m.get("batch") == null ? Boolean.FALSE : m.get("batch"));
            case "queue_qsize" -> new QueueQsize(name(m), Fields.str(m, "client"));
            case "lock_acquire" -> new LockAcquire(name(m), m.get("id"), timeout(m, "timeout"));
            case "lock_release" -> new LockRelease(name(m), m.get("id"));
            case "multi_lock_acquire" -> new MultiLockAcquire(Fields.listOrEmpty(m.get("locks")), m.get("id"),
                    timeout(m, "timeout"), (int) Fields.lng(m, "num_locks", Fields.listOrEmpty(m.get("locks")).size()));
            case "multi_lock_release" -> new MultiLockRelease(m.get("id"));
            case "semaphore_register" -> new SemaphoreRegister(name(m), m.get("max_leases"),
                    timeout(m, "lease_timeout"), m.containsKey("lease_timeout"));
            case "semaphore_acquire" -> new SemaphoreAcquire(name(m), timeout(m, "timeout"), m.get("lease_id"));
            case "semaphore_release" -> new SemaphoreRelease(name(m), m.get("lease_id"));
            case "semaphore_close" -> new SemaphoreClose(name(m));
            case "semaphore_refresh_leases" -> new SemaphoreRefreshLeases(name(m),
                    Fields.listOrEmpty(m.get("lease_ids")));
            case "semaphore_value" -> new SemaphoreValue(name(m));
            case "event_wait" -> new EventWait(name(m), timeout(m, "timeout"));
            case "event_set" -> new EventSet(name(m));
            case "event_clear" -> new EventClear(name(m));
            case "event_is_set" -> new EventIsSet(name(m));
            case "pubsub_add_publisher" -> new PubSubAddPublisher(name(m), Fields.str(m, "worker"));
            case "proxy" -> new Proxy(Fields.map(m, "msg"), Fields.str(m, "worker"));
            default -> null;
        };
    }

    /** A primitive's name as Dask keys it: str, or a list for Python's tuple names. */
    static Object name(Map<?, ?> m) {
        Object n = m.get("name");
        return n instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : n;
    }

    private static Double timeout(Map<?, ?> m, String field) {
        return m.get(field) instanceof Number n ? n.doubleValue() : null;
    }

    // ------------------------------------------------------------------------------------------
    // Variable (variable.py)
    // ------------------------------------------------------------------------------------------

    /**
     * Variable.set: a future's {@code key}, or msgpack {@code data} (one of the two is null).
     * 2024 adds {@code timeout}: how long the scheduler may wait for the key to be known.
     */
    record VariableSet(Object name, Object key, Object data, String client, Double timeout)
            implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("variable_set");
            if (key != null) {
                b.with("key", key);
            } else {
                b.with("data", data);
            }
            b.with("name", name);
            if (g.coordinationSendsTimeouts()) {
                b.with("timeout", timeout);
            }
            return b.done();
        }
    }

    /** Variable.get: answered once the variable is set (or with TimeoutError after {@code timeout}). */
    record VariableGet(Object name, String client, Double timeout) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("variable_get").with("timeout", timeout).with("name", name).with("client", client).done();
        }
    }

    /**
     * What variable_get and queue_get answer for one value: {@code {"type": "msgpack", "value": data}},
     * or for a future {@code {"type": "Future", "value": key, ["token": t], "state": s}} plus the
     * erred task's {@code exception} and {@code traceback} (state "erred"). {@code token} only
     * comes with a variable's future (the client confirms it with variable-future-release).
     */
    record StoredValue(boolean future, Object value, String token, String state, Object exception, Object traceback)
            implements DaskMessage {
        public static StoredValue data(Object value) {
            return new StoredValue(false, value, null, null, null, null);
        }

        public static StoredValue decode(Object reply) {
            Map<?, ?> m = reply instanceof Map<?, ?> mm ? mm : Map.of();
            return new StoredValue("Future".equals(Fields.str(m, "type")), m.get("value"), Fields.str(m, "token"),
                    Fields.str(m, "state"), m.get("exception"), m.get("traceback"));
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(6);
            r.put("type", future ? "Future" : "msgpack");
            r.put("value", value);
            if (!future) {
                return r;
            }
            if (token != null) {
                r.put("token", token);
            }
            r.put("state", state);
            if ("erred".equals(state)) {
                r.put("exception", exception);
                r.put("traceback", traceback);
            }
            return r;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Queue (queues.py)
    // ------------------------------------------------------------------------------------------

    /** Queue(): creates the queue or counts one more client of it; {@code maxsize} 0 is unbounded. */
    record QueueCreate(Object name, String client, long maxsize) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("queue_create").with("name", name).with("maxsize", maxsize).done();
        }
    }

    /** Queue.put of a future's {@code key} or of msgpack {@code data}; waits while the queue is full. */
    record QueuePut(Object name, Object key, Object data, String client, Double timeout) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("queue_put");
            if (key != null) {
                b.with("key", key);
            } else {
                b.with("data", data);
            }
            return b.with("timeout", timeout).with("name", name).done();
        }
    }

    /**
     * Queue.get: one item ({@code batch} False), every item there is (True, a list), or that many
     * items (an integer, waiting for each; Dask refuses a timeout with it).
     */
    record QueueGet(Object name, String client, Double timeout, Object batch) implements CoordinationRequest {
        /** Whether the answer is a list (Python's {@code if batch:}). */
        public boolean isBatch() {
            return Boolean.TRUE.equals(batch) || batch instanceof Number n && n.longValue() != 0;
        }

        /** How many items a batch waits for; -1 for every item there is now ({@code batch=True}). */
        public long batchCount() {
            return batch instanceof Number n ? n.longValue() : -1;
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("queue_get").with("timeout", timeout).with("name", name).with("batch", batch).done();
        }
    }

    record QueueQsize(Object name, String client) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("queue_qsize").with("name", name).done();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Lock (2022's lock.py; 2024's Lock is a Semaphore of one lease) and MultiLock (multi_lock.py)
    // ------------------------------------------------------------------------------------------

    /** 2022's Lock.acquire by the Lock instance {@code id}; the answer is whether it got the lock. */
    record LockAcquire(Object name, Object id, Double timeout) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("lock_acquire").with("name", name).with("id", id).with("timeout", timeout).done();
        }
    }

    record LockRelease(Object name, Object id) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("lock_release").with("name", name).with("id", id).done();
        }
    }

    /** MultiLock.acquire: {@code numLocks} of {@code locks} for the MultiLock instance {@code id}. */
    record MultiLockAcquire(List<Object> locks, Object id, Double timeout, int numLocks) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("multi_lock_acquire").with("locks", locks).with("id", id).with("timeout", timeout)
                    .with("num_locks", (long) numLocks).done();
        }
    }

    record MultiLockRelease(Object id) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("multi_lock_release").with("id", id).done();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Semaphore (semaphore.py; also 2024's Lock)
    // ------------------------------------------------------------------------------------------

    /**
     * Creates the semaphore. {@code maxLeases} as sent (Dask asserts an int). 2024 sends the
     * client's {@code lease_timeout} (seconds; null for "inf", no timeout); 2022 has none and the
     * scheduler's configured timeout applies ({@code sentLeaseTimeout} false).
     */
    record SemaphoreRegister(Object name, Object maxLeases, Double leaseTimeout, boolean sentLeaseTimeout)
            implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("semaphore_register").with("name", name).with("max_leases", maxLeases);
            if (g.coordinationSendsTimeouts()) {
                b.with("lease_timeout", leaseTimeout);
            }
            return b.done();
        }
    }

    /** A lease for {@code leaseId} (idempotent: the client retries with the same id); the answer is whether it got one. */
    record SemaphoreAcquire(Object name, Double timeout, Object leaseId) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("semaphore_acquire").with("name", name).with("timeout", timeout)
                    .with("lease_id", leaseId).done();
        }
    }

    record SemaphoreRelease(Object name, Object leaseId) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("semaphore_release").with("name", name).with("lease_id", leaseId).done();
        }
    }

    record SemaphoreClose(Object name) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("semaphore_close").with("name", name).done();
        }
    }

    /** The holder is alive: its leases do not time out (sent every fifth of the lease timeout). */
    record SemaphoreRefreshLeases(Object name, List<Object> leaseIds) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("semaphore_refresh_leases").with("lease_ids", leaseIds).with("name", name).done();
        }
    }

    /** How many leases are held (2024's Lock.locked() asks this). */
    record SemaphoreValue(Object name) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("semaphore_value").with("name", name).done();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Event (event.py)
    // ------------------------------------------------------------------------------------------

    /** Answered true once the event is set, false after {@code timeout}. */
    record EventWait(Object name, Double timeout) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("event_wait").with("name", name).with("timeout", timeout).done();
        }
    }

    record EventSet(Object name) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("event_set").with("name", name).done();
        }
    }

    record EventClear(Object name) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("event_clear").with("name", name).done();
        }
    }

    record EventIsSet(Object name) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("event_is_set").with("name", name).done();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Pub/Sub (pubsub.py)
    // ------------------------------------------------------------------------------------------

    /** A worker's Pub starts: the answer names the topic's worker subscribers and whether clients listen. */
    record PubSubAddPublisher(Object name, String worker) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("pubsub_add_publisher").with("name", name).with("worker", worker).done();
        }

        /** {@code subscribers}: worker address to info ({} in Dask); {@code publishScheduler}: clients subscribe. */
        public record Reply(List<String> subscribers, boolean publishScheduler) implements DaskMessage {
            public static Reply decode(Object reply) {
                Map<?, ?> m = reply instanceof Map<?, ?> mm ? mm : Map.of();
                List<String> subs = new java.util.ArrayList<>();
                for (Object k : Fields.map(m, "subscribers").keySet()) {
                    subs.add(Fields.text(k));
                }
                return new Reply(subs, Fields.bool(m, "publish-scheduler"));
            }

            @Override
            public Map<String, Object> encode(Generation g) {
                Map<String, Object> subs = new CompactMap<>(Math.max(1, subscribers.size()));
                for (String s : subscribers) {
                    subs.put(s, Map.of());
                }
                Map<String, Object> r = new CompactMap<>(2);
                r.put("subscribers", subs);
                r.put("publish-scheduler", publishScheduler);
                return r;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Actors (actor.py)
    // ------------------------------------------------------------------------------------------

    /**
     * Scheduler.proxy: {@code msg} (actor_execute or actor_attribute) relayed to {@code worker},
     * whose answer is the answer. A client that does not talk to workers directly calls its actors so.
     */
    record Proxy(Map<?, ?> msg, String worker) implements CoordinationRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("proxy").with("msg", msg).with("worker", worker).done();
        }
    }
}
