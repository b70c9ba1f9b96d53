package org.cloudviper.imaging.grid;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * The float gridder on the JDK's Vector API (incubating in 17; {@link Gridders} uses it only when
 * the JVM was started with {@code --add-modules jdk.incubator.vector}). A footprint row of
 * paddedSupport complex cells is whole vectors (one AVX-512 register for W <= 8, two for W <= 16):
 * each row costs a load, a fused multiply-add and a store per vector, the kernel along u held in
 * registers for the whole footprint. That kernel is evaluated with its lanes paired (re, im) from
 * {@link KernelPlan#pairedFloatTable()}, so it multiplies the interleaved grid directly. One species
 * throughout: mixing 256- and 512-bit vectors in a method defeats the JIT's intrinsics.
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
    /** Whether the kernel along v fits one vector (with 8 lanes in 16, the upper half is never read). */
    private final boolean rowVector;
    private final float[] table;
    private final int n;
    private final int w;
    private final int len;
    private final int vectors;
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
        this.vectors = len / S.length();
        this.ov = kp.tableOversampling();
        this.paired = kp.pairedFloatTable();
        this.table = kp.floatTable();
        this.rowVector = S.length() >= kp.paddedSupport();
        this.at = new Footprint(kp);
        this.ky = new float[Math.max(kp.paddedSupport(), S.length())];
        this.kxx = new float[len];
        this.lanes = new float[len];
    }

    @Override
    public void grid(double uvScale, double[] u, double[] v, int count, float[] vis, float[] weight, int offset,
            float[] dirty, PlaneStats dirtyStats, float[] psf, PlaneStats psfStats) {
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
            float re = dirty == null ? 0 : vis[2 * wi] * wt;
            float im = dirty == null ? 0 : vis[2 * wi + 1] * wt;
            kernelV(at.fv);
            int base = 2 * (at.v0 * n + at.u0);
            // the branch goes the same way for every sample
            if (vectors == 1) {
                one(base, dirty, re, im, psf, wt);
            } else if (vectors == 2) {
                two(base, dirty, re, im, psf, wt);
            } else {
                wide(base, dirty, re, im, psf, wt);
            }
            sumWeights += wt;
            PlaneStats.record(dirtyStats, psfStats, at.v0, at.v0 + w - 1);
        }
        PlaneStats.addWeights(dirtyStats, psfStats, sumWeights);
    }

    /** Lanes [t, t + S.length()) of the paired kernel at local offset a. */
    private FloatVector cubic(int t, FloatVector a) {
        return FloatVector.fromArray(S, paired, t + 3 * len)
                .fma(a, FloatVector.fromArray(S, paired, t + 2 * len))
                .fma(a, FloatVector.fromArray(S, paired, t + len))
                .fma(a, FloatVector.fromArray(S, paired, t));
    }

    private int segment(double f) {
        return (int) (f * ov);
    }

    private FloatVector offsetIn(double f, int seg) {
        return FloatVector.broadcast(S, (float) (f * ov - seg));
    }

    private void one(int base, float[] dirty, float re, float im, float[] psf, float wt) {
        FloatVector dirtyValue = FloatVector.broadcast(S, re).blend(im, ODD);
        FloatVector psfValue = FloatVector.broadcast(S, wt).blend(0, ODD);
        int seg = segment(at.fu);
        FloatVector k0 = cubic(seg * 4 * len, offsetIn(at.fu, seg));
        if (dirty != null) {
            addOne(dirty, base, k0.mul(dirtyValue));
        }
        if (psf != null) {
            addOne(psf, base, k0.mul(psfValue));
        }
    }

    private void addOne(float[] g, int b, FloatVector l0) {
        for (int j = 0; j < w; j++, b += 2 * n) {
            l0.fma(FloatVector.broadcast(S, ky[j]), FloatVector.fromArray(S, g, b)).intoArray(g, b);
        }
    }

    private void two(int base, float[] dirty, float re, float im, float[] psf, float wt) {
        FloatVector dirtyValue = FloatVector.broadcast(S, re).blend(im, ODD);
        FloatVector psfValue = FloatVector.broadcast(S, wt).blend(0, ODD);
        int seg = segment(at.fu);
        FloatVector a = offsetIn(at.fu, seg);
        FloatVector k0 = cubic(seg * 4 * len, a);
        FloatVector k1 = cubic(seg * 4 * len + S.length(), a);
        if (dirty != null) {
            addTwo(dirty, base, k0.mul(dirtyValue), k1.mul(dirtyValue));
        }
        if (psf != null) {
            addTwo(psf, base, k0.mul(psfValue), k1.mul(psfValue));
        }
    }

    private void addTwo(float[] g, int b, FloatVector l0, FloatVector l1) {
        int q = S.length();
        for (int j = 0; j < w; j++, b += 2 * n) {
            FloatVector wy = FloatVector.broadcast(S, ky[j]);
            l0.fma(wy, FloatVector.fromArray(S, g, b)).intoArray(g, b);
            l1.fma(wy, FloatVector.fromArray(S, g, b + q)).intoArray(g, b + q);
        }
    }

    /** Rows of more than two vectors (W > 8 with 256-bit vectors): the kernel through memory. */
    private void wide(int base, float[] dirty, float re, float im, float[] psf, float wt) {
        FloatVector dirtyValue = FloatVector.broadcast(S, re).blend(im, ODD);
        FloatVector psfValue = FloatVector.broadcast(S, wt).blend(0, ODD);
        pairedKernel(at.fu);
        if (dirty != null) {
            addWide(dirty, base, dirtyValue);
        }
        if (psf != null) {
            addWide(psf, base, psfValue);
        }
    }

    private void addWide(float[] g, int base, FloatVector value) {
        for (int q = 0; q < len; q += S.length()) {
            FloatVector.fromArray(S, kxx, q).mul(value).intoArray(lanes, q);
        }
        for (int j = 0; j < w; j++, base += 2 * n) {
            FloatVector wy = FloatVector.broadcast(S, ky[j]);
            for (int q = 0; q < len; q += S.length()) {
                FloatVector.fromArray(S, lanes, q).fma(wy, FloatVector.fromArray(S, g, base + q)).intoArray(g, base + q);
            }
        }
    }

    /** kxx = the kernel along u at fractional offset f, each lane twice. */
    private void pairedKernel(double f) {
        int seg = segment(f);
        FloatVector a = offsetIn(f, seg);
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
        FloatVector a = offsetIn(f, seg);
        int b = seg * 4 * p;
        FloatVector.fromArray(S, table, b + 3 * p)
                .fma(a, FloatVector.fromArray(S, table, b + 2 * p))
                .fma(a, FloatVector.fromArray(S, table, b + p))
                .fma(a, FloatVector.fromArray(S, table, b))
                .intoArray(ky, 0);
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
                for (int j = 0; j < w; j++, base += 2 * n) {
                    acc = FloatVector.fromArray(S, model, base).fma(FloatVector.broadcast(S, ky[j]), acc);
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
