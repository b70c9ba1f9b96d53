package org.cloudviper.imaging.kernel;

/**
 * How one image is gridded: the kernel (its support, its table), the grid size and the grid
 * correction, chosen for an accuracy. Immutable and shared by every task of the image.
 *
 * <p>The kernel is tabulated as cubic polynomials on {@code tableOversampling} segments per cell:
 * for a visibility at grid position {@code p} (cells), the first cell it touches is
 * {@code c0 = ceil(p - W/2)}, its fractional offset {@code f = c0 - p + W/2} in [0, 1), and lane
 * {@code k} of the kernel is {@code phi(f + k - W/2)}. Segment {@code s} covers f in
 * [s/ov, (s+1)/ov) and holds, per lane, the cubic through the kernel at four equally spaced points of
 * the segment, padded with zero lanes to {@link #paddedSupport}. The table is the smallest (ov a power
 * of two) whose measured interpolation error fits the accuracy budget; a few KiB to a few tens of KiB,
 * it stays in the L1 or L2 cache while the grid streams through.
 */
public final class KernelPlan {
    private final int npix;
    private final int gridSize;
    private final double sigma;
    private final EsKernel kernel;
    private final int paddedSupport;
    private final int tableOversampling;
    private final double estimatedError;
    /** [segment][degree 0..3][lane]: the cubic's coefficients in the segment's local offset a in [0, 1) */
    private final double[] tableD;
    private final float[] tableF;
    /** The same with every lane twice, [segment][degree][2 * paddedSupport]: a lane per re and im. */
    private final double[] pairedD;
    private final float[] pairedF;
    private final double[] correction;

    KernelPlan(int npix, int gridSize, EsKernel kernel, double epsilon, double estimatedError) {
        this.npix = npix;
        this.gridSize = gridSize;
        this.sigma = (double) gridSize / npix;
        this.kernel = kernel;
        this.estimatedError = estimatedError;
        int w = kernel.support();
        // whole vectors of 8 complex (16 floats, one AVX-512 register) per footprint row
        this.paddedSupport = (w + 7) & ~7;
        // the image error caused by a kernel error of d in every lane is about W d / phihat: the budget
        // keeps it well under epsilon at the image's edge, where phihat is smallest
        double smallest = kernel.fourier(0.5 * npix / gridSize);
        double budget = epsilon * smallest / (8.0 * w);
        int ov = 4;
        double[] table = build(ov);
        while (interpolationError(table, ov) > budget && ov < (1 << 14)) {
            ov *= 2;
            table = build(ov);
        }
        this.tableOversampling = ov;
        this.tableD = table;
        this.tableF = new float[table.length];
        for (int i = 0; i < table.length; i++) {
            tableF[i] = (float) table[i];
        }
        this.pairedD = new double[2 * table.length];
        this.pairedF = new float[2 * table.length];
        for (int i = 0; i < table.length; i++) {
            int row = i / paddedSupport;
            int lane = i % paddedSupport;
            int j = 2 * row * paddedSupport + 2 * lane;
            pairedD[j] = table[i];
            pairedD[j + 1] = table[i];
            pairedF[j] = tableF[i];
            pairedF[j + 1] = tableF[i];
        }
        this.correction = new double[npix];
        for (int i = 0; i < npix; i++) {
            correction[i] = 1 / kernel.fourier((double) (i - npix / 2) / gridSize);
        }
    }

    /** Image side in pixels. */
    public int npix() {
        return npix;
    }

    /** Grid side in cells: the image side times the oversampling, rounded up to a size the FFT likes. */
    public int gridSize() {
        return gridSize;
    }

    /**
     * Floats (or doubles) in a grid plane: 2 gridSize^2 interleaved complex cells, then a margin of
     * paddedSupport cells that the padded lanes of the last row's footprints may touch (zeros only).
     */
    public int planeLength() {
        return 2 * gridSize * gridSize + 2 * paddedSupport;
    }

    /** Grid oversampling factor, gridSize / npix. */
    public double sigma() {
        return sigma;
    }

    /** Kernel support W in cells. */
    public int support() {
        return kernel.support();
    }

    /** W rounded up to a multiple of 8: the stride of the tables and the width every footprint row is written. */
    public int paddedSupport() {
        return paddedSupport;
    }

    /** Table segments per cell. */
    public int tableOversampling() {
        return tableOversampling;
    }

    /** The kernel's beta. */
    public double beta() {
        return kernel.beta();
    }

    /** The estimated error of the image relative to its peak (aliasing along both axes). */
    public double estimatedError() {
        return estimatedError;
    }

    public EsKernel kernel() {
        return kernel;
    }

    /** 1 / phihat((i - npix/2) / gridSize) for i in [0, npix): the grid correction along either axis. */
    public double[] correction() {
        return correction.clone();
    }

    double[] correctionShared() {
        return correction;
    }

    private double[] build(int ov) {
        int w = kernel.support();
        double half = w / 2.0;
        // 16 values of margin: vector code may read a 512-bit row past the last segment's end
        double[] t = new double[ov * 4 * paddedSupport + 16];
        for (int seg = 0; seg < ov; seg++) {
            for (int k = 0; k < w; k++) {
                double x0 = (double) seg / ov + k - half;
                double h = 1.0 / ov;
                double y0 = kernel.value(x0);
                double y1 = kernel.value(x0 + h / 3);
                double y2 = kernel.value(x0 + 2 * h / 3);
                double y3 = kernel.value(x0 + h);
                // the cubic through (0, y0), (1/3, y1), (2/3, y2), (1, y3) in monomials of a
                double c1 = (-11 * y0 + 18 * y1 - 9 * y2 + 2 * y3) / 2;
                double c2 = 9 * (2 * y0 - 5 * y1 + 4 * y2 - y3) / 2;
                double c3 = 27 * (-y0 + 3 * y1 - 3 * y2 + y3) / 6;
                int base = seg * 4 * paddedSupport + k;
                t[base] = y0;
                t[base + paddedSupport] = c1;
                t[base + 2 * paddedSupport] = c2;
                t[base + 3 * paddedSupport] = c3;
            }
        }
        return t;
    }

    /** The largest difference between the table and the kernel, sampled between its nodes. */
    private double interpolationError(double[] t, int ov) {
        int w = kernel.support();
        double half = w / 2.0;
        double worst = 0;
        double[] lanes = new double[paddedSupport];
        int probes = Math.max(8, 4096 / ov);
        for (int seg = 0; seg < ov; seg++) {
            for (int q = 0; q < probes; q++) {
                double f = (seg + (q + 0.5) / probes) / ov;
                evaluate(t, ov, f, lanes);
                for (int k = 0; k < w; k++) {
                    worst = Math.max(worst, Math.abs(lanes[k] - kernel.value(f + k - half)));
                }
            }
        }
        return worst;
    }

    private void evaluate(double[] t, int ov, double f, double[] out) {
        double s = f * ov;
        int seg = (int) s;
        double a = s - seg;
        int b = seg * 4 * paddedSupport;
        int p = paddedSupport;
        for (int k = 0; k < p; k++) {
            out[k] = t[b + k] + a * (t[b + p + k] + a * (t[b + 2 * p + k] + a * t[b + 3 * p + k]));
        }
    }

    /**
     * Fills {@code out[0..paddedSupport)} with the kernel for fractional offset {@code f} in [0, 1)
     * (see the class comment); lanes W and above are zero.
     */
    public void weights(double f, double[] out) {
        evaluate(tableD, tableOversampling, f, out);
    }

    /** {@link #weights(double, double[])} in single precision. */
    public void weights(double f, float[] out) {
        double s = f * tableOversampling;
        int seg = (int) s;
        float a = (float) (s - seg);
        int b = seg * 4 * paddedSupport;
        int p = paddedSupport;
        float[] t = tableF;
        for (int k = 0; k < p; k++) {
            out[k] = t[b + k] + a * (t[b + p + k] + a * (t[b + 2 * p + k] + a * t[b + 3 * p + k]));
        }
    }

    /**
     * The table in single precision, [segment][degree 0..3][paddedSupport], coefficients of the cubic in
     * the segment's local offset a: lane k = t[0] + a (t[1] + a (t[2] + a t[3])). Shared: read only.
     */
    public float[] floatTable() {
        return tableF;
    }

    /** {@link #floatTable()} with each lane twice, [segment][degree][2 * paddedSupport]. Shared: read only. */
    public float[] pairedFloatTable() {
        return pairedF;
    }

    /** The table in double precision (see {@link #floatTable()}). Shared: read only. */
    public double[] doubleTable() {
        return tableD;
    }

    /** {@link #doubleTable()} with each lane twice. Shared: read only. */
    public double[] pairedDoubleTable() {
        return pairedD;
    }

    @Override
    public String toString() {
        return String.format("ES kernel W=%d beta=%.3f, grid %d (sigma %.3f) for npix %d, table x%d, est. error %.2e",
                support(), beta(), gridSize, sigma, npix, tableOversampling, estimatedError);
    }
}
