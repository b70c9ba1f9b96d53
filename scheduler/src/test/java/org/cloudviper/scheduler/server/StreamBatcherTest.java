package org.cloudviper.scheduler.server;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batching per loop turn and the pacing of client streams (Dask's BatchedSend, 2 ms), on a clock
 * and timers the test moves by hand: every figure below is exact.
 */
class StreamBatcherTest {
    private long now = 1_000_000_000L;
    private final List<Runnable> endOfTurn = new ArrayList<>();
    private final List<Long> timerDue = new ArrayList<>();
    private final List<Runnable> timers = new ArrayList<>();
    private final LatencyRecorder latency = new LatencyRecorder(16);
    private final LatencyRecorder beforeWrites = new LatencyRecorder(16);
    private final StreamBatcher batcher = new StreamBatcher(() -> now, endOfTurn::add, (task, delay) -> {
        timers.add(task);
        timerDue.add(now + delay);
    }, latency, beforeWrites);

    /** A stream that records what was written when. */
    private final class Recorded implements StreamBatcher.Stream {
        final boolean paced;
        boolean active = true;
        final List<List<Object>> writes = new ArrayList<>();
        final List<Long> at = new ArrayList<>();

        Recorded(boolean paced) {
            this.paced = paced;
        }

        @Override
        public boolean isActive() {
            return active;
        }

        @Override
        public boolean paced() {
            return paced;
        }

        @Override
        public void write(List<Object> batch) {
            writes.add(List.copyOf(batch));
            at.add(now);
        }
    }

    /** The loop finishes its turn: what was deferred to its end runs. */
    private void endTurn() {
        List<Runnable> due = new ArrayList<>(endOfTurn);
        endOfTurn.clear();
        due.forEach(Runnable::run);
    }

    /** Time passes to {@code t}; timers due by then fire. */
    private void advanceTo(long t) {
        now = t;
        for (int i = 0; i < timers.size(); i++) {
            if (timerDue.get(i) <= now) {
                Runnable r = timers.remove(i);
                timerDue.remove(i);
                i--;
                r.run();
            }
        }
    }

    @Test
    void aTurnsMessagesLeaveAsOneWritePerStream() {
        Recorded a = new Recorded(false);
        Recorded b = new Recorded(false);
        batcher.onRead();
        batcher.queue(a, "a1");
        batcher.queue(b, "b1");
        batcher.queue(a, "a2");
        assertTrue(a.writes.isEmpty(), "nothing is written before the turn ends");
        assertEquals(1, endOfTurn.size(), "one flush per turn, however many messages");
        now += 7_000;
        endTurn();
        assertEquals(List.of(List.of("a1", "a2")), a.writes);
        assertEquals(List.of(List.of("b1")), b.writes);
        assertEquals(1L, latency.summary().get("count"));
        assertEquals(7.0, latency.summary().get("max_us"), "read to write, on the injected clock");
    }

    @Test
    void workersAreNeverHeldBack() {
        Recorded w = new Recorded(false);
        for (int i = 0; i < 3; i++) {
            batcher.queue(w, i);
            endTurn();
            now += 100_000; // 0.1 ms apart
        }
        assertEquals(3, w.writes.size());
        assertTrue(timers.isEmpty());
    }

    @Test
    void aClientsFirstBatchAfterAQuietSpellGoesAtOnceTheNextWithinTwoMillisecondsIsHeld() {
        Recorded c = new Recorded(true);
        batcher.queue(c, "first");
        endTurn();
        assertEquals(List.of(now), c.at, "after a quiet spell: at once");
        long firstWrite = now;

        advanceTo(firstWrite + 500_000);
        batcher.queue(c, "second");
        endTurn();
        assertEquals(1, c.writes.size(), "0.5 ms after the last write: held");
        assertEquals(List.of(firstWrite + StreamBatcher.PACING_NANOS), timerDue, "until 2 ms after the last write");

        advanceTo(firstWrite + 1_500_000);
        batcher.queue(c, "third");
        endTurn();
        assertEquals(1, timers.size(), "one timer for the held batch");

        advanceTo(firstWrite + StreamBatcher.PACING_NANOS);
        assertEquals(List.of(List.of("first"), List.of("second", "third")), c.writes, "held messages, in order, in one write");
        assertEquals(firstWrite + StreamBatcher.PACING_NANOS, c.at.get(1));

        advanceTo(firstWrite + 10 * StreamBatcher.PACING_NANOS);
        batcher.queue(c, "later");
        endTurn();
        assertEquals(List.of("later"), c.writes.get(2), "quiet again: at once");
        assertEquals(now, c.at.get(2));
    }

    @Test
    void flushNowWritesWhatIsHeldAndPendingInOrder() {
        Recorded c = new Recorded(true);
        batcher.queue(c, "first");
        endTurn();
        advanceTo(now + 100_000);
        batcher.queue(c, "held");
        endTurn();
        batcher.queue(c, "stream-closed");
        batcher.flushNow(c);
        assertEquals(List.of(List.of("first"), List.of("held", "stream-closed")), c.writes);
        advanceTo(now + StreamBatcher.PACING_NANOS);
        endTurn();
        assertEquals(2, c.writes.size(), "nothing is written twice");
    }

    @Test
    void aClosedStreamGetsNothing() {
        Recorded c = new Recorded(true);
        batcher.queue(c, "x");
        c.active = false;
        endTurn();
        assertTrue(c.writes.isEmpty());
        c.active = true;
        batcher.queue(c, "y");
        batcher.forget(c);
        endTurn();
        assertTrue(c.writes.isEmpty(), "forgotten with its stream");
    }

    @Test
    void clientStreamsArePacedWorkerStreamsAreNot() {
        Peer p = new Peer(new EmbeddedChannel());
        assertFalse(p.paced(), "an RPC connection writes at once");
        p.role = Peer.Role.CLIENT;
        assertTrue(p.paced());
        p.role = Peer.Role.WORKER;
        assertFalse(p.paced());
        p.channel.close();
    }
}
