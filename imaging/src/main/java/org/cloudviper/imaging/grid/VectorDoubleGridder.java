package org.cloudviper.imaging.grid;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * The double gridder on the JDK's Vector API (incubating in 17; {@link Gridders} uses it only when
 * the JVM was started with {@code --add-modules jdk.incubator.vector}). A footprint row of
 * paddedSupport complex cells is whole vectors (two AVX-512 registers for W <= 8, four for W <= 16):
 * each row costs a load, a fused multiply-add and a store per vector, the kernel along u held in
 * registers for the whole footprint. That kernel is evaluated with its lanes paired (re, im) from
 * {@link KernelPlan#pairedDoubleTable()}, so it multiplies the interleaved grid directly. One species
 * throughout: mixing 256- and 512-bit vectors in a method defeats the JIT's intrinsics.
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
    /** Whether the kernel along v fits one vector (with 8 lanes in 16, the upper half is never read). */
    private final boolean rowVector;
    private final double[] table;
    private final int n;
    private final int w;
    private final int len;
    private final int vectors;
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
        this.vectors = len / S.length();
        this.ov = kp.tableOversampling();
        this.paired = kp.pairedDoubleTable();
        this.table = kp.doubleTable();
        this.rowVector = S.length() >= kp.paddedSupport();
        this.at = new Footprint(kp);
        this.ky = new double[Math.max(kp.paddedSupport(), S.length())];
        this.kxx = new double[len];
        this.lanes = new double[len];
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
            // vectors are made inside the footprint methods: a vector that may be null would be boxed
            double re = dirty == null ? 0 : (double) vis[2 * wi] * wt;
            double im = dirty == null ? 0 : (double) vis[2 * wi + 1] * wt;
            kernelV(at.fv);
            int base = 2 * (at.v0 * n + at.u0);
            // the branch goes the same way for every sample
            if (vectors == 1) {
                one(base, dirty, re, im, psf, wt);
            } else if (vectors == 2) {
                two(base, dirty, re, im, psf, wt);
            } else if (vectors == 4) {
                four(base, dirty, re, im, psf, wt);
            } else {
                wide(base, dirty, re, im, psf, wt);
            }
            sumWeights += wt;
            PlaneStats.record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        PlaneStats.addWeights(dirtyStats, psfStats, sumWeights);
    }

    /** Lanes [t, t + S.length()) of the paired kernel at local offset a. */
    private DoubleVector cubic(int t, DoubleVector a) {
        return DoubleVector.fromArray(S, paired, t + 3 * len)
                .fma(a, DoubleVector.fromArray(S, paired, t + 2 * len))
                .fma(a, DoubleVector.fromArray(S, paired, t + len))
                .fma(a, DoubleVector.fromArray(S, paired, t));
    }

    private int segment(double f) {
        return (int) (f * ov);
    }

    private DoubleVector offsetIn(double f, int seg) {
        return DoubleVector.broadcast(S, f * ov - seg);
    }

    private void one(int base, double[] dirty, double re, double im, double[] psf, double wt) {
        DoubleVector dirtyValue = DoubleVector.broadcast(S, re).blend(im, ODD);
        DoubleVector psfValue = DoubleVector.broadcast(S, wt).blend(0, ODD);
        int seg = segment(at.fu);
        DoubleVector k0 = cubic(seg * 4 * len, offsetIn(at.fu, seg));
        if (dirty != null) {
            addOne(dirty, base, k0.mul(dirtyValue));
        }
        if (psf != null) {
            addOne(psf, base, k0.mul(psfValue));
        }
    }

    private void addOne(double[] g, int b, DoubleVector l0) {
        for (int j = 0; j < w; j++, b += 2 * n) {
            l0.fma(DoubleVector.broadcast(S, ky[j]), DoubleVector.fromArray(S, g, b)).intoArray(g, b);
        }
    }

    private void two(int base, double[] dirty, double re, double im, double[] psf, double wt) {
        DoubleVector dirtyValue = DoubleVector.broadcast(S, re).blend(im, ODD);
        DoubleVector psfValue = DoubleVector.broadcast(S, wt).blend(0, ODD);
        int seg = segment(at.fu);
        DoubleVector a = offsetIn(at.fu, seg);
        DoubleVector k0 = cubic(seg * 4 * len, a);
        DoubleVector k1 = cubic(seg * 4 * len + S.length(), a);
        if (dirty != null) {
            addTwo(dirty, base, k0.mul(dirtyValue), k1.mul(dirtyValue));
        }
        if (psf != null) {
            addTwo(psf, base, k0.mul(psfValue), k1.mul(psfValue));
        }
    }

    private void addTwo(double[] g, int b, DoubleVector l0, DoubleVector l1) {
        int q = S.length();
        for (int j = 0; j < w; j++, b += 2 * n) {
            DoubleVector wy = DoubleVector.broadcast(S, ky[j]);
            l0.fma(wy, DoubleVector.fromArray(S, g, b)).intoArray(g, b);
            l1.fma(wy, DoubleVector.fromArray(S, g, b + q)).intoArray(g, b + q);
        }
    }

    private void four(int base, double[] dirty, double re, double im, double[] psf, double wt) {
        DoubleVector dirtyValue = DoubleVector.broadcast(S, re).blend(im, ODD);
        DoubleVector psfValue = DoubleVector.broadcast(S, wt).blend(0, ODD);
        int seg = segment(at.fu);
        DoubleVector a = offsetIn(at.fu, seg);
        int t = seg * 4 * len;
        int q = S.length();
        DoubleVector k0 = cubic(t, a);
        DoubleVector k1 = cubic(t + q, a);
        DoubleVector k2 = cubic(t + 2 * q, a);
        DoubleVector k3 = cubic(t + 3 * q, a);
        if (dirty != null) {
            addFour(dirty, base, k0.mul(dirtyValue), k1.mul(dirtyValue), k2.mul(dirtyValue), k3.mul(dirtyValue));
        }
        if (psf != null) {
            addFour(psf, base, k0.mul(psfValue), k1.mul(psfValue), k2.mul(psfValue), k3.mul(psfValue));
        }
    }

    private void addFour(double[] g, int b, DoubleVector l0, DoubleVector l1, DoubleVector l2, DoubleVector l3) {
        int q = S.length();
        for (int j = 0; j < w; j++, b += 2 * n) {
            DoubleVector wy = DoubleVector.broadcast(S, ky[j]);
            l0.fma(wy, DoubleVector.fromArray(S, g, b)).intoArray(g, b);
            l1.fma(wy, DoubleVector.fromArray(S, g, b + q)).intoArray(g, b + q);
            l2.fma(wy, DoubleVector.fromArray(S, g, b + 2 * q)).intoArray(g, b + 2 * q);
            l3.fma(wy, DoubleVector.fromArray(S, g, b + 3 * q)).intoArray(g, b + 3 * q);
        }
    }

    /** Rows of more than four vectors (W > 8 with 256-bit vectors): the kernel through memory. */
    private void wide(int base, double[] dirty, double re, double im, double[] psf, double wt) {
        DoubleVector dirtyValue = DoubleVector.broadcast(S, re).blend(im, ODD);
        DoubleVector psfValue = DoubleVector.broadcast(S, wt).blend(0, ODD);
        pairedKernel(at.fu);
        if (dirty != null) {
            addWide(dirty, base, dirtyValue);
        }
        if (psf != null) {
            addWide(psf, base, psfValue);
        }
    }

    private void addWide(double[] g, int base, DoubleVector value) {
        for (int q = 0; q < len; q += S.length()) {
            DoubleVector.fromArray(S, kxx, q).mul(value).intoArray(lanes, q);
        }
        for (int j = 0; j < w; j++, base += 2 * n) {
            DoubleVector wy = DoubleVector.broadcast(S, ky[j]);
            for (int q = 0; q < len; q += S.length()) {
                DoubleVector.fromArray(S, lanes, q).fma(wy, DoubleVector.fromArray(S, g, base + q)).intoArray(g, base + q);
            }
        }
    }

    /** kxx = the kernel along u at fractional offset f, each lane twice. */
    private void pairedKernel(double f) {
        int seg = segment(f);
        DoubleVector a = offsetIn(f, seg);
        for (int q = 0; q < len; q += S.length()) {
            cubic(seg * 4 * len + q, a).intoArray(kxx, q);
        }
    }

    /** ky = the kernel along v at fractional offset f. */
    private void kernelV(double f) {
        if (!rowVector) {
            kp.weights(f, ky);
            return;
        }
        int p = kp.paddedSupport();
        int seg = segment(f);
        DoubleVector a = offsetIn(f, seg);
        int b = seg * 4 * p;
        DoubleVector.fromArray(S, table, b + 3 * p)
                .fma(a, DoubleVector.fromArray(S, table, b + 2 * p))
                .fma(a, DoubleVector.fromArray(S, table, b + p))
                .fma(a, DoubleVector.fromArray(S, table, b))
                .intoArray(ky, 0);
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
            kernelV(at.fv);
            double re = 0;
            double im = 0;
            for (int q = 0; q < len; q += S.length()) {
                int base = 2 * (at.v0 * n + at.u0) + q;
                DoubleVector acc = DoubleVector.zero(S);
                for (int j = 0; j < w; j++, base += 2 * n) {
                    acc = DoubleVector.fromArray(S, model, base).fma(DoubleVector.broadcast(S, ky[j]), acc);
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
