package org.cloudviper.scheduler.state;

import java.util.Arrays;
import java.util.List;

/**
 * Orders a graph the client did not order: dependencies before dependents, depth first from each
 * sink, so tree reductions finish one branch before starting the next and few intermediate results
 * are alive at once (in the spirit of dask.order, which is far more elaborate). The order is the
 * last element of a task's priority ({@link TaskState#comparePriority}).
 */
final class GraphOrder {
    /** {@link TaskState#order} of a new task not yet ordered. */
    static final long UNORDERED = -1;
    private static final long ON_STACK = -2;

    private GraphOrder() {
    }

    /** Gives every task of {@code created} (all {@link #UNORDERED}) an order from 0 up. */
    static void order(List<TaskState> created) {
        long next = 0;
        // The depth-first path: a task and how many of its dependencies were looked at. Arrays, not
        // an object per step: a 1,000,000-task graph pushes every task once.
        TaskState[] stack = new TaskState[16];
        int[] cursor = new int[16];
        for (TaskState sink : created) {
            if (sink.order != UNORDERED || hasUnorderedDependent(sink)) {
                continue;
            }
            int top = 0;
            stack[0] = sink;
            cursor[0] = 0;
            sink.order = ON_STACK;
            while (top >= 0) {
                TaskState ts = stack[top];
                if (cursor[top] < ts.dependencies.length) {
                    TaskState dep = ts.dependencies[cursor[top]++];
                    if (dep.order == UNORDERED) {
                        dep.order = ON_STACK;
                        if (++top == stack.length) {
                            stack = Arrays.copyOf(stack, top * 2);
                            cursor = Arrays.copyOf(cursor, top * 2);
                        }
                        stack[top] = dep;
                        cursor[top] = 0;
                    }
                } else {
                    stack[top--] = null;
                    ts.order = next++;
                }
            }
        }
        for (TaskState ts : created) { // cycles or leftovers: keep them valid
            if (ts.order < 0) {
                ts.order = next++;
            }
        }
    }

    private static boolean hasUnorderedDependent(TaskState ts) {
        for (int i = 0; i < ts.dependentCount; i++) {
            if (ts.dependents[i].order == UNORDERED) {
                return true;
            }
        }
        return false;
    }
}
