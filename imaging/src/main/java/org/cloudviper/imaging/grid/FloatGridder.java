package org.cloudviper.imaging.grid;

/**
 * Gridding and degridding in single precision on a grid of interleaved (re, im) floats, row-major,
 * {@code gridSize} rows of {@code gridSize} cells, the grid's centre cell (N/2, N/2) at u = v = 0.
 * Visibilities arrive as a block of rows x channels laid out [row][chan][re, im], weights as
 * [row][chan]; one call handles one channel of the block. An instance holds a few dozen values of
 * scratch: one per thread, not thread-safe. Made by {@link Gridders}.
 */
public interface FloatGridder {
    /**
     * Adds samples [0, count) of one channel to {@code dirty} (weight x visibility) and/or {@code psf}
     * (weight x 1); either may be null. Sample k lies at (u[k], v[k]) metres and has the visibility
     * (vis[2 (offset + k)], vis[2 (offset + k) + 1]) and the weight weight[offset + k]: one channel's
     * samples, contiguous (see {@link SampleBuffer}). Weight 0 skips a sample; samples whose footprint
     * leaves the grid are counted as dropped.
     *
     * @param uvScale grid cells per metre of baseline at this channel: gridSize * cell * freq / c
     */
    void grid(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight, int offset,
            float[] dirty, PlaneStats dirtyStats, float[] psf, PlaneStats psfStats);

    /**
     * Predicts channel {@code chan} of rows [0, nrow) from a model grid (the Fourier plane of a model
     * image, see FloatGridTransform#toModelGrid), writing [row][chan][re, im] of {@code visOut}; rows
     * whose footprint leaves the grid get 0.
     */
    void degrid(double uvScale, double[] u, double[] v, int nrow, float[] model, float[] visOut, int nchan, int chan);
}
