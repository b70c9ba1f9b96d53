package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * An {@link Outbox} that records every message in send order. Tests take messages out as they assert
 * them ({@code take...}); {@link #assertEmpty()} at the end fails on any message nobody looked at,
 * so a test cannot pass while the state machine says more than the test expects.
 */
final class RecordingOutbox implements Outbox {
    /** One message on its way to a worker (address) or a client (client id). */
    record Envelope(boolean toWorker, String target, Object message) {
        @Override
        public String toString() {
            return (toWorker ? "worker " : "client ") + target + " <- " + message;
        }
    }

    private final LinkedList<Envelope> pending = new LinkedList<>();
    private long sent;

    @Override
    public void toWorker(String address, ToWorker message) {
        pending.add(new Envelope(true, Objects.requireNonNull(address), Objects.requireNonNull(message)));
        sent++;
    }

    @Override
    public void toClient(String client, ToClient message) {
        pending.add(new Envelope(false, Objects.requireNonNull(client), Objects.requireNonNull(message)));
        sent++;
    }

    /** Messages sent since the outbox was created, consumed or not. */
    long sentCount() {
        return sent;
    }

    boolean isEmpty() {
        return pending.isEmpty();
    }

    /** Takes every unconsumed message, in send order (for simulated peers). */
    List<Envelope> drainAll() {
        List<Envelope> r = new ArrayList<>(pending);
        pending.clear();
        return r;
    }

    /** Discards unconsumed messages to these workers (their connections are gone). */
    void dropWorkerMessages(java.util.Collection<String> addresses) {
        pending.removeIf(e -> e.toWorker && addresses.contains(e.target));
    }

    /** Takes every unconsumed message to this worker, in send order. */
    List<ToWorker> drainWorker(String address) {
        List<ToWorker> r = new ArrayList<>();
        for (Iterator<Envelope> it = pending.iterator(); it.hasNext(); ) {
            Envelope e = it.next();
            if (e.toWorker && e.target.equals(address)) {
                r.add((ToWorker) e.message);
                it.remove();
            }
        }
        return r;
    }

    /** Takes every unconsumed message to this client, in send order. */
    List<ToClient> drainClient(String client) {
        List<ToClient> r = new ArrayList<>();
        for (Iterator<Envelope> it = pending.iterator(); it.hasNext(); ) {
            Envelope e = it.next();
            if (!e.toWorker && e.target.equals(client)) {
                r.add((ToClient) e.message);
                it.remove();
            }
        }
        return r;
    }

    private Envelope peek(boolean toWorker, String target) {
        for (Envelope e : pending) {
            if (e.toWorker == toWorker && e.target.equals(target)) {
                return e;
            }
        }
        return null;
    }

    /** The next message to {@code address}, which must be of {@code type}; it is consumed. */
    <T extends ToWorker> T takeWorker(String address, Class<T> type) {
        Envelope e = peek(true, address);
        assertNotNull(e, () -> "no message to worker " + address + " (expected " + type.getSimpleName()
                + "); pending: " + pending);
        pending.remove(e);
        return assertInstanceOf(type, e.message, () -> "next message to worker " + address);
    }

    /** The next message to {@code client}, which must be of {@code type}; it is consumed. */
    <T extends ToClient> T takeClient(String client, Class<T> type) {
        Envelope e = peek(false, client);
        assertNotNull(e, () -> "no message to client " + client + " (expected " + type.getSimpleName()
                + "); pending: " + pending);
        pending.remove(e);
        return assertInstanceOf(type, e.message, () -> "next message to client " + client);
    }

    /** The next message to the worker is compute-task for {@code key}. */
    ToWorker.ComputeTask takeCompute(String address, Object key) {
        ToWorker.ComputeTask c = takeWorker(address, ToWorker.ComputeTask.class);
        assertEquals(key, c.key(), "compute-task key to " + address);
        return c;
    }

    /** The keys of the free-keys messages at the head of the worker's queue (at least one). */
    Set<Object> takeFreed(String address) {
        Set<Object> keys = new LinkedHashSet<>(takeWorker(address, ToWorker.FreeKeys.class).keys());
        Envelope e;
        while ((e = peek(true, address)) != null && e.message instanceof ToWorker.FreeKeys f) {
            pending.remove(e);
            keys.addAll(f.keys());
        }
        return keys;
    }

    /** The next message to the client is key-in-memory for {@code key}. */
    ToClient.KeyInMemory expectInMemory(String client, Object key) {
        ToClient.KeyInMemory m = takeClient(client, ToClient.KeyInMemory.class);
        assertEquals(key, m.key(), "key-in-memory to " + client);
        return m;
    }

    /**
     * Every pending message to the client is key-in-memory for {@code key} (at least one). Scatter of a
     * key the client already wants reports it twice, as Dask's update_data does (report to who_wants,
     * then client_desires_keys -> report_on_key); a client takes the repeat as a no-op.
     */
    int expectAllInMemory(String client, Object key) {
        List<ToClient> ms = drainClient(client);
        assertTrue(!ms.isEmpty(), () -> "no key-in-memory to " + client + " for " + key);
        for (ToClient m : ms) {
            assertEquals(key, assertInstanceOf(ToClient.KeyInMemory.class, m).key(), "key-in-memory to " + client);
        }
        return ms.size();
    }

    /** The next message to the client is task-erred for {@code key}. */
    ToClient.TaskErred expectErred(String client, Object key) {
        ToClient.TaskErred m = takeClient(client, ToClient.TaskErred.class);
        assertEquals(key, m.key(), "task-erred to " + client);
        return m;
    }

    /** The next message to the client is cancelled-key for {@code key}. */
    void expectCancelled(String client, Object key) {
        assertEquals(key, takeClient(client, ToClient.CancelledKey.class).key(), "cancelled-key to " + client);
    }

    /** The next message to the client is lost-data for {@code key}. */
    void expectLost(String client, Object key) {
        assertEquals(key, takeClient(client, ToClient.LostData.class).key(), "lost-data to " + client);
    }

    /** The next message to the client is task-retried for {@code key}. */
    void expectRetried(String client, Object key) {
        assertEquals(key, takeClient(client, ToClient.TaskRetried.class).key(), "task-retried to " + client);
    }

    boolean hasWorkerMessage(String address) {
        return peek(true, address) != null;
    }

    boolean hasClientMessage(String client) {
        return peek(false, client) != null;
    }

    /** Fails listing every message nobody asserted. */
    void assertEmpty() {
        if (!pending.isEmpty()) {
            StringBuilder sb = new StringBuilder("unasserted messages:");
            for (Envelope e : pending) {
                sb.append("\n  ").append(e);
            }
            fail(sb.toString());
        }
    }

    /** Fails if anything is pending for this worker. */
    void assertNothingTo(String address) {
        Envelope e = peek(true, address);
        if (e != null) {
            fail("unexpected message: " + e);
        }
    }
}
