package org.cloudviper.scheduler.state;

import java.util.AbstractSet;
import java.util.ConcurrentModificationException;
import java.util.Iterator;

/**
 * A set of tasks by identity (a worker's processing and has-what, a client's wants): open
 * addressing with linear probing (at most 1/4 full, so probe runs stay short), hashed by the
 * task's dense {@link TaskState#id}. Membership
 * tests read only the slot array (no entry objects, no identity hash codes), which matters for
 * sets of hundreds of thousands of tasks. Iteration order is arbitrary; the iterator does not
 * support remove and fails if the set changes under it. Single-threaded.
 */
final class TaskSet extends AbstractSet<TaskState> {
    /** Ids are placed in blocks of 16 consecutive slots (one or two cache lines of references). */
    private static final int BLOCK_BITS = 4;
    private static final int MIN_BITS = BLOCK_BITS;

    private TaskState[] slots = new TaskState[1 << MIN_BITS];
    /** 32 - log2(number of blocks); 32 for a single block. */
    private int shift = 32 - (MIN_BITS - BLOCK_BITS);
    private int size;
    private int modCount;

    /**
     * Tasks are created, completed and released roughly in id order, so 16 consecutive ids share a
     * block of consecutive slots (sequential access then touches one cache line per block instead
     * of one per task); the block's place is the Fibonacci hash of {@code id / 16}, so strided id
     * patterns still spread over the table.
     */
    private int index(TaskState ts) {
        int id = ts.id;
        int block = ((id >>> BLOCK_BITS) * 0x9E3779B9 >>> 1) >>> (shift - 1);
        return block << BLOCK_BITS | id & ((1 << BLOCK_BITS) - 1);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean contains(Object o) {
        if (!(o instanceof TaskState ts)) {
            return false;
        }
        return slots[slotOf(ts)] == ts;
    }

    /** Where {@code ts} is, or the empty slot that ends its probe sequence if it is absent. */
    private int slotOf(TaskState ts) {
        TaskState[] s = slots;
        int mask = s.length - 1;
        int i = index(ts);
        while (s[i] != ts && s[i] != null) {
            i = (i + 1) & mask;
        }
        return i;
    }

    @Override
    public boolean add(TaskState ts) {
        TaskState[] s = slots;
        int i = slotOf(ts);
        if (s[i] == ts) {
            return false;
        }
        s[i] = ts;
        modCount++;
        if (++size > s.length >>> 2) {
            resize(s.length << 1, shift - 1);
        }
        return true;
    }

    @Override
    public boolean remove(Object o) {
        if (!(o instanceof TaskState ts)) {
            return false;
        }
        TaskState[] s = slots;
        int mask = s.length - 1;
        int i = slotOf(ts);
        if (s[i] == null) {
            return false;
        }
        // Backward-shift deletion (see TaskTable.remove).
        int hole = i;
        for (int j = (hole + 1) & mask; ; j = (j + 1) & mask) {
            TaskState x = s[j];
            if (x == null) {
                break;
            }
            int home = index(x);
            if (((j - home) & mask) >= ((j - hole) & mask)) {
                s[hole] = x;
                hole = j;
            }
        }
        s[hole] = null;
        size--;
        modCount++;
        return true;
    }

    @Override
    public void clear() {
        if (slots.length > 1 << MIN_BITS) {
            slots = new TaskState[1 << MIN_BITS];
            shift = 32 - (MIN_BITS - BLOCK_BITS);
        } else {
            java.util.Arrays.fill(slots, null);
        }
        size = 0;
        modCount++;
    }

    private void resize(int capacity, int newShift) {
        TaskState[] old = slots;
        slots = new TaskState[capacity];
        shift = newShift;
        int mask = capacity - 1;
        for (TaskState ts : old) {
            if (ts != null) {
                int i = index(ts);
                while (slots[i] != null) {
                    i = (i + 1) & mask;
                }
                slots[i] = ts;
            }
        }
    }

    @Override
    public Iterator<TaskState> iterator() {
        int expected = modCount;
        return new SlotIterator(slots) {
            @Override
            void checkUnmodified() {
                if (modCount != expected) {
                    throw new ConcurrentModificationException();
                }
            }
        };
    }
}
