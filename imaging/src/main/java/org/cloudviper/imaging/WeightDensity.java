package org.cloudviper.imaging;

import java.util.Arrays;

/**
 * The gridded data weights that uniform and Briggs weighting divide by, per channel: npix x npix
 * cells of 1 / (npix cell) wavelengths (the image's own uv cells, as CASA grids them), each sample
 * added at its cell and at its conjugate's, as CASA does (VisImagingWeight: cell = int(u npix cell +
 * npix / 2), kept if 0 < cell < npix). Accumulate it over every block of a channel block, possibly in
 * separate tasks, {@link #add} the partial densities, then make {@link ImagingWeights} from the sum.
 * Not thread-safe; a density per task.
 */
public final class WeightDensity {
    static final double SPEED_OF_LIGHT = 299_792_458.0;

    private final int npix;
    private final double cellRad;
    private final float[][] planes;
    private final double[] sumWeights;

    WeightDensity(int npix, double cellRad, int nchan) {
        if (nchan < 1) {
            throw new IllegalArgumentException("nchan: " + nchan + " (expected: >= 1)");
        }
        this.npix = npix;
        this.cellRad = cellRad;
        this.planes = new float[nchan][npix * npix];
        this.sumWeights = new double[nchan];
    }

    public int nchan() {
        return planes.length;
    }

    public int npix() {
        return npix;
    }

    /** Adds the block's samples (all its channels, which are this density's channels in order). */
    public void accumulate(VisBlock block) {
        checkChannels(block);
        int nchan = planes.length;
        double scale = npix * cellRad / SPEED_OF_LIGHT;
        double origin = npix / 2;
        for (int c = 0; c < nchan; c++) {
            float[] d = planes[c];
            double s = scale * block.freqHz()[c];
            double sum = 0;
            for (int r = 0; r < block.nrow(); r++) {
                float wt = block.weight()[r * nchan + c];
                if (wt == 0) {
                    continue;
                }
                double su = block.u()[r] * s;
                double sv = block.v()[r] * s;
                int idx = cell(su + origin, sv + origin);
                if (idx >= 0) {
                    d[idx] += wt;
                    sum += wt;
                }
                idx = cell(-su + origin, -sv + origin);
                if (idx >= 0) {
                    d[idx] += wt;
                    sum += wt;
                }
            }
            sumWeights[c] += sum;
        }
    }

    /** The index of the density cell at grid position (x, y), or -1 outside 0 < cell < npix. */
    int cell(double x, double y) {
        double fx = Math.floor(x);
        double fy = Math.floor(y);
        if (!(fx >= 1 && fx < npix && fy >= 1 && fy < npix)) {
            return -1;
        }
        return (int) fy * npix + (int) fx;
    }

    void checkChannels(VisBlock block) {
        if (block.nchan() != planes.length) {
            throw new IllegalArgumentException("block channels: " + block.nchan() + " (expected: " + planes.length
                    + ", this density's)");
        }
    }

    /** Adds a partial density of the same channels. */
    public void add(WeightDensity other) {
        if (other.npix != npix || other.planes.length != planes.length || other.cellRad != cellRad) {
            throw new IllegalArgumentException("density of " + other.planes.length + " x " + other.npix
                    + "^2 (expected: " + planes.length + " x " + npix + "^2, the same cell)");
        }
        for (int c = 0; c < planes.length; c++) {
            float[] a = planes[c];
            float[] b = other.planes[c];
            for (int i = 0; i < a.length; i++) {
                a[i] += b[i];
            }
            sumWeights[c] += other.sumWeights[c];
        }
    }

    /** Channel c's density, [v cell][u cell], shared, not copied (to send it between tasks). */
    public float[] plane(int c) {
        return planes[c];
    }

    /** The sum of the weights added to channel c (each sample counted at both of its cells). */
    public double sumWeights(int c) {
        return sumWeights[c];
    }

    /** Sets channel c's sum, for a density whose planes arrived from another task. */
    public void setSumWeights(int c, double sum) {
        sumWeights[c] = sum;
    }

    public void clear() {
        for (float[] p : planes) {
            Arrays.fill(p, 0f);
        }
        Arrays.fill(sumWeights, 0);
    }

    double cellRad() {
        return cellRad;
    }
}
