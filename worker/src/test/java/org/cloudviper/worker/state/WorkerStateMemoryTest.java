package org.cloudviper.worker.state;

import org.cloudviper.protocol.message.StartStop;
import org.cloudviper.protocol.message.WorkerToScheduler;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memory policy of {@link WorkerState#memory}: spilling the least recently stored values above
 * the target fraction, pausing above the pause fraction and resuming below it, and the bookkeeping
 * of spilled keys when they are freed. Values are strings; each must be released exactly once.
 */
class WorkerStateMemoryTest {
    static final String ME = "tcp://127.0.0.1:1000";

    final Map<Object, Integer> released = new HashMap<>();

    WorkerState state(long limit, double target, double pause) {
        return new WorkerState(ME, 1, Map.of("java", 1.0), WorkerState.Limits.defaults(0),
                v -> released.merge(v, 1, Integer::sum)).validating(true).memory(limit, target, pause);
    }

    @AfterEach
    void eachValueReleasedAtMostOnce() {
        released.forEach((v, n) -> assertEquals(1, n, "released " + n + " times: " + v));
    }

    static Event.UpdateData store(String key, Object value, long nbytes) {
        return new Event.UpdateData(Map.of(key, value), Map.of(key, nbytes), false, "store-" + key);
    }

    /** Handles {@code events}, then answers every spill as a runtime whose disk writes succeed. */
    static List<Instruction> handleAndSpill(WorkerState s, Event... events) {
        List<Instruction> out = new ArrayList<>(s.handle(events));
        for (int i = 0; i < out.size(); i++) {
            if (out.get(i) instanceof Instruction.Spill sp) {
                out.addAll(s.handle(new Event.SpillDone(sp.key(), sp.stimulusId())));
            }
        }
        return out;
    }

    static <T extends Instruction> List<T> of(List<Instruction> out, Class<T> type) {
        List<T> r = new ArrayList<>();
        for (Instruction i : out) {
            if (type.isInstance(i)) {
                r.add(type.cast(i));
            }
        }
        return r;
    }

    @Test
    void spillsLeastRecentlyStoredAboveTargetAndForgetsSpilledKeysWhenFreed() {
        WorkerState s = state(1000, 0.6, 0.8);
        assertEquals(List.of(), of(s.handle(store("a", "A", 300)), Instruction.Spill.class));
        // 600 is not above 0.6 * 1000
        assertEquals(List.of(), of(s.handle(store("b", "B", 300)), Instruction.Spill.class));
        List<Instruction.Spill> spill = of(s.handle(store("c", "C", 300)), Instruction.Spill.class);
        assertEquals(List.of(new Instruction.Spill("a", "store-c")), spill);
        assertFalse(s.isSpilled("a"), "spilled once the runtime says so");
        assertEquals(0, s.spilledBytes());
        s.handle(new Event.SpillDone("a", "spilled-a"));
        assertTrue(s.isSpilled("a"));
        assertFalse(s.isSpilled("b"));
        assertEquals(900, s.managedBytes());
        assertEquals(300, s.spilledBytes());
        assertEquals("A", s.data("a"), "a spilled value stays owned by the state");
        assertEquals("running", s.status());

        // Two more stored at once: both oldest in-memory keys go, in storing order.
        Map<Object, Object> data = new java.util.LinkedHashMap<>();
        data.put("d", "D");
        data.put("e", "E");
        spill = of(handleAndSpill(s, new Event.UpdateData(data, Map.of("d", 300L, "e", 300L), false, "s2")),
                Instruction.Spill.class);
        assertEquals(List.of(new Instruction.Spill("b", "s2"), new Instruction.Spill("c", "s2")), spill);
        assertEquals(900, s.spilledBytes());

        s.handle(new Event.FreeKeys(List.of("a", "b", "d"), "free"));
        assertEquals(Map.of("A", 1, "B", 1, "D", 1), released);
        assertFalse(s.isSpilled("a"));
        assertEquals(300, s.spilledBytes());
        assertEquals(600, s.managedBytes());
        s.releaseAll();
        assertEquals(0, s.spilledBytes());
        assertEquals(5, released.size());
    }

    @Test
    void noLimitNeverSpillsOrPauses() {
        WorkerState s = state(0, 0.6, 0.8);
        List<Instruction> out = s.handle(store("a", "A", 1L << 40));
        assertEquals(List.of(), of(out, Instruction.Spill.class));
        assertEquals(List.of(), WorkerStateTest.sentOf(out, WorkerToScheduler.WorkerStatusChange.class));
        assertEquals("running", s.status());
        s.releaseAll();
    }

    @Test
    void pausesAbovePauseFractionRunsNothingAndResumesBelowIt() {
        WorkerState s = state(1000, 0, 0.8); // spilling off, as with distributed.worker.memory.target: false
        s.handle(new Event.WorkerStatusChange("running", "start"));
        s.handle(store("a", "A", 500));
        assertEquals("running", s.status());
        List<Instruction> out = s.handle(store("b", "B", 400));
        assertEquals(List.of(new WorkerToScheduler.WorkerStatusChange("paused", "store-b")),
                WorkerStateTest.sentOf(out, WorkerToScheduler.WorkerStatusChange.class));
        assertEquals("paused", s.status());

        // A task arriving while paused waits.
        out = s.handle(new Event.ComputeTask("x", List.of(0L), 0.5, Map.of(), Map.of(), "spec-x", Map.of(), -1, "cx"));
        assertEquals(List.of(), of(out, Instruction.Execute.class));
        assertEquals(TaskStatus.READY, s.stateOf("x"));

        // Freeing to exactly 0.8 * limit is not above it: resume and run the waiting task.
        s.handle(store("c", "C", 0)); // storing alone does not resume while still above
        assertEquals("paused", s.status());
        out = s.handle(new Event.FreeKeys(List.of("b"), "free-b"));
        assertEquals(List.of(new WorkerToScheduler.WorkerStatusChange("running", "free-b")),
                WorkerStateTest.sentOf(out, WorkerToScheduler.WorkerStatusChange.class));
        assertEquals(1, of(out, Instruction.Execute.class).size());
        assertEquals(TaskStatus.EXECUTING, s.stateOf("x"));
        s.releaseAll();
    }

    @Test
    void spillingKeepsTheWorkerBelowPause() {
        WorkerState s = state(1000, 0.6, 0.8);
        for (int i = 0; i < 20; i++) {
            List<Instruction> out = handleAndSpill(s, store("k" + i, "V" + i, 250));
            assertEquals(List.of(), WorkerStateTest.sentOf(out, WorkerToScheduler.WorkerStatusChange.class));
            assertTrue(s.managedBytes() - s.spilledBytes() <= 600);
        }
        assertEquals(5000, s.managedBytes());
        assertEquals(4500, s.spilledBytes());
        s.releaseAll();
    }

    @Test
    void aFailedSpillCountsTheValueInMemoryAgainPausesAboveThePauseFractionAndRetriesLater() {
        WorkerState s = state(1000, 0.6, 0.8);
        s.handle(store("a", "A", 250), store("b", "B", 250));
        List<Instruction> out = s.handle(store("c", "C", 250));
        assertEquals(List.of(new Instruction.Spill("a", "store-c")), of(out, Instruction.Spill.class));

        // the runtime could not write "a": it is in memory after all, spilling waits for a retry
        out = s.handle(new Event.SpillFailed("a", "disk full", "spill-a"));
        assertEquals(List.of(new Instruction.RetrySpillLater("spill-a")), of(out, Instruction.RetrySpillLater.class));
        assertFalse(s.isSpilled("a"));
        assertEquals(0, s.spilledBytes());
        assertEquals(List.of(), of(out, Instruction.Spill.class), "no new spill before the retry");
        assertEquals("running", s.status(), "750 is not above 0.8 * 1000");

        // more data while spilling is suspended: the pause fraction protects the worker
        out = s.handle(store("d", "D", 250));
        assertEquals(List.of(), of(out, Instruction.Spill.class));
        assertEquals(List.of(new WorkerToScheduler.WorkerStatusChange("paused", "store-d")),
                WorkerStateTest.sentOf(out, WorkerToScheduler.WorkerStatusChange.class));
        // a second failure (already suspended) asks for no second retry timer; a key not spilled is ignored
        assertEquals(List.of(), of(s.handle(new Event.SpillFailed("zz", "x", "late")), Instruction.RetrySpillLater.class));

        // the retry spills the least recently stored first ("a" went back as the most recent); the
        // worker resumes only once a write is confirmed, not on the promise of one
        out = s.handle(new Event.RetrySpill("retry"));
        assertEquals(List.of(new Instruction.Spill("b", "retry"), new Instruction.Spill("c", "retry")),
                of(out, Instruction.Spill.class));
        assertEquals(List.of(), WorkerStateTest.sentOf(out, WorkerToScheduler.WorkerStatusChange.class));
        out = s.handle(new Event.SpillFailed("b", "disk full", "retry"));
        assertEquals("paused", s.status(), "a failed write does not resume");
        assertEquals(1, of(out, Instruction.RetrySpillLater.class).size());
        out = s.handle(new Event.SpillDone("c", "retry"));
        assertEquals(List.of(new WorkerToScheduler.WorkerStatusChange("running", "retry")),
                WorkerStateTest.sentOf(out, WorkerToScheduler.WorkerStatusChange.class));
        assertEquals(250, s.spilledBytes());
        assertTrue(s.isSpilled("c"));
        s.releaseAll();
        assertEquals(4, released.size());
    }

    @Test
    void aSchedulerStatusOverridesAMemoryPause() {
        WorkerState s = state(1000, 0, 0.5);
        s.handle(store("a", "A", 900));
        assertEquals("paused", s.status());
        s.handle(new Event.WorkerStatusChange("closing_gracefully", "retire"));
        List<Instruction> out = s.handle(new Event.FreeKeys(List.of("a"), "free"));
        assertEquals(List.of(), WorkerStateTest.sentOf(out, WorkerToScheduler.WorkerStatusChange.class), "only a pause of its own is lifted");
        assertEquals("closing_gracefully", s.status());
    }

    @Test
    void badSettingsAreRefused() {
        WorkerState s = state(0, 0, 0);
        assertThrows(IllegalArgumentException.class, () -> s.memory(-1, 0.6, 0.8));
        assertThrows(IllegalArgumentException.class, () -> s.memory(10, 1.5, 0.8));
        assertThrows(IllegalArgumentException.class, () -> s.memory(10, 0.6, Double.NaN));
    }
}
