package org.cloudviper.scheduler.state;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The tasks of an open-addressing slot array ({@link TaskTable}, {@link TaskSet}), in slot order,
 * skipping empty slots. {@link #checkUnmodified} lets an owner fail fast when it changes meanwhile.
 */
class SlotIterator implements Iterator<TaskState> {
    private final TaskState[] slots;
    private int next;

    SlotIterator(TaskState[] slots) {
        this.slots = slots;
        this.next = advance(0);
    }

    private int advance(int i) {
        while (i < slots.length && slots[i] == null) {
            i++;
        }
        return i;
    }

    /** Throws if the owner changed since this iterator was made; nothing by default. */
    void checkUnmodified() {
    }

    @Override
    public boolean hasNext() {
        return next < slots.length;
    }

    @Override
    public TaskState next() {
        checkUnmodified();
        if (next >= slots.length) {
            throw new NoSuchElementException();
        }
        TaskState ts = slots[next];
        next = advance(next + 1);
        return ts;
    }
}
