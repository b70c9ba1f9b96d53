package org.cloudviper.imaging.grid;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * The double gridder on the JDK's Vector API (incubating in 17; {@link Gridders} uses it only when
 * the JVM was started with {@code --add-modules jdk.incubator.vector}). A footprint row of
 * paddedSupport complex cells is whole vectors (two AVX-512 registers for W <= 8): each row costs a
 * load, a fused multiply-add and a store per vector. The kernel along u is evaluated with its lanes
 * paired (re, im) from {@link KernelPlan#pairedDoubleTable()}, so it multiplies the interleaved grid
 * directly.
 */
final class VectorDoubleGridder implements DoubleGridder {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final VectorMask<Double> ODD;

    static {
        boolean[] odd = new boolean[S.length()];
        for (int i = 1; i < odd.length; i += 2) {
            odd[i] = true;
        }
        ODD = VectorMask.fromArray(S, odd, 0);
    }

    private final KernelPlan kp;
    private final int n;
    private final int w;
    private final int len;
    private final int ov;
    private final double[] paired;
    private final Footprint at;
    private final double[] ky;
    private final double[] kxx;
    private final double[] lanes;

    VectorDoubleGridder(KernelPlan kp) {
        this.kp = kp;
        this.n = kp.gridSize();
        this.w = kp.support();
        this.len = 2 * kp.paddedSupport();
        if (len % S.length() != 0) {
            throw new IllegalStateException("row of " + len + " doubles is not whole vectors of " + S.length());
        }
        this.ov = kp.tableOversampling();
        this.paired = kp.pairedDoubleTable();
        this.at = new Footprint(kp);
        this.ky = new double[kp.paddedSupport()];
        this.kxx = new double[len];
        this.lanes = new double[len];
    }

    /** kxx = the kernel along u at fractional offset f, each lane twice. */
    private void pairedKernel(double f) {
        double s = f * ov;
        int seg = (int) s;
        double a = s - seg;
        int b = seg * 4 * len;
        DoubleVector av = DoubleVector.broadcast(S, a);
        for (int q = 0; q < len; q += S.length()) {
            DoubleVector c3 = DoubleVector.fromArray(S, paired, b + 3 * len + q);
            DoubleVector c2 = DoubleVector.fromArray(S, paired, b + 2 * len + q);
            DoubleVector c1 = DoubleVector.fromArray(S, paired, b + len + q);
            DoubleVector c0 = DoubleVector.fromArray(S, paired, b + q);
            c3.fma(av, c2).fma(av, c1).fma(av, c0).intoArray(kxx, q);
        }
    }

    @Override
    public void grid(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight, int offset,
            double[] dirty, PlaneStats dirtyStats, double[] psf, PlaneStats psfStats) {
        double centre = n / 2;
        for (int r = 0; r < count; r++) {
            int wi = offset + r;
            float wt = weight[wi];
            if (wt == 0) {
                continue;
            }
            if (!at.place(u[r] * uvScale + centre, v[r] * uvScale + centre)) {
                if (dirtyStats != null) {
                    dirtyStats.drop();
                }
                if (psfStats != null) {
                    psfStats.drop();
                }
                continue;
            }
            pairedKernel(at.fu);
            kp.weights(at.fv, ky);
            int base = 2 * (at.v0 * n + at.u0);
            if (dirty != null) {
                DoubleVector alt = DoubleVector.broadcast(S, (double) vis[2 * wi] * wt).blend((double) vis[2 * wi + 1] * wt, ODD);
                addFootprint(dirty, base, alt);
                dirtyStats.record(wt, at.v0, at.v0 + w - 1);
            }
            if (psf != null) {
                DoubleVector alt = DoubleVector.broadcast(S, wt).blend(0.0, ODD);
                addFootprint(psf, base, alt);
                psfStats.record(wt, at.v0, at.v0 + w - 1);
            }
        }
    }

    private void addFootprint(double[] g, int base, DoubleVector alt) {
        for (int q = 0; q < len; q += S.length()) {
            DoubleVector.fromArray(S, kxx, q).mul(alt).intoArray(lanes, q);
        }
        for (int j = 0; j < w; j++) {
            DoubleVector wy = DoubleVector.broadcast(S, ky[j]);
            for (int q = 0; q < len; q += S.length()) {
                DoubleVector cell = DoubleVector.fromArray(S, g, base + q);
                DoubleVector.fromArray(S, lanes, q).fma(wy, cell).intoArray(g, base + q);
            }
            base += 2 * n;
        }
    }

    @Override
    public void degrid(double uvScale, double[] u, double[] v, int nrow, double[] model, double[] visOut, int nchan,
            int chan) {
        double centre = n / 2;
        for (int r = 0; r < nrow; r++) {
            int vi = 2 * (r * nchan + chan);
            if (!at.place(u[r] * uvScale + centre, v[r] * uvScale + centre)) {
                visOut[vi] = 0;
                visOut[vi + 1] = 0;
                continue;
            }
            pairedKernel(at.fu);
            kp.weights(at.fv, ky);
            double re = 0;
            double im = 0;
            for (int q = 0; q < len; q += S.length()) {
                int base = 2 * (at.v0 * n + at.u0) + q;
                DoubleVector acc = DoubleVector.zero(S);
                for (int j = 0; j < w; j++) {
                    acc = DoubleVector.fromArray(S, model, base).fma(DoubleVector.broadcast(S, ky[j]), acc);
                    base += 2 * n;
                }
                acc = acc.mul(DoubleVector.fromArray(S, kxx, q));
                re += acc.reduceLanes(VectorOperators.ADD, ODD.not());
                im += acc.reduceLanes(VectorOperators.ADD, ODD);
            }
            visOut[vi] = re;
            visOut[vi + 1] = im;
        }
    }
}
