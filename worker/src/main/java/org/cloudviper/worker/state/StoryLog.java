package org.cloudviper.worker.state;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The worker's recent history in the shape of distributed's {@code WorkerState.log}
 * (worker_state_machine.py): one entry per transition,
 * {@code (key, start, recommended, final, {key: state recommended on the way}, stimulus_id, time)},
 * and the entries Dask writes beside them, each ending with {@code stimulus_id, time}:
 * {@code (key, "compute-task", state, ...)}, {@code (key, "ensure-task-exists", state, ...)},
 * {@code ("free-keys", keys, ...)}, {@code (key, "put-in-memory", ...)},
 * {@code (key, "receive-from-scatter", ...)}, {@code (key, "remove-replica-confirmed", ...)},
 * {@code ("remove-replica-rejected", keys, ...)}, {@code ("gather-dependencies", worker, keys, ...)},
 * {@code (key, "missing-dep", ...)}, {@code (key, "cancel-compute", ...)} (names as in 2022.12.1).
 * This worker adds its memory manager's decisions: {@code (key, "spill", nbytes, ...)},
 * {@code (key, "spill-failed", reason, ...)}, {@code ("pause" | "resume", bytes in memory, ...)}.
 *
 * <p>Entries stay records until read: building Dask's tuple per transition would cost more than the
 * transition. The last {@link #LENGTH} entries are kept.
 */
final class StoryLog {
    static final int LENGTH = 10_000;

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    /** Seconds since the epoch stamped on new entries: the time of the events being handled. */
    private double now;

    private sealed interface Entry {
        List<Object> tuple();
    }

    /** Recommendations made on the way: none, one (inline: most transitions make at most one), or several. */
    private record Transition(Object key, TaskStatus from, TaskStatus to, TaskStatus after, Object recKey,
                              TaskStatus recTo, Object[] recs, String sid, double time) implements Entry {
        @Override
        public List<Object> tuple() {
            Map<Object, Object> r = new LinkedHashMap<>();
            if (recTo != null) {
                r.put(recKey, recTo.toString());
            }
            for (int i = 0; recs != null && i < recs.length; i += 2) {
                r.put(recs[i], recs[i + 1].toString());
            }
            return Arrays.asList(key, from.toString(), to.toString(), after.toString(), r, sid, time);
        }
    }

    /** Two or three fields ({@code third} is {@link #ABSENT} for two), then sid and time. */
    private record Note(Object first, Object second, Object third, String sid, double time) implements Entry {
        @Override
        public List<Object> tuple() {
            List<Object> t = new ArrayList<>(5);
            t.add(plain(first));
            t.add(plain(second));
            if (third != ABSENT) {
                t.add(plain(third));
            }
            t.add(sid);
            t.add(time);
            return t;
        }

        private static Object plain(Object f) {
            return f instanceof TaskStatus s ? s.toString() : f;
        }
    }

    private static final Object ABSENT = new Object();

    /** Stamps entries added from now on with {@code seconds} (since the epoch). */
    void at(double seconds) {
        now = seconds;
    }

    /** {@code key} went {@code from -> to} and ended in {@code after}, recommending {@code recs} on the way. */
    void transition(Object key, TaskStatus from, TaskStatus to, TaskStatus after, Recs recs, String sid) {
        int n = recs.size();
        add(n == 0 ? new Transition(key, from, to, after, null, null, null, sid, now)
                : n == 1 ? new Transition(key, from, to, after, recs.firstTask().key, recs.firstRec().to(), null, sid, now)
                : new Transition(key, from, to, after, null, null, recs.snapshot(), sid, now));
    }

    /** An entry {@code (first, second, sid, time)}; a task state is written as its Dask name. */
    void note(String sid, Object first, Object second) {
        add(new Note(first, second, ABSENT, sid, now));
    }

    /** An entry {@code (first, second, third, sid, time)}. */
    void note(String sid, Object first, Object second, Object third) {
        add(new Note(first, second, third, sid, now));
    }

    private void add(Entry e) {
        if (entries.size() >= LENGTH) {
            entries.removeFirst();
        }
        entries.addLast(e);
    }

    /**
     * distributed._stories.worker_story: the entries, oldest first, of which an element equals one
     * of {@code keysOrStimuli} or is a list or set containing one (a tuple key mentions its parts).
     */
    List<List<Object>> select(Collection<?> keysOrStimuli) {
        List<List<Object>> out = new ArrayList<>();
        for (Entry e : entries) {
            List<Object> t = e.tuple();
            if (mentions(t, keysOrStimuli)) {
                out.add(t);
            }
        }
        return out;
    }

    private static boolean mentions(List<Object> tuple, Collection<?> wanted) {
        for (Object element : tuple) {
            for (Object w : wanted) {
                if (Objects.equals(element, w)
                        || (w != null && element instanceof Collection<?> c && c.contains(w))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** An exception for an impossible state of {@code key}, with the key's story. */
    IllegalStateException invalid(Object key, String what) {
        return new IllegalStateException(what + " for key " + key + "; story: " + select(List.of(key)));
    }
}
