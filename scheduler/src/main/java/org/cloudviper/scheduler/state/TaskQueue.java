package org.cloudviper.scheduler.state;

import java.util.Arrays;

/**
 * The scheduler's queue of ready tasks, best priority ({@link TaskState#comparePriority}) first.
 * Tasks mostly arrive already in priority order (an update's runnable tasks are sorted before
 * they are queued), so a task no better than the last one appended goes to a FIFO run, O(1) each
 * way; only a task that would have to jump ahead of the run's tail (e.g. a dependent that became
 * ready while later root tasks wait) goes to a binary heap. {@link #poll} takes the better of the
 * run's head and the heap's top. Equal priorities come out in no particular order, as from a heap.
 */
final class TaskQueue {
    // FIFO run in non-decreasing priority: ring buffer [head, head + runSize).
    private TaskState[] run = new TaskState[16];
    private int head;
    private int runSize;
    // Binary min-heap of out-of-order arrivals.
    private TaskState[] heap = new TaskState[16];
    private int heapSize;

    boolean isEmpty() {
        return runSize == 0 && heapSize == 0;
    }

    int size() {
        return runSize + heapSize;
    }

    void add(TaskState ts) {
        if (runSize == 0 || TaskState.comparePriority(run[(head + runSize - 1) & (run.length - 1)], ts) <= 0) {
            if (runSize == run.length) {
                growRun();
            }
            run[(head + runSize) & (run.length - 1)] = ts;
            runSize++;
        } else {
            heapAdd(ts);
        }
    }

    /** Removes and returns the best task, or null if empty. */
    TaskState poll() {
        if (heapSize == 0 || runSize > 0 && TaskState.comparePriority(run[head], heap[0]) <= 0) {
            if (runSize == 0) {
                return null;
            }
            TaskState ts = run[head];
            run[head] = null;
            head = (head + 1) & (run.length - 1);
            if (--runSize == 0) {
                head = 0;
            }
            return ts;
        }
        return heapPoll();
    }

    private void growRun() {
        TaskState[] r = new TaskState[run.length << 1];
        int first = Math.min(runSize, run.length - head);
        System.arraycopy(run, head, r, 0, first);
        System.arraycopy(run, 0, r, first, runSize - first);
        run = r;
        head = 0;
    }

    private void heapAdd(TaskState ts) {
        if (heapSize == heap.length) {
            heap = Arrays.copyOf(heap, heap.length << 1);
        }
        int i = heapSize++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            TaskState p = heap[parent];
            if (TaskState.comparePriority(ts, p) >= 0) {
                break;
            }
            heap[i] = p;
            i = parent;
        }
        heap[i] = ts;
    }

    private TaskState heapPoll() {
        TaskState top = heap[0];
        TaskState last = heap[--heapSize];
        heap[heapSize] = null;
        if (heapSize > 0) {
            int i = 0;
            int half = heapSize >>> 1;
            while (i < half) {
                int c = 2 * i + 1;
                TaskState child = heap[c];
                if (c + 1 < heapSize && TaskState.comparePriority(heap[c + 1], child) < 0) {
                    child = heap[++c];
                }
                if (TaskState.comparePriority(last, child) <= 0) {
                    break;
                }
                heap[i] = child;
                i = c;
            }
            heap[i] = last;
        }
        return top;
    }
}
