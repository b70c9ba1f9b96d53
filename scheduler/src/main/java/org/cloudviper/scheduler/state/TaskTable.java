package org.cloudviper.scheduler.state;

import java.util.Objects;

/**
 * The scheduler's key -> task index: open addressing with linear probing, at most half full, over
 * an array of {@link TaskState} and a parallel array of their key hashes. Compared with a
 * {@code HashMap} of 1,000,000 keys it allocates no entry objects, and its two arrays (8 MiB each
 * at 1 M tasks) stay small enough for the processor's last-level cache: probing compares hashes
 * without touching other tasks, so a lookup reads one hash, one slot and the task itself (which the
 * caller reads next anyway). Single-threaded; not modified while iterating.
 */
final class TaskTable {
    private static final int MIN_BITS = 4;

    private TaskState[] slots = new TaskState[1 << MIN_BITS];
    private int[] hashes = new int[1 << MIN_BITS];
    private int shift = 32 - MIN_BITS;
    private int size;
    /** The next {@link TaskState#id}. */
    private int nextId;

    /** A new task for {@code key} with the next dense id; not yet in the table. */
    TaskState create(Object key) {
        return new TaskState(key, nextId++);
    }

    /** The hash a key is stored under (spread by {@link #index}). */
    static int hash(Object key) {
        return key == null ? 0 : key.hashCode();
    }

    private int index(int hash) {
        return (hash * 0x9E3779B9) >>> shift;
    }

    int size() {
        return size;
    }

    /** Grows the table now so that {@code more} further keys fit without rehashing on the way. */
    void reserve(int more) {
        long need = (long) size + more;
        int bits = 32 - shift;
        while (bits < 30 && need > (1L << bits) >>> 1) {
            bits++;
        }
        if (bits != 32 - shift) {
            rehash(bits);
        }
    }

    TaskState get(Object key) {
        return slots[slotOf(key, hash(key))];
    }

    /** The slot holding {@code key} (hash {@code h}), or the empty slot ending its probe run if absent. */
    private int slotOf(Object key, int h) {
        int[] hs = hashes;
        TaskState[] s = slots;
        int mask = hs.length - 1;
        int i = index(h);
        for (TaskState ts; (ts = s[i]) != null; i = (i + 1) & mask) {
            if (hs[i] == h && (ts.key == key || Objects.equals(ts.key, key))) {
                break;
            }
        }
        return i;
    }

    /** Adds {@code ts} under its key unless the key is present; returns the task already there, or null. */
    TaskState putIfAbsent(TaskState ts) {
        int h = ts.keyHash;
        int i = slotOf(ts.key, h);
        TaskState[] s = slots;
        if (s[i] != null) {
            return s[i];
        }
        s[i] = ts;
        hashes[i] = h;
        if (++size > s.length >>> 1) {
            rehash(33 - shift);
        }
        return null;
    }

    /** Removes the task stored under {@code key}; returns it, or null. */
    TaskState remove(Object key) {
        int i = slotOf(key, hash(key));
        int[] hs = hashes;
        TaskState[] s = slots;
        int mask = hs.length - 1;
        TaskState removed = s[i];
        if (removed == null) {
            return null;
        }
        // Backward-shift deletion: move later entries of the probe run into the hole when their
        // home slot does not lie cyclically in (hole, their position].
        int hole = i;
        for (int j = (hole + 1) & mask; ; j = (j + 1) & mask) {
            TaskState ts = s[j];
            if (ts == null) {
                break;
            }
            int home = index(hs[j]);
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                s[hole] = ts;
                hs[hole] = hs[j];
                hole = j;
            }
        }
        s[hole] = null;
        size--;
        return removed;
    }

    private void rehash(int bits) {
        TaskState[] old = slots;
        int[] oldHashes = hashes;
        slots = new TaskState[1 << bits];
        hashes = new int[1 << bits];
        shift = 32 - bits;
        int mask = slots.length - 1;
        for (int k = 0; k < old.length; k++) {
            if (old[k] != null) {
                int i = index(oldHashes[k]);
                while (slots[i] != null) {
                    i = (i + 1) & mask;
                }
                slots[i] = old[k];
                hashes[i] = oldHashes[k];
            }
        }
    }

    /** Every task, in table order (arbitrary, like a HashMap's). */
    Iterable<TaskState> values() {
        return () -> new SlotIterator(slots);
    }
}
