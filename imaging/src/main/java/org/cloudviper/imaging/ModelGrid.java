package org.cloudviper.imaging;

/**
 * The Fourier plane of one channel's model image, corrected for the kernel, ready for
 * {@link Imager#degrid}: gridSize x gridSize complex cells. Immutable once made; shared by every
 * degridding task of the channel.
 */
public final class ModelGrid {
    private final float[] floats;
    private final double[] doubles;

    ModelGrid(float[] floats, double[] doubles) {
        this.floats = floats;
        this.doubles = doubles;
    }

    float[] floats() {
        return floats;
    }

    double[] doubles() {
        return doubles;
    }
}
