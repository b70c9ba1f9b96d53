package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.List;

/**
 * The workers with a free slot, in the order they got it (ties in placement go to the earliest).
 * A worker joins and leaves this list about once per task it runs, so the list is intrusive (links
 * in {@link WorkerState}): joining and leaving allocate nothing and take constant time, where a
 * {@code LinkedHashSet} allocated an entry per join. Single-threaded.
 */
final class FreeWorkers {
    private WorkerState head;
    private WorkerState tail;
    private int size;

    boolean isEmpty() {
        return size == 0;
    }

    boolean contains(WorkerState ws) {
        return ws.freeListed;
    }

    /** The earliest listed worker, or null; walk on with {@link WorkerState#nextFree}. */
    WorkerState first() {
        return head;
    }

    /** Appends {@code ws} unless it is listed already. */
    void add(WorkerState ws) {
        if (ws.freeListed) {
            return;
        }
        ws.freeListed = true;
        ws.prevFree = tail;
        ws.nextFree = null;
        if (tail == null) {
            head = ws;
        } else {
            tail.nextFree = ws;
        }
        tail = ws;
        size++;
    }

    void remove(WorkerState ws) {
        if (!ws.freeListed) {
            return;
        }
        ws.freeListed = false;
        if (ws.prevFree == null) {
            head = ws.nextFree;
        } else {
            ws.prevFree.nextFree = ws.nextFree;
        }
        if (ws.nextFree == null) {
            tail = ws.prevFree;
        } else {
            ws.nextFree.prevFree = ws.prevFree;
        }
        ws.prevFree = null;
        ws.nextFree = null;
        size--;
    }

    /** A copy of the list, for checks and reports. */
    List<WorkerState> toList() {
        List<WorkerState> l = new ArrayList<>(size);
        for (WorkerState ws = head; ws != null; ws = ws.nextFree) {
            l.add(ws);
        }
        return l;
    }
}
