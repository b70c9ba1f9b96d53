package org.cloudviper.scheduler.state;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * The scheduler's key -> task index: open addressing with linear probing (at most 1/4 full) over one array of
 * {@link TaskState}, each holding its key's hash ({@link TaskState#keyHash}). Compared with a
 * {@code HashMap} of 1,000,000 keys it allocates no entry objects and a lookup touches the slot
 * array and the task itself (which the caller reads next anyway) instead of table, entry and task.
 * Single-threaded; not modified while iterating.
 */
final class TaskTable {
    private static final int MIN_BITS = 4;

    private TaskState[] slots = new TaskState[1 << MIN_BITS];
    private int shift = 32 - MIN_BITS;
    private int size;

    /** The hash a key is stored under (Fibonacci-spread by {@link #index}). */
    static int hash(Object key) {
        return key == null ? 0 : key.hashCode();
    }

    private int index(int hash) {
        return (hash * 0x9E3779B9) >>> shift;
    }

    int size() {
        return size;
    }

    TaskState get(Object key) {
        int h = hash(key);
        TaskState[] s = slots;
        int mask = s.length - 1;
        for (int i = index(h); ; i = (i + 1) & mask) {
            TaskState ts = s[i];
            if (ts == null) {
                return null;
            }
            if (ts.key == key || ts.keyHash == h && Objects.equals(ts.key, key)) {
                return ts;
            }
        }
    }

    /** Adds {@code ts} under its key unless the key is present; returns the task already there, or null. */
    TaskState putIfAbsent(TaskState ts) {
        TaskState[] s = slots;
        int mask = s.length - 1;
        int h = ts.keyHash;
        int i = index(h);
        for (; ; i = (i + 1) & mask) {
            TaskState o = s[i];
            if (o == null) {
                break;
            }
            if (o.key == ts.key || o.keyHash == h && Objects.equals(o.key, ts.key)) {
                return o;
            }
        }
        s[i] = ts;
        if (++size > s.length >>> 2) {
            grow();
        }
        return null;
    }

    /** Removes the task stored under {@code key}; returns it, or null. */
    TaskState remove(Object key) {
        int h = hash(key);
        TaskState[] s = slots;
        int mask = s.length - 1;
        int i = index(h);
        for (; ; i = (i + 1) & mask) {
            TaskState ts = s[i];
            if (ts == null) {
                return null;
            }
            if (ts.key == key || ts.keyHash == h && Objects.equals(ts.key, key)) {
                break;
            }
        }
        TaskState removed = s[i];
        // Backward-shift deletion: move later entries of the probe run into the hole when their
        // home slot does not lie cyclically in (hole, their position].
        int hole = i;
        for (int j = (hole + 1) & mask; ; j = (j + 1) & mask) {
            TaskState ts = s[j];
            if (ts == null) {
                break;
            }
            int home = index(ts.keyHash);
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                s[hole] = ts;
                hole = j;
            }
        }
        s[hole] = null;
        size--;
        return removed;
    }

    private void grow() {
        TaskState[] old = slots;
        slots = new TaskState[old.length << 1];
        shift--;
        int mask = slots.length - 1;
        for (TaskState ts : old) {
            if (ts != null) {
                int i = index(ts.keyHash);
                while (slots[i] != null) {
                    i = (i + 1) & mask;
                }
                slots[i] = ts;
            }
        }
    }

    /** Every task, in table order (arbitrary, like a HashMap's). */
    Iterable<TaskState> values() {
        return () -> new Iterator<>() {
            private final TaskState[] s = slots;
            private int next = advance(0);

            private int advance(int i) {
                while (i < s.length && s[i] == null) {
                    i++;
                }
                return i;
            }

            @Override
            public boolean hasNext() {
                return next < s.length;
            }

            @Override
            public TaskState next() {
                if (next >= s.length) {
                    throw new NoSuchElementException();
                }
                TaskState ts = s[next];
                next = advance(next + 1);
                return ts;
            }
        };
    }
}
