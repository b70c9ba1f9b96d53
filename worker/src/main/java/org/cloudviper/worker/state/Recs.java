package org.cloudviper.worker.state;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Recommended transitions, in the order first recommended; a later recommendation for the same
 * task replaces the earlier one in place, and a replaced value that was never stored goes to
 * {@code dispose}. Usually one to three entries: those live in two small arrays searched by
 * identity, because creating and resizing a hash map per event showed in profiles; past
 * {@link #SMALL} entries (a free-keys of many keys) a linked map takes over.
 */
final class Recs {
    private static final int SMALL = 8;

    private final Consumer<Object> dispose;
    // Up to SMALL recommendations in two parallel arrays, allocated on the first put: most events
    // make few recommendations, and many Recs stay empty.
    private TaskState[] tasks;
    private Rec[] recs;
    private int size;
    private LinkedHashMap<TaskState, Rec> big;

    /** @param dispose receives a value whose recommendation was replaced before it was stored */
    Recs(Consumer<Object> dispose) {
        this.dispose = dispose;
    }

    private int indexOf(TaskState ts) {
        for (int i = 0; i < size; i++) {
            if (tasks[i] == ts) {
                return i;
            }
        }
        return -1;
    }

    void put(TaskState ts, Rec r) {
        Rec old;
        if (big != null) {
            old = big.put(ts, r);
        } else {
            int i = indexOf(ts);
            if (i >= 0) {
                old = recs[i];
                recs[i] = r;
            } else if (size < SMALL) {
                if (tasks == null) {
                    tasks = new TaskState[SMALL];
                    recs = new Rec[SMALL];
                }
                tasks[size] = ts;
                recs[size++] = r;
                return;
            } else {
                big = new LinkedHashMap<>(4 * SMALL);
                for (int j = 0; j < size; j++) {
                    big.put(tasks[j], recs[j]);
                }
                clearSmall();
                big.put(ts, r);
                return;
            }
        }
        if (old != null && old.hasValue() && (!r.hasValue() || r.value() != old.value())) {
            dispose.accept(old.value());
        }
    }

    private void clearSmall() {
        Arrays.fill(tasks, 0, size, null);
        Arrays.fill(recs, 0, size, null);
        size = 0;
    }

    /** Moves every entry of {@code other} here (as {@link #put}), leaving it empty. */
    void putAll(Recs other) {
        if (other.big != null) {
            for (Map.Entry<TaskState, Rec> e : other.big.entrySet()) {
                put(e.getKey(), e.getValue());
            }
            other.big = null;
        } else if (other.size > 0) {
            for (int i = 0; i < other.size; i++) {
                put(other.tasks[i], other.recs[i]);
            }
            other.clearSmall();
        }
    }

    Rec remove(TaskState ts) {
        if (big != null) {
            return big.remove(ts);
        }
        int i = indexOf(ts);
        if (i < 0) {
            return null;
        }
        Rec r = recs[i];
        removeAt(i);
        return r;
    }

    private void removeAt(int i) {
        System.arraycopy(tasks, i + 1, tasks, i, size - i - 1);
        System.arraycopy(recs, i + 1, recs, i, size - i - 1);
        size--;
        tasks[size] = null;
        recs[size] = null;
    }

    boolean isEmpty() {
        return big != null ? big.isEmpty() : size == 0;
    }

    int size() {
        return big != null ? big.size() : size;
    }

    /** The oldest recommendation (not taken out); see {@link #firstTask}. */
    Rec firstRec() {
        return big != null ? big.values().iterator().next() : recs[0];
    }

    /** The oldest recommendation's task; with {@link #pollFirstRec} it takes the entry out. */
    TaskState firstTask() {
        return big != null ? big.keySet().iterator().next() : tasks[0];
    }

    Rec pollFirstRec() {
        if (big != null) {
            Iterator<Map.Entry<TaskState, Rec>> it = big.entrySet().iterator();
            Rec r = it.next().getValue();
            it.remove();
            return r;
        }
        Rec r = recs[0];
        removeAt(0);
        return r;
    }

    /** Key and target state of each entry, alternating, for the story. */
    Object[] snapshot() {
        if (big != null) {
            Object[] out = new Object[2 * big.size()];
            int i = 0;
            for (Map.Entry<TaskState, Rec> e : big.entrySet()) {
                out[i++] = e.getKey().key;
                out[i++] = e.getValue().to();
            }
            return out;
        }
        Object[] out = new Object[2 * size];
        for (int i = 0; i < size; i++) {
            out[2 * i] = tasks[i].key;
            out[2 * i + 1] = recs[i].to();
        }
        return out;
    }
}
