package org.cloudviper.scheduler.state;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.DaskMessage;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * An {@link Outbox} that records every message in send order. Tests take messages out as they assert
 * them ({@code take...}); {@link #assertEmpty()} at the end fails on any message nobody looked at,
 * so a test cannot pass while the state machine says more than the test expects.
 *
 * <p>Every message also goes through the real wire path for each Dask generation: its record is
 * encoded, written by {@link MessageCodec} into frames, read back, decoded into its record and
 * encoded again, which must give the same frames. A message the codec or the records could not
 * carry fails the test that made the state send it.
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
    public void toWorker(String address, SchedulerToWorker message) {
        for (Generation g : Generation.values()) {
            assertSurvivesTheWire(message, g, m -> SchedulerToWorker.decode(m, g));
        }
        pending.add(new Envelope(true, Objects.requireNonNull(address), Objects.requireNonNull(message)));
        sent++;
    }

    @Override
    public void toClient(String client, SchedulerToClient message) {
        for (Generation g : Generation.values()) {
            assertSurvivesTheWire(message, g, m -> SchedulerToClient.decode(m, g));
        }
        pending.add(new Envelope(false, Objects.requireNonNull(client), Objects.requireNonNull(message)));
        sent++;
    }

    /** encode, frames, decode, record, encode: the same frames as the first encoding. */
    private static void assertSurvivesTheWire(DaskMessage message, Generation g,
                                              Function<Map<?, ?>, DaskMessage> decode) {
        Frames first = MessageCodec.encode(List.of(message.encode(g)));
        Object tree = null;
        Frames again = null;
        try {
            List<byte[]> expected = bytes(first);
            tree = MessageCodec.decode(first);
            DaskMessage back = decode.apply((Map<?, ?>) ((List<?>) tree).get(0));
            assertEquals(message.getClass(), back.getClass(), () -> g + ": " + message);
            again = MessageCodec.encode(List.of(back.encode(g)));
            List<byte[]> actual = bytes(again);
            assertEquals(expected.size(), actual.size(), () -> g + ": frames of " + message);
            for (int i = 0; i < expected.size(); i++) {
                int frame = i;
                assertArrayEquals(expected.get(i), actual.get(i), () -> g + ": frame " + frame + " of " + message);
            }
        } finally {
            first.release();
            if (again != null) {
                again.release();
            }
            MessageCodec.release(tree);
        }
    }

    private static List<byte[]> bytes(Frames frames) {
        List<byte[]> r = new ArrayList<>();
        for (ByteBuf f : frames.frames()) {
            r.add(ByteBufUtil.getBytes(f));
        }
        return r;
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
    List<SchedulerToWorker> drainWorker(String address) {
        List<SchedulerToWorker> r = new ArrayList<>();
        for (Iterator<Envelope> it = pending.iterator(); it.hasNext(); ) {
            Envelope e = it.next();
            if (e.toWorker && e.target.equals(address)) {
                r.add((SchedulerToWorker) e.message);
                it.remove();
            }
        }
        return r;
    }

    /** Takes every unconsumed message to this client, in send order. */
    List<SchedulerToClient> drainClient(String client) {
        List<SchedulerToClient> r = new ArrayList<>();
        for (Iterator<Envelope> it = pending.iterator(); it.hasNext(); ) {
            Envelope e = it.next();
            if (!e.toWorker && e.target.equals(client)) {
                r.add((SchedulerToClient) e.message);
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
    <T extends SchedulerToWorker> T takeWorker(String address, Class<T> type) {
        Envelope e = peek(true, address);
        assertNotNull(e, () -> "no message to worker " + address + " (expected " + type.getSimpleName()
                + "); pending: " + pending);
        pending.remove(e);
        return assertInstanceOf(type, e.message, () -> "next message to worker " + address);
    }

    /** The next message to {@code client}, which must be of {@code type}; it is consumed. */
    <T extends SchedulerToClient> T takeClient(String client, Class<T> type) {
        Envelope e = peek(false, client);
        assertNotNull(e, () -> "no message to client " + client + " (expected " + type.getSimpleName()
                + "); pending: " + pending);
        pending.remove(e);
        return assertInstanceOf(type, e.message, () -> "next message to client " + client);
    }

    /** The next message to the worker is compute-task for {@code key}. */
    SchedulerToWorker.ComputeTask takeCompute(String address, Object key) {
        SchedulerToWorker.ComputeTask c = takeWorker(address, SchedulerToWorker.ComputeTask.class);
        assertEquals(key, c.key(), "compute-task key to " + address);
        return c;
    }

    /** The keys of the free-keys messages at the head of the worker's queue (at least one). */
    Set<Object> takeFreed(String address) {
        Set<Object> keys = new LinkedHashSet<>(takeWorker(address, SchedulerToWorker.FreeKeys.class).keys());
        Envelope e;
        while ((e = peek(true, address)) != null && e.message instanceof SchedulerToWorker.FreeKeys f) {
            pending.remove(e);
            keys.addAll(f.keys());
        }
        return keys;
    }

    /** The next message to the client is key-in-memory for {@code key}. */
    SchedulerToClient.KeyInMemory expectInMemory(String client, Object key) {
        SchedulerToClient.KeyInMemory m = takeClient(client, SchedulerToClient.KeyInMemory.class);
        assertEquals(key, m.key(), "key-in-memory to " + client);
        return m;
    }

    /**
     * Every pending message to the client is key-in-memory for {@code key} (at least one). Scatter of a
     * key the client already wants reports it twice, as Dask's update_data does (report to who_wants,
     * then client_desires_keys -> report_on_key); a client takes the repeat as a no-op.
     */
    int expectAllInMemory(String client, Object key) {
        List<SchedulerToClient> ms = drainClient(client);
        assertTrue(!ms.isEmpty(), () -> "no key-in-memory to " + client + " for " + key);
        for (SchedulerToClient m : ms) {
            assertEquals(key, assertInstanceOf(SchedulerToClient.KeyInMemory.class, m).key(), "key-in-memory to " + client);
        }
        return ms.size();
    }

    /** The next message to the client is task-erred for {@code key}. */
    SchedulerToClient.TaskErred expectErred(String client, Object key) {
        SchedulerToClient.TaskErred m = takeClient(client, SchedulerToClient.TaskErred.class);
        assertEquals(key, m.key(), "task-erred to " + client);
        return m;
    }

    /** The next message to the client is cancelled-key for {@code key}. */
    void expectCancelled(String client, Object key) {
        assertEquals(List.of(key), takeClient(client, SchedulerToClient.CancelledKeys.class).keys(),
                "cancelled-key to " + client);
    }

    /** The next message to the client is lost-data for {@code key}. */
    void expectLost(String client, Object key) {
        assertEquals(key, takeClient(client, SchedulerToClient.LostData.class).key(), "lost-data to " + client);
    }

    /** The next message to the client is task-retried for {@code key}. */
    void expectRetried(String client, Object key) {
        assertEquals(key, takeClient(client, SchedulerToClient.TaskRetried.class).key(), "task-retried to " + client);
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
