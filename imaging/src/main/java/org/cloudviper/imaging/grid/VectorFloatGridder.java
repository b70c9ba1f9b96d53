package org.cloudviper.imaging.grid;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * The float gridder on the JDK's Vector API (incubating in 17; {@link Gridders} uses it only when
 * the JVM was started with {@code --add-modules jdk.incubator.vector}). A footprint row of
 * paddedSupport complex cells is whole vectors (one AVX-512 register for W <= 8): each row costs a
 * load, a fused multiply-add and a store per vector. The kernel along u is evaluated with its lanes
 * paired (re, im) from {@link KernelPlan#pairedFloatTable()}, so it multiplies the interleaved grid
 * directly.
 */
final class VectorFloatGridder implements FloatGridder {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorMask<Float> ODD;

    static {
        boolean[] odd = new boolean[S.length()];
        for (int i = 1; i < odd.length; i += 2) {
            odd[i] = true;
        }
        ODD = VectorMask.fromArray(S, odd, 0);
    }

    private final KernelPlan kp;
    /**
     * Whether a kernel row along v is evaluated as one vector: paddedSupport 8 or 16 on AVX-512 (with 8
     * lanes the upper half of the vector computes garbage that is never read). One species throughout:
     * mixing 256- and 512-bit vectors in a method defeats the JIT's intrinsics here.
     */
    private final boolean rowVector;
    private final float[] table;
    private final int n;
    private final int w;
    private final int len;
    private final int ov;
    private final float[] paired;
    private final Footprint at;
    private final float[] ky;
    private final float[] kxx;
    private final float[] lanes;

    VectorFloatGridder(KernelPlan kp) {
        this.kp = kp;
        this.n = kp.gridSize();
        this.w = kp.support();
        this.len = 2 * kp.paddedSupport();
        if (len % S.length() != 0) {
            throw new IllegalStateException("row of " + len + " floats is not whole vectors of " + S.length());
        }
        this.ov = kp.tableOversampling();
        this.paired = kp.pairedFloatTable();
        this.table = kp.floatTable();
        this.rowVector = S.length() == 16 && kp.paddedSupport() <= 16;
        this.at = new Footprint(kp);
        this.ky = new float[Math.max(kp.paddedSupport(), S.length())];
        this.kxx = new float[len];
        this.lanes = new float[len];
    }

    /** kxx = the kernel along u at fractional offset f, each lane twice. */
    private void pairedKernel(double f) {
        double s = f * ov;
        int seg = (int) s;
        float a = (float) (s - seg);
        int b = seg * 4 * len;
        FloatVector av = FloatVector.broadcast(S, a);
        for (int q = 0; q < len; q += S.length()) {
            FloatVector c3 = FloatVector.fromArray(S, paired, b + 3 * len + q);
            FloatVector c2 = FloatVector.fromArray(S, paired, b + 2 * len + q);
            FloatVector c1 = FloatVector.fromArray(S, paired, b + len + q);
            FloatVector c0 = FloatVector.fromArray(S, paired, b + q);
            c3.fma(av, c2).fma(av, c1).fma(av, c0).intoArray(kxx, q);
        }
    }

    @Override
    public void grid(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight, int offset,
            float[] dirty, PlaneStats dirtyStats, float[] psf, PlaneStats psfStats) {
        if (len == 2 * S.length()) {
            gridTwo(uvScale, u, v, count, vis, weight, offset, dirty, dirtyStats, psf, psfStats);
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
            FloatVector kx = pairedKernel0(at.fu);
            kernelV(at.fv);
            int base = 2 * (at.v0 * n + at.u0);
            if (dirty != null) {
                FloatVector lanes0 = kx.mul(FloatVector.broadcast(S, vis[2 * wi] * wt).blend(vis[2 * wi + 1] * wt, ODD));
                int b = base;
                for (int j = 0; j < w; j++, b += rowStride) {
                    lanes0.fma(FloatVector.broadcast(S, ky[j]), FloatVector.fromArray(S, dirty, b)).intoArray(dirty, b);
                }
            }
            if (psf != null) {
                FloatVector lanes0 = kx.mul(FloatVector.broadcast(S, wt).blend(0f, ODD));
                int b = base;
                for (int j = 0; j < w; j++, b += rowStride) {
                    lanes0.fma(FloatVector.broadcast(S, ky[j]), FloatVector.fromArray(S, psf, b)).intoArray(psf, b);
                }
            }
            sumWeights += wt;
            record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        addWeights(dirtyStats, psfStats, sumWeights);
    }

    /** A footprint row is two vectors (9 <= W <= 16 on AVX-512): both kernel halves stay in registers. */
    private void gridTwo(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight, int offset,
            float[] dirty, PlaneStats dirtyStats, float[] psf, PlaneStats psfStats) {
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
            FloatVector a = FloatVector.broadcast(S, (float) (s - seg));
            int t = seg * 4 * len;
            FloatVector kx0 = FloatVector.fromArray(S, paired, t + 3 * len)
                    .fma(a, FloatVector.fromArray(S, paired, t + 2 * len))
                    .fma(a, FloatVector.fromArray(S, paired, t + len))
                    .fma(a, FloatVector.fromArray(S, paired, t));
            FloatVector kx1 = FloatVector.fromArray(S, paired, t + 3 * len + half)
                    .fma(a, FloatVector.fromArray(S, paired, t + 2 * len + half))
                    .fma(a, FloatVector.fromArray(S, paired, t + len + half))
                    .fma(a, FloatVector.fromArray(S, paired, t + half));
            kernelV(at.fv);
            int base = 2 * (at.v0 * n + at.u0);
            if (dirty != null) {
                FloatVector alt = FloatVector.broadcast(S, vis[2 * wi] * wt).blend(vis[2 * wi + 1] * wt, ODD);
                addTwo(dirty, base, rowStride, kx0.mul(alt), kx1.mul(alt));
            }
            if (psf != null) {
                FloatVector alt = FloatVector.broadcast(S, wt).blend(0f, ODD);
                addTwo(psf, base, rowStride, kx0.mul(alt), kx1.mul(alt));
            }
            sumWeights += wt;
            record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        addWeights(dirtyStats, psfStats, sumWeights);
    }

    private void addTwo(float[] g, int b, int rowStride, FloatVector l0, FloatVector l1) {
        int half = S.length();
        for (int j = 0; j < w; j++, b += rowStride) {
            FloatVector wy = FloatVector.broadcast(S, ky[j]);
            l0.fma(wy, FloatVector.fromArray(S, g, b)).intoArray(g, b);
            l1.fma(wy, FloatVector.fromArray(S, g, b + half)).intoArray(g, b + half);
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
        int p = kp.paddedSupport();
        double s = f * ov;
        int seg = (int) s;
        FloatVector a = FloatVector.broadcast(S, (float) (s - seg));
        int b = seg * 4 * p;
        FloatVector c3 = FloatVector.fromArray(S, table, b + 3 * p);
        FloatVector c2 = FloatVector.fromArray(S, table, b + 2 * p);
        FloatVector c1 = FloatVector.fromArray(S, table, b + p);
        FloatVector c0 = FloatVector.fromArray(S, table, b);
        c3.fma(a, c2).fma(a, c1).fma(a, c0).intoArray(ky, 0);
    }

    /** The paired kernel along u (see pairedKernel) when it is one vector. */
    private FloatVector pairedKernel0(double f) {
        double s = f * ov;
        int seg = (int) s;
        FloatVector a = FloatVector.broadcast(S, (float) (s - seg));
        int b = seg * 4 * len;
        FloatVector c3 = FloatVector.fromArray(S, paired, b + 3 * len);
        FloatVector c2 = FloatVector.fromArray(S, paired, b + 2 * len);
        FloatVector c1 = FloatVector.fromArray(S, paired, b + len);
        FloatVector c0 = FloatVector.fromArray(S, paired, b);
        return c3.fma(a, c2).fma(a, c1).fma(a, c0);
    }

    /** Footprint rows of more than two vectors (W > 8 on AVX2). */
    private void gridWide(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight,
            int offset, float[] dirty, PlaneStats dirtyStats, float[] psf,
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
                FloatVector alt = FloatVector.broadcast(S, vis[2 * wi] * wt).blend(vis[2 * wi + 1] * wt, ODD);
                addFootprint(dirty, base, alt);
            }
            if (psf != null) {
                FloatVector alt = FloatVector.broadcast(S, wt).blend(0f, ODD);
                addFootprint(psf, base, alt);
            }
            sumWeights += wt;
            record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        addWeights(dirtyStats, psfStats, sumWeights);
    }

    private void addFootprint(float[] g, int base, FloatVector alt) {
        for (int q = 0; q < len; q += S.length()) {
            FloatVector.fromArray(S, kxx, q).mul(alt).intoArray(lanes, q);
        }
        for (int j = 0; j < w; j++) {
            FloatVector wy = FloatVector.broadcast(S, ky[j]);
            for (int q = 0; q < len; q += S.length()) {
                FloatVector cell = FloatVector.fromArray(S, g, base + q);
                FloatVector.fromArray(S, lanes, q).fma(wy, cell).intoArray(g, base + q);
            }
            base += 2 * n;
        }
    }

    @Override
    public void degrid(double uvScale, double[] u, double[] v, int nrow, float[] model, float[] visOut, int nchan,
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
            float re = 0;
            float im = 0;
            for (int q = 0; q < len; q += S.length()) {
                int base = 2 * (at.v0 * n + at.u0) + q;
                FloatVector acc = FloatVector.zero(S);
                for (int j = 0; j < w; j++) {
                    acc = FloatVector.fromArray(S, model, base).fma(FloatVector.broadcast(S, ky[j]), acc);
                    base += 2 * n;
                }
                acc = acc.mul(FloatVector.fromArray(S, kxx, q));
                re += acc.reduceLanes(VectorOperators.ADD, ODD.not());
                im += acc.reduceLanes(VectorOperators.ADD, ODD);
            }
            visOut[vi] = re;
            visOut[vi + 1] = im;
        }
    }
}
