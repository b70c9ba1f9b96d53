package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The last {@code capacity} task transitions, oldest first: what {@code Scheduler.story} answers
 * from (Dask keeps {@code distributed.scheduler.transition-log-length} = 100,000 in 2022.12.1 and
 * {@code distributed.admin.low-level-log-length} = 1,000 in 2024.12.1, in a bounded deque).
 *
 * <p>Recording is on the state machine's hot path (five or six transitions per task), so an entry
 * is four stores into parallel ring arrays: no object per entry, nothing formatted until read. The
 * arrays grow by doubling up to the capacity, so a short-lived state does not pay for a full log.
 * Single-threaded.
 */
final class TransitionLog {
    /** Dask 2022.12.1's {@code distributed.scheduler.transition-log-length}. */
    static final int DEFAULT_LENGTH = 100_000;
    private static final int INITIAL = 1024;

    private final int capacity;
    private Object[] keys;
    /** {@code start.ordinal() << 4 | finish.ordinal()}. */
    private byte[] moves;
    private String[] stimuli;
    private double[] times;
    /** Where the next entry goes; once {@link #wrapped}, also the oldest entry. */
    private int next;
    private boolean wrapped;

    TransitionLog(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("transition log length: " + capacity + " (expected: >= 0)");
        }
        this.capacity = capacity;
        int n = Math.min(capacity, INITIAL);
        keys = new Object[n];
        moves = new byte[n];
        stimuli = new String[n];
        times = new double[n];
    }

    void record(Object key, TaskState.Status start, TaskState.Status finish, String stimulusId, double time) {
        int i = next;
        if (i == keys.length) {
            i = makeRoom();
            if (i < 0) {
                return;
            }
        }
        keys[i] = key;
        moves[i] = (byte) (start.ordinal() << 4 | finish.ordinal());
        stimuli[i] = stimulusId;
        times[i] = time;
        next = i + 1;
    }

    /** At the end of the arrays: grows them while below capacity, else wraps; -1 if the log keeps nothing. */
    private int makeRoom() {
        int n = keys.length;
        if (n < capacity) {
            int m = (int) Math.min(capacity, 2L * n);
            keys = java.util.Arrays.copyOf(keys, m);
            moves = java.util.Arrays.copyOf(moves, m);
            stimuli = java.util.Arrays.copyOf(stimuli, m);
            times = java.util.Arrays.copyOf(times, m);
            return n;
        }
        if (n == 0) {
            return -1;
        }
        wrapped = true;
        return 0;
    }

    int size() {
        return wrapped ? keys.length : next;
    }

    /**
     * Entries whose key or stimulus id is one of {@code keysOrStimuli}, oldest first. Dask's
     * {@code scheduler_story} (distributed/_stories.py) matches the key or a key among the entry's
     * recommendations, though its docstring promises stimulus ids; this matches keys and stimulus
     * ids (recommendations are always empty here, see {@link StoryEntry}).
     */
    List<StoryEntry> story(Collection<?> keysOrStimuli) {
        Set<Object> wanted = new HashSet<>(keysOrStimuli);
        List<StoryEntry> r = new ArrayList<>();
        int n = size();
        int first = wrapped ? next : 0;
        for (int j = 0; j < n; j++) {
            int i = (first + j) % keys.length;
            if (wanted.contains(keys[i]) || stimuli[i] != null && wanted.contains(stimuli[i])) {
                r.add(entry(i));
            }
        }
        return r;
    }

    /** The last {@code max} entries of {@code key}, oldest first (for error messages). */
    List<StoryEntry> recent(Object key, int max) {
        List<StoryEntry> all = new ArrayList<>();
        int n = size();
        int first = wrapped ? next : 0;
        for (int j = 0; j < n; j++) {
            int i = (first + j) % keys.length;
            if (java.util.Objects.equals(keys[i], key)) {
                all.add(entry(i));
            }
        }
        return all.subList(Math.max(0, all.size() - max), all.size());
    }

    private StoryEntry entry(int i) {
        int m = moves[i];
        return new StoryEntry(keys[i], TaskState.Status.of(m >>> 4).daskName, TaskState.Status.of(m & 15).daskName,
                Map.of(), stimuli[i], times[i]);
    }
}
