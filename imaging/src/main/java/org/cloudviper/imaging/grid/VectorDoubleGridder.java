package org.cloudviper.imaging.grid;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * The double gridder on the JDK's Vector API (incubating in 17; {@link Gridders} uses it only when
 * the JVM was started with {@code --add-modules jdk.incubator.vector}). A footprint row of
 * paddedSupport complex cells is whole vectors (two AVX-512 registers for W <= 8, see gridTwo): each row costs a
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
    /** Whether a kernel row (paddedSupport = 8 doubles) is one 512-bit vector on this machine. */
    private final boolean rowVector;
    private final double[] table;
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
        this.table = kp.doubleTable();
        this.rowVector = kp.paddedSupport() == 8 && S.length() == 8;
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
        if (len == 2 * S.length()) {
            gridTwo(uvScale, u, v, count, vis, weight, offset, dirty, dirtyStats, psf, psfStats);
            return;
        }
        if (len == 4 * S.length()) {
            gridFour(uvScale, u, v, count, vis, weight, offset, dirty, dirtyStats, psf, psfStats);
            return;
        }
        if (len != S.length()) {
            gridWide(uvScale, u, v, count, vis, weight, offset, dirty, dirtyStats, psf, psfStats);
            return;
        }
        // a footprint row is one vector: the kernel lanes stay in a register for the whole footprint
        double centre = n / 2;
        int rowStride = 2 * n;
        double sumWeights = 0;
        for (int r = 0; r < count; r++) {
            int wi = offset + r;
            float wt = weight[wi];
            if (wt == 0) {
                continue;
            }
            if (!at.place(u[r] * uvScale + centre, v[r] * uvScale + centre)) {
                drop(dirtyStats, psfStats);
                continue;
            }
            DoubleVector kx = pairedKernel0(at.fu);
            kernelV(at.fv);
            int base = 2 * (at.v0 * n + at.u0);
            if (dirty != null) {
                DoubleVector lanes0 = kx.mul(DoubleVector.broadcast(S, (double) vis[2 * wi] * wt).blend((double) vis[2 * wi + 1] * wt, ODD));
                int b = base;
                for (int j = 0; j < w; j++, b += rowStride) {
                    lanes0.fma(DoubleVector.broadcast(S, ky[j]), DoubleVector.fromArray(S, dirty, b)).intoArray(dirty, b);
                }
            }
            if (psf != null) {
                DoubleVector lanes0 = kx.mul(DoubleVector.broadcast(S, (double) wt).blend(0.0, ODD));
                int b = base;
                for (int j = 0; j < w; j++, b += rowStride) {
                    lanes0.fma(DoubleVector.broadcast(S, ky[j]), DoubleVector.fromArray(S, psf, b)).intoArray(psf, b);
                }
            }
            sumWeights += wt;
            record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        addWeights(dirtyStats, psfStats, sumWeights);
    }

    /** A footprint row is two vectors (W <= 8 on AVX-512): both kernel halves stay in registers. */
    private void gridTwo(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight, int offset,
            double[] dirty, PlaneStats dirtyStats, double[] psf, PlaneStats psfStats) {
        double centre = n / 2;
        int rowStride = 2 * n;
        int half = S.length();
        double sumWeights = 0;
        for (int r = 0; r < count; r++) {
            int wi = offset + r;
            float wt = weight[wi];
            if (wt == 0) {
                continue;
            }
            if (!at.place(u[r] * uvScale + centre, v[r] * uvScale + centre)) {
                drop(dirtyStats, psfStats);
                continue;
            }
            double s = at.fu * ov;
            int seg = (int) s;
            DoubleVector a = DoubleVector.broadcast(S, s - seg);
            int t = seg * 4 * len;
            DoubleVector kx0 = DoubleVector.fromArray(S, paired, t + 3 * len)
                    .fma(a, DoubleVector.fromArray(S, paired, t + 2 * len))
                    .fma(a, DoubleVector.fromArray(S, paired, t + len))
                    .fma(a, DoubleVector.fromArray(S, paired, t));
            DoubleVector kx1 = DoubleVector.fromArray(S, paired, t + 3 * len + half)
                    .fma(a, DoubleVector.fromArray(S, paired, t + 2 * len + half))
                    .fma(a, DoubleVector.fromArray(S, paired, t + len + half))
                    .fma(a, DoubleVector.fromArray(S, paired, t + half));
            kernelV(at.fv);
            int base = 2 * (at.v0 * n + at.u0);
            if (dirty != null) {
                DoubleVector alt = DoubleVector.broadcast(S, (double) vis[2 * wi] * wt)
                        .blend((double) vis[2 * wi + 1] * wt, ODD);
                addTwo(dirty, base, rowStride, kx0.mul(alt), kx1.mul(alt));
            }
            if (psf != null) {
                DoubleVector alt = DoubleVector.broadcast(S, (double) wt).blend(0.0, ODD);
                addTwo(psf, base, rowStride, kx0.mul(alt), kx1.mul(alt));
            }
            sumWeights += wt;
            record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        addWeights(dirtyStats, psfStats, sumWeights);
    }

    /** A footprint row is four vectors (9 <= W <= 16 on AVX-512): the kernel stays in four registers. */
    private void gridFour(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight, int offset,
            double[] dirty, PlaneStats dirtyStats, double[] psf, PlaneStats psfStats) {
        double centre = n / 2;
        int rowStride = 2 * n;
        int q = S.length();
        double sumWeights = 0;
        for (int r = 0; r < count; r++) {
            int wi = offset + r;
            float wt = weight[wi];
            if (wt == 0) {
                continue;
            }
            if (!at.place(u[r] * uvScale + centre, v[r] * uvScale + centre)) {
                drop(dirtyStats, psfStats);
                continue;
            }
            double s = at.fu * ov;
            int seg = (int) s;
            DoubleVector a = DoubleVector.broadcast(S, s - seg);
            int t = seg * 4 * len;
            DoubleVector k0 = cubic(t, a);
            DoubleVector k1 = cubic(t + q, a);
            DoubleVector k2 = cubic(t + 2 * q, a);
            DoubleVector k3 = cubic(t + 3 * q, a);
            kp.weights(at.fv, ky);
            int base = 2 * (at.v0 * n + at.u0);
            if (dirty != null) {
                DoubleVector alt = DoubleVector.broadcast(S, (double) vis[2 * wi] * wt)
                        .blend((double) vis[2 * wi + 1] * wt, ODD);
                addFour(dirty, base, rowStride, k0.mul(alt), k1.mul(alt), k2.mul(alt), k3.mul(alt));
            }
            if (psf != null) {
                DoubleVector alt = DoubleVector.broadcast(S, (double) wt).blend(0.0, ODD);
                addFour(psf, base, rowStride, k0.mul(alt), k1.mul(alt), k2.mul(alt), k3.mul(alt));
            }
            sumWeights += wt;
            record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        addWeights(dirtyStats, psfStats, sumWeights);
    }

    /** Lanes [t, t + S.length()) of the paired kernel at local offset a (coefficients at t, t + len, ...). */
    private DoubleVector cubic(int t, DoubleVector a) {
        return DoubleVector.fromArray(S, paired, t + 3 * len)
                .fma(a, DoubleVector.fromArray(S, paired, t + 2 * len))
                .fma(a, DoubleVector.fromArray(S, paired, t + len))
                .fma(a, DoubleVector.fromArray(S, paired, t));
    }

    private void addFour(double[] g, int b, int rowStride, DoubleVector l0, DoubleVector l1, DoubleVector l2,
            DoubleVector l3) {
        int q = S.length();
        for (int j = 0; j < w; j++, b += rowStride) {
            DoubleVector wy = DoubleVector.broadcast(S, ky[j]);
            l0.fma(wy, DoubleVector.fromArray(S, g, b)).intoArray(g, b);
            l1.fma(wy, DoubleVector.fromArray(S, g, b + q)).intoArray(g, b + q);
            l2.fma(wy, DoubleVector.fromArray(S, g, b + 2 * q)).intoArray(g, b + 2 * q);
            l3.fma(wy, DoubleVector.fromArray(S, g, b + 3 * q)).intoArray(g, b + 3 * q);
        }
    }

    private void addTwo(double[] g, int b, int rowStride, DoubleVector l0, DoubleVector l1) {
        int half = S.length();
        for (int j = 0; j < w; j++, b += rowStride) {
            DoubleVector wy = DoubleVector.broadcast(S, ky[j]);
            l0.fma(wy, DoubleVector.fromArray(S, g, b)).intoArray(g, b);
            l1.fma(wy, DoubleVector.fromArray(S, g, b + half)).intoArray(g, b + half);
        }
    }

    private static void drop(PlaneStats a, PlaneStats b) {
        if (a != null) {
            a.drop();
        }
        if (b != null) {
            b.drop();
        }
    }

    private static void record(PlaneStats a, PlaneStats b, int firstRow, int lastRow) {
        if (a != null) {
            a.record(firstRow, lastRow);
        }
        if (b != null) {
            b.record(firstRow, lastRow);
        }
    }

    private static void addWeights(PlaneStats a, PlaneStats b, double sum) {
        if (a != null) {
            a.addWeights(sum);
        }
        if (b != null) {
            b.addWeights(sum);
        }
    }

    /** ky = the kernel along v at fractional offset f (one vector when the machine has one that wide). */
    private void kernelV(double f) {
        if (!rowVector) {
            kp.weights(f, ky);
            return;
        }
        int p = 8;
        double s = f * ov;
        int seg = (int) s;
        DoubleVector a = DoubleVector.broadcast(S, s - seg);
        int b = seg * 4 * p;
        DoubleVector c3 = DoubleVector.fromArray(S, table, b + 3 * p);
        DoubleVector c2 = DoubleVector.fromArray(S, table, b + 2 * p);
        DoubleVector c1 = DoubleVector.fromArray(S, table, b + p);
        DoubleVector c0 = DoubleVector.fromArray(S, table, b);
        c3.fma(a, c2).fma(a, c1).fma(a, c0).intoArray(ky, 0);
    }

    /** The paired kernel along u (see pairedKernel) when it is one vector. */
    private DoubleVector pairedKernel0(double f) {
        double s = f * ov;
        int seg = (int) s;
        DoubleVector a = DoubleVector.broadcast(S, s - seg);
        int b = seg * 4 * len;
        DoubleVector c3 = DoubleVector.fromArray(S, paired, b + 3 * len);
        DoubleVector c2 = DoubleVector.fromArray(S, paired, b + 2 * len);
        DoubleVector c1 = DoubleVector.fromArray(S, paired, b + len);
        DoubleVector c0 = DoubleVector.fromArray(S, paired, b);
        return c3.fma(a, c2).fma(a, c1).fma(a, c0);
    }

    /** Footprint rows of several vectors (W > 8 on AVX-512, W > 4 on AVX2). */
    private void gridWide(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight,
            int offset, double[] dirty, PlaneStats dirtyStats, double[] psf,
            PlaneStats psfStats) {
        double centre = n / 2;
        double sumWeights = 0;
        for (int r = 0; r < count; r++) {
            int wi = offset + r;
            float wt = weight[wi];
            if (wt == 0) {
                continue;
            }
            if (!at.place(u[r] * uvScale + centre, v[r] * uvScale + centre)) {
                drop(dirtyStats, psfStats);
                continue;
            }
            pairedKernel(at.fu);
            kernelV(at.fv);
            int base = 2 * (at.v0 * n + at.u0);
            if (dirty != null) {
                DoubleVector alt = DoubleVector.broadcast(S, (double) vis[2 * wi] * wt).blend((double) vis[2 * wi + 1] * wt, ODD);
                addFootprint(dirty, base, alt);
            }
            if (psf != null) {
                DoubleVector alt = DoubleVector.broadcast(S, (double) wt).blend(0.0, ODD);
                addFootprint(psf, base, alt);
            }
            sumWeights += wt;
            record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        addWeights(dirtyStats, psfStats, sumWeights);
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
            kernelV(at.fv);
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
