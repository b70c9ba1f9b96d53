package org.cloudviper.scheduler.state;

import java.util.ArrayDeque;
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
        ArrayDeque<TaskState> stack = new ArrayDeque<>();
        ArrayDeque<int[]> cursor = new ArrayDeque<>();
        for (TaskState sink : created) {
            if (sink.order != UNORDERED || hasUnorderedDependent(sink)) {
                continue;
            }
            stack.push(sink);
            cursor.push(new int[]{0});
            sink.order = ON_STACK;
            while (!stack.isEmpty()) {
                TaskState ts = stack.peek();
                int[] c = cursor.peek();
                if (c[0] < ts.dependencies.length) {
                    TaskState dep = ts.dependencies[c[0]++];
                    if (dep.order == UNORDERED) {
                        dep.order = ON_STACK;
                        stack.push(dep);
                        cursor.push(new int[]{0});
                    }
                } else {
                    stack.pop();
                    cursor.pop();
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
