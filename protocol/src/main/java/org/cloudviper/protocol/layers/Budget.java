package org.cloudviper.protocol.layers;

/**
 * What is left of one graph's {@link LayerLimits} while its layers are expanded. Not thread-safe;
 * one per graph.
 */
public final class Budget {
    private final LayerLimits limits;
    private long tasks;

    public Budget(LayerLimits limits) {
        this.limits = limits;
    }

    public LayerLimits limits() {
        return limits;
    }

    /** Takes {@code n} more tasks for {@code layer}, or throws if the graph would pass the limit. */
    public void takeTasks(String layer, long n) {
        if (n < 0 || n > limits.maxTasks() - tasks) {
            throw LayerException.limit(layer, "tasks of the expanded graph", n < 0 ? Long.MAX_VALUE : tasks + n,
                    limits.maxTasks());
        }
        tasks += n;
    }

    /** Checks that one task lists at most {@link LayerLimits#maxTaskInputs} inputs. */
    public void checkInputs(String layer, long n) {
        if (n < 0 || n > limits.maxTaskInputs()) {
            throw LayerException.limit(layer, "inputs of one task", n < 0 ? Long.MAX_VALUE : n, limits.maxTaskInputs());
        }
    }

    /**
     * a * b for counts, Long.MAX_VALUE when negative or past it: any further sum wraps negative, and
     * {@link #takeTasks} refuses negative counts.
     */
    static long times(long a, long b) {
        if (a < 0 || b < 0) {
            return Long.MAX_VALUE;
        }
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
