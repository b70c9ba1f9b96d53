package org.cloudviper.worker.state;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The values the worker stores and the memory they take: which are in memory, being spilled or on
 * disk, and when to spill and when to pause (distributed/worker_memory.py's WorkerMemoryManager with
 * its SpillBuffer, for a worker whose runtime does the writing when told to).
 *
 * <p>The measure is the managed bytes of stored values -- their serialized sizes as reported with
 * each result (ts.nbytes) -- not the process's resident memory: the JVM does not return freed heap or
 * pooled buffers to the OS, so RSS would not fall after spilling or freeing and the worker could
 * never resume. Dask's separate "spill" fraction (0.7) applies to process memory, so it has no
 * counterpart here.
 */
final class MemoryManager {
    /** What the worker's status should do after an event, as far as memory is concerned. */
    enum StatusChange { NONE, PAUSE, RESUME }

    private final Map<Object, TaskState> tasks;
    private final StoryLog story;
    private final Consumer<Object> dispose;

    /** Stored values by key; owned here, each passed to {@code dispose} once dropped. */
    final Map<Object, Object> data = new HashMap<>();
    /** Keys whose values are held in memory, least recently stored first (the spill order). */
    final LinkedHashSet<Object> fast = new LinkedHashSet<>();
    /** Keys whose values were spilled to disk (the runtime said so), with the bytes accounted for each. */
    final Map<Object, Long> spilled = new HashMap<>();
    /**
     * Keys the runtime was told to spill ({@link Instruction.Spill}) and has not answered yet
     * ({@link Event.SpillDone} or {@link Event.SpillFailed}): no longer spill candidates, but still in
     * memory as far as resuming from a pause is concerned.
     */
    final Map<Object, Long> spilling = new HashMap<>();
    long managedBytes;
    long spilledBytes;
    long spillingBytes;

    private long limit;
    private double targetFraction = 0.6;
    private double pauseFraction = 0.8;
    /**
     * True after a spill failed, until {@link Event.RetrySpill}: no spilling meanwhile, so values
     * stay in memory and the pause fraction is what protects the worker (as in distributed, where a
     * failed spill keeps the value in memory and the memory monitor pauses the worker).
     */
    private boolean spillSuspended;
    /** True while the worker is paused because of memory (and only then resumes by itself). */
    private boolean memoryPaused;

    /**
     * @param tasks   the worker's tasks, read for the sizes of stored values
     * @param story   where spills and pauses are noted
     * @param dispose receives every value dropped
     */
    MemoryManager(Map<Object, TaskState> tasks, StoryLog story, Consumer<Object> dispose) {
        this.tasks = tasks;
        this.story = story;
        this.dispose = dispose;
    }

    /** See {@link WorkerState#memory}. */
    void configure(long limit, double target, double pause) {
        if (limit < 0) {
            throw new IllegalArgumentException("memory limit: " + limit + " (expected: >= 0)");
        }
        if (!(target >= 0 && target <= 1) || !(pause >= 0 && pause <= 1)) {
            throw new IllegalArgumentException("memory fractions: target " + target + ", pause " + pause
                    + " (expected: 0 (off) or in (0, 1])");
        }
        this.limit = limit;
        this.targetFraction = target;
        this.pauseFraction = pause;
    }

    boolean contains(Object key) {
        return data.containsKey(key);
    }

    Object get(Object key) {
        return data.get(key);
    }

    int size() {
        return data.size();
    }

    Set<Object> keys() {
        return Set.copyOf(data.keySet());
    }

    boolean isSpilled(Object key) {
        return spilled.containsKey(key);
    }

    /** Stores {@code ts}'s value, counting {@code ts.nbytes}; it becomes the most recently stored. */
    void put(TaskState ts, Object value) {
        data.put(ts.key, value);
        fast.add(ts.key);
        managedBytes += ts.nbytes;
    }

    /** Drops {@code ts}'s stored value and its bookkeeping; the value goes to {@code dispose}. */
    void drop(TaskState ts) {
        managedBytes -= ts.nbytes == null ? 0 : ts.nbytes;
        dispose.accept(data.remove(ts.key));
        fast.remove(ts.key);
        Long n = spilled.remove(ts.key);
        if (n != null) {
            spilledBytes -= n;
        }
        n = spilling.remove(ts.key);
        if (n != null) {
            spillingBytes -= n;
        }
    }

    /**
     * Asks for spills while the bytes in memory (not spilled, not being spilled) exceed the target,
     * least recently stored first, then says whether the worker, whose status is {@code status},
     * should pause or may resume as {@link WorkerState#memory} describes.
     */
    StatusChange manage(String status, List<Instruction> out, String sid) {
        if (limit <= 0) {
            return StatusChange.NONE;
        }
        if (targetFraction > 0 && !spillSuspended) {
            long target = (long) (targetFraction * limit);
            Iterator<Object> oldest = fast.iterator();
            while (managedBytes - spilledBytes - spillingBytes > target && oldest.hasNext()) {
                Object k = oldest.next();
                oldest.remove();
                TaskState ts = tasks.get(k);
                long n = ts == null || ts.nbytes == null ? 0 : ts.nbytes;
                spilling.put(k, n);
                spillingBytes += n;
                story.note(sid, k, "spill", n);
                out.add(new Instruction.Spill(k, sid));
            }
        }
        if (pauseFraction > 0) {
            long pause = (long) (pauseFraction * limit);
            boolean over = managedBytes - spilledBytes - spillingBytes > pause;
            if (over && "running".equals(status)) {
                memoryPaused = true;
                story.note(sid, "pause", managedBytes - spilledBytes);
                return StatusChange.PAUSE;
            } else if (managedBytes - spilledBytes <= pause && memoryPaused && "paused".equals(status)) {
                memoryPaused = false;
                story.note(sid, "resume", managedBytes - spilledBytes);
                return StatusChange.RESUME;
            }
        }
        return StatusChange.NONE;
    }

    /** The scheduler set the worker's status: its word overrides a pause of our own. */
    void statusSetByScheduler() {
        memoryPaused = false;
    }

    /** The runtime wrote the value to disk: its bytes are no longer in memory. */
    void spillDone(Object key) {
        Long n = spilling.remove(key);
        if (n == null) {
            return;
        }
        spillingBytes -= n;
        spilled.put(key, n);
        spilledBytes += n;
    }

    /**
     * A spill the runtime could not do: the value is in memory after all. It goes back among the
     * in-memory values as the most recently stored (a retry picks others first) and spilling waits
     * for {@link Event.RetrySpill}. A key freed meanwhile needs nothing.
     */
    void spillFailed(Event.SpillFailed e, List<Instruction> out) {
        Long n = spilling.remove(e.key());
        if (n == null) {
            return;
        }
        spillingBytes -= n;
        fast.add(e.key());
        story.note(e.stimulusId(), e.key(), "spill-failed", e.reason());
        if (!spillSuspended) {
            spillSuspended = true;
            out.add(new Instruction.RetrySpillLater(e.stimulusId()));
        }
    }

    /** Spilling may be tried again. */
    void retrySpill() {
        spillSuspended = false;
    }

    /** Releases every stored value (the worker is closing). */
    void releaseAll() {
        for (Object v : data.values()) {
            dispose.accept(v);
        }
        data.clear();
        fast.clear();
        spilled.clear();
        spilledBytes = 0;
        spilling.clear();
        spillingBytes = 0;
        managedBytes = 0;
    }
}
