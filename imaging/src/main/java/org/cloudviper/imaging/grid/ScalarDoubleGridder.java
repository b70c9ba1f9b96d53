package org.cloudviper.imaging.grid;

import org.cloudviper.imaging.kernel.KernelPlan;

/** The plain-Java double gridder: no SIMD beyond what the JIT finds by itself. */
final class ScalarDoubleGridder implements DoubleGridder {
    private final KernelPlan kp;
    private final int n;
    private final int w;
    private final int wp;
    private final Footprint at;
    private final double[] kx;
    private final double[] ky;
    private final double[] lanes;
    private final double[] lanesPsf;

    ScalarDoubleGridder(KernelPlan kp) {
        this.kp = kp;
        this.n = kp.gridSize();
        this.w = kp.support();
        this.wp = kp.paddedSupport();
        this.at = new Footprint(kp);
        this.kx = new double[wp];
        this.ky = new double[wp];
        this.lanes = new double[2 * wp];
        this.lanesPsf = new double[2 * wp];
    }

    @Override
    public void grid(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight, int offset,
            double[] dirty, PlaneStats dirtyStats, double[] psf, PlaneStats psfStats) {
        double centre = n / 2;
        double sumWeights = 0;
        for (int r = 0; r < count; r++) {
            int wi = offset + r;
            float wt = weight[wi];
            if (wt == 0) {
                continue;
            }
            if (!at.place(u[r] * uvScale + centre, v[r] * uvScale + centre)) {
                PlaneStats.drop(dirtyStats, psfStats);
                continue;
            }
            kp.weights(at.fu, kx);
            kp.weights(at.fv, ky);
            if (dirty != null) {
                double ar = (double) vis[2 * wi] * wt;
                double ai = (double) vis[2 * wi + 1] * wt;
                for (int k = 0; k < wp; k++) {
                    lanes[2 * k] = ar * kx[k];
                    lanes[2 * k + 1] = ai * kx[k];
                }
                addFootprint(dirty, lanes);
            }
            if (psf != null) {
                for (int k = 0; k < wp; k++) {
                    lanesPsf[2 * k] = wt * kx[k];
                    lanesPsf[2 * k + 1] = 0;
                }
                addFootprint(psf, lanesPsf);
            }
            sumWeights += wt;
            PlaneStats.record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        PlaneStats.addWeights(dirtyStats, psfStats, sumWeights);
    }

    private void addFootprint(double[] g, double[] row) {
        int len = 2 * wp;
        int base = 2 * (at.v0 * n + at.u0);
        for (int j = 0; j < w; j++) {
            double wy = ky[j];
            for (int t = 0; t < len; t++) {
                g[base + t] += wy * row[t];
            }
            base += 2 * n;
        }
    }

    @Override
    public void degrid(double uvScale, double[] u, double[] v, int nrow, double[] model, double[] visOut, int nchan,
            int chan) {
        double centre = n / 2;
        int len = 2 * wp;
        for (int r = 0; r < nrow; r++) {
            int vi = 2 * (r * nchan + chan);
            if (!at.place(u[r] * uvScale + centre, v[r] * uvScale + centre)) {
                visOut[vi] = 0;
                visOut[vi + 1] = 0;
                continue;
            }
            kp.weights(at.fu, kx);
            kp.weights(at.fv, ky);
            for (int k = 0; k < wp; k++) {
                lanes[2 * k] = 0;
                lanes[2 * k + 1] = 0;
            }
            int base = 2 * (at.v0 * n + at.u0);
            for (int j = 0; j < w; j++) {
                double wy = ky[j];
                for (int t = 0; t < len; t++) {
                    lanes[t] += wy * model[base + t];
                }
                base += 2 * n;
            }
            double re = 0;
            double im = 0;
            for (int k = 0; k < w; k++) {
                re += kx[k] * lanes[2 * k];
                im += kx[k] * lanes[2 * k + 1];
            }
            visOut[vi] = re;
            visOut[vi + 1] = im;
        }
    }
}
