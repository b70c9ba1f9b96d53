package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The last {@code capacity} task transitions, oldest first: what {@code Scheduler.story} answers
 * from (Dask keeps {@code distributed.scheduler.transition-log-length} = 100,000 in 2022.12.1 and
 * {@code distributed.admin.low-level-log-length} = 1,000 in 2024.12.1, in a bounded deque).
 *
 * <p>Recording is on the state machine's hot path (five or six transitions per task), so an entry
 * is two stores into parallel ring arrays, the key and the move: no object per entry, nothing
 * formatted until read. The stimulus id and the time are the same for every move of an event, so
 * they are kept once per event, in a second ring of (first entry, stimulus id, time) written when
 * the event begins. Both rings grow by doubling up to the capacity, so a short-lived state does
 * not pay for a full log. Single-threaded.
 */
final class TransitionLog {
    /** Dask 2022.12.1's {@code distributed.scheduler.transition-log-length}. */
    static final int DEFAULT_LENGTH = 100_000;
    private static final int INITIAL = 1024;

    private final int capacity;

    // Entries: entry number s (counting from 0) is at index s % keys.length.
    private Object[] keys;
    /** The moves, as {@code start.ordinal() << 3 | finish.ordinal()}. */
    private byte[] moves;
    /** Where the next entry goes. */
    private int next;
    /** Entries recorded before the current pass over the arrays (and all of them if capacity is 0). */
    private long passed;

    // Events: event number e is at index e % firstEntry.length. An event is written when its stimulus
    // or time is set, and its slot reused while it holds no entry, so every event but the last holds
    // an entry: the events of the entries kept are never more than capacity + 1, the ring's size.
    private final int eventCapacity;
    private long[] firstEntry;
    private String[] stimuli;
    private double[] times;
    private int nextEvent;
    private long events;

    private String stimulusId;
    private double now;

    TransitionLog(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("transition log length: " + capacity + " (expected: >= 0)");
        }
        this.capacity = capacity;
        this.eventCapacity = capacity == 0 ? 0 : capacity + 1;
        int n = Math.min(capacity, INITIAL);
        keys = new Object[n];
        moves = new byte[n];
        firstEntry = new long[Math.min(eventCapacity, INITIAL)];
        stimuli = new String[firstEntry.length];
        times = new double[firstEntry.length];
        event(); // entries before the first stimulus: none, at time 0
    }

    /** The moves that follow are caused by {@code stimulusId} (compared by identity: one string per event). */
    void begin(String stimulusId) {
        if (stimulusId != this.stimulusId) {
            this.stimulusId = stimulusId;
            event();
        }
    }

    /** The moves that follow are stamped with {@code now} (seconds since the epoch). */
    void clock(double now) {
        if (now != this.now && !Double.isNaN(now)) {
            this.now = now;
            event();
        }
    }

    /** Every transition: two stores (the log's whole cost on the state machine's hot path). */
    void record(Object key, int move) {
        int i = next;
        if (i == keys.length) {
            i = makeRoom();
            if (i < 0) {
                return;
            }
        }
        keys[i] = key;
        moves[i] = (byte) move;
        next = i + 1;
    }

    /** Transitions recorded so far, kept or not. */
    long recorded() {
        return passed + next;
    }

    /**
     * At the end of the entry arrays: doubles them while below capacity (only before they first
     * fill, so entry s stays at index s % length), else wraps. Returns the index for the entry, or
     * -1 if the log keeps nothing.
     */
    private int makeRoom() {
        int n = keys.length;
        if (n < capacity) {
            int m = (int) Math.min(capacity, 2L * n);
            keys = Arrays.copyOf(keys, m);
            moves = Arrays.copyOf(moves, m);
            return n;
        }
        if (n == 0) {
            passed++;
            return -1;
        }
        passed += n;
        next = 0;
        return 0;
    }

    /** Writes the current stimulus and time as the event of the entries that follow. */
    private void event() {
        if (eventCapacity == 0) {
            return;
        }
        long first = recorded();
        if (events > 0) {
            int last = nextEvent - 1;
            if (firstEntry[last] == first) { // the last event holds no entry: it becomes this one
                stimuli[last] = stimulusId;
                times[last] = now;
                return;
            }
        }
        int e = nextEvent;
        if (e == firstEntry.length) {
            if (e < eventCapacity) {
                int m = (int) Math.min(eventCapacity, 2L * e);
                firstEntry = Arrays.copyOf(firstEntry, m);
                stimuli = Arrays.copyOf(stimuli, m);
                times = Arrays.copyOf(times, m);
            } else {
                e = 0;
            }
        }
        firstEntry[e] = first;
        stimuli[e] = stimulusId;
        times[e] = now;
        nextEvent = e + 1;
        events++;
    }

    int size() {
        return (int) Math.min(recorded(), keys.length);
    }

    /**
     * Entries whose key or stimulus id is one of {@code keysOrStimuli}, oldest first. Dask's
     * {@code scheduler_story} (distributed/_stories.py) matches the key or a key among the entry's
     * recommendations, though its docstring promises stimulus ids; this matches keys and stimulus
     * ids (recommendations are always empty here, see {@link StoryEntry}).
     */
    List<StoryEntry> story(Collection<?> keysOrStimuli) {
        Set<Object> wanted = new HashSet<>(keysOrStimuli);
        return select((key, stimulus) -> wanted.contains(key) || stimulus != null && wanted.contains(stimulus));
    }

    /** The last {@code max} entries of {@code key}, oldest first (for error messages). */
    List<StoryEntry> recent(Object key, int max) {
        List<StoryEntry> all = select((k, stimulus) -> Objects.equals(k, key));
        return all.subList(Math.max(0, all.size() - max), all.size());
    }

    private interface EntryFilter {
        boolean test(Object key, String stimulusId);
    }

    private List<StoryEntry> select(EntryFilter filter) {
        List<StoryEntry> r = new ArrayList<>();
        long recorded = recorded();
        long oldest = recorded - size();
        // The event of the oldest entry: the last one that starts at or before it.
        long e = Math.max(0, events - firstEntry.length);
        while (e + 1 < events && firstEntry[(int) ((e + 1) % firstEntry.length)] <= oldest) {
            e++;
        }
        for (long s = oldest; s < recorded; s++) {
            while (e + 1 < events && firstEntry[(int) ((e + 1) % firstEntry.length)] <= s) {
                e++;
            }
            int i = (int) (s % keys.length);
            int ev = (int) (e % firstEntry.length);
            if (filter.test(keys[i], stimuli[ev])) {
                int m = moves[i];
                r.add(new StoryEntry(keys[i], TaskState.Status.of(m >>> 3).daskName,
                        TaskState.Status.of(m & 7).daskName, Map.of(), stimuli[ev], times[ev]));
            }
        }
        return r;
    }
}
