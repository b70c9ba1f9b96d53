package org.cloudviper.scheduler.server;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Gathers what one loop turn sends on each stream and writes it once, as one list frame (the shape
 * of Dask's BatchedSend), so a turn that finishes fifty tasks writes one frame per worker.
 *
 * <p>Paced streams (clients') are written at most every {@link #PACING_NANOS}, as Dask's scheduler
 * batches each client's stream: the first batch after a quiet spell goes at once, so a lone result
 * is not delayed, while a stream of results goes out in a few large writes instead of one per task,
 * each of which costs the scheduler a system call and the Python client a read and a decode.
 * Unpaced streams (workers') are written every turn: a free slot is refilled without a timer.
 *
 * <p>Time and the loop are injected so that the pacing can be tested without sockets or sleeps.
 * Everything runs on the loop's thread.
 */
final class StreamBatcher {
    /** distributed/scheduler.py: a client's BatchedSend interval. */
    static final long PACING_NANOS = 2_000_000;

    /** One connection's stream, as the batcher sees it. */
    interface Stream {
        boolean isActive();

        /** Whether writes are paced ({@link #PACING_NANOS}). */
        boolean paced();

        void write(List<Object> batch);
    }

    /** Runs a task on the loop after a delay. */
    interface Timer {
        void schedule(Runnable task, long delayNanos);
    }

    /** A paced stream's last write and whether a timer is already set for its held batch. */
    private static final class Pacing {
        long lastWrite = Long.MIN_VALUE / 2;
        boolean timerSet;
        List<Object> held;
    }

    private final LongSupplier clock;
    private final Executor endOfTurn;
    private final Timer timer;
    private final LatencyRecorder latency;
    private final LatencyRecorder latencyBeforeWrites;
    private final Map<Stream, List<Object>> pending = new IdentityHashMap<>();
    private final Map<Stream, Pacing> pacing = new IdentityHashMap<>();
    private boolean flushScheduled;
    /** When the current loop turn read its first message (0 when idle), for the latency recorders. */
    private long turnStart;

    /**
     * @param endOfTurn runs a task once the loop has handled what it has read (the loop's own queue)
     * @param latency   the loop turns' added latency, read to write; {@code latencyBeforeWrites} the
     *                  same up to the first write
     */
    StreamBatcher(LongSupplier clock, Executor endOfTurn, Timer timer, LatencyRecorder latency,
                  LatencyRecorder latencyBeforeWrites) {
        this.clock = clock;
        this.endOfTurn = endOfTurn;
        this.timer = timer;
        this.latency = latency;
        this.latencyBeforeWrites = latencyBeforeWrites;
    }

    /** A message arrived: the turn's latency counts from the first one. */
    void onRead() {
        if (turnStart == 0) {
            turnStart = clock.getAsLong();
        }
    }

    /** The loop read everything it had; a turn that queued nothing has no latency to record. */
    void onReadComplete() {
        if (!flushScheduled) {
            turnStart = 0;
        }
    }

    /** Queues {@code message} for {@code stream}, written at the end of this loop turn (or paced). */
    void queue(Stream stream, Object message) {
        pending.computeIfAbsent(stream, s -> new ArrayList<>()).add(message);
        if (!flushScheduled) {
            flushScheduled = true;
            endOfTurn.execute(this::flush);
        }
    }

    /** Writes everything queued now, pacing aside (a stream about to close). */
    void flushNow(Stream stream) {
        List<Object> batch = pending.remove(stream);
        Pacing p = pacing.remove(stream);
        if (p != null && p.held != null) { // older messages first; the pacing timer then finds nothing
            p.held.addAll(batch == null ? List.of() : batch);
            batch = p.held;
            p.held = null;
        }
        if (batch != null && stream.isActive()) {
            stream.write(batch);
        }
    }

    /** The stream is gone: drop what waits for it. */
    void forget(Stream stream) {
        pending.remove(stream);
        pacing.remove(stream);
    }

    /** Writes every stream's batch of this turn. */
    void flush() {
        flushScheduled = false;
        long start = turnStart;
        turnStart = 0;
        if (pending.isEmpty()) {
            return;
        }
        if (start != 0) {
            latencyBeforeWrites.record(clock.getAsLong() - start);
        }
        List<Map.Entry<Stream, List<Object>>> batches = new ArrayList<>(pending.entrySet());
        pending.clear();
        long now = clock.getAsLong();
        for (Map.Entry<Stream, List<Object>> e : batches) {
            Stream s = e.getKey();
            if (!s.isActive()) {
                continue;
            }
            if (s.paced()) {
                writePaced(s, e.getValue(), now);
            } else {
                s.write(e.getValue());
            }
        }
        if (start != 0) {
            latency.record(clock.getAsLong() - start);
        }
    }

    private void writePaced(Stream s, List<Object> batch, long now) {
        Pacing p = pacing.computeIfAbsent(s, x -> new Pacing());
        if (p.held != null) { // older messages first
            p.held.addAll(batch);
            batch = p.held;
            p.held = null;
        }
        long wait = p.lastWrite + PACING_NANOS - now;
        if (wait <= 0) {
            p.lastWrite = now;
            s.write(batch);
            return;
        }
        p.held = batch;
        if (!p.timerSet) {
            p.timerSet = true;
            timer.schedule(() -> {
                p.timerSet = false;
                List<Object> due = p.held;
                p.held = null;
                if (due != null && s.isActive()) {
                    p.lastWrite = clock.getAsLong();
                    s.write(due);
                }
            }, wait);
        }
    }
}
