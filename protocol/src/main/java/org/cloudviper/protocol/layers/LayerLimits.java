package org.cloudviper.protocol.layers;

/**
 * Bounds on what one graph's layers may expand to, checked before anything is allocated for it: a
 * layer is a few numbers that can name billions of tasks ({@code numblocks}, partition counts), so
 * the numbers are checked, not the bytes that carried them.
 *
 * @param maxTasks      tasks all expanded layers of one graph may produce together
 * @param maxTaskInputs keys one task may list (a contraction over many blocks, a tree node, a
 *                      shuffle's concatenation)
 * @param maxDimensions block dimensions of one Blockwise index (output and contracted together)
 */
public record LayerLimits(long maxTasks, long maxTaskInputs, int maxDimensions) {

    /** 5,000,000 tasks per graph, 1,000,000 inputs per task, 64 dimensions. */
    public static final LayerLimits DEFAULT = new LayerLimits(5_000_000, 1_000_000, 64);

    public LayerLimits {
        if (maxTasks < 1 || maxTaskInputs < 1 || maxDimensions < 1) {
            throw new IllegalArgumentException("limits must be positive: " + maxTasks + ", " + maxTaskInputs + ", "
                    + maxDimensions);
        }
    }
}
