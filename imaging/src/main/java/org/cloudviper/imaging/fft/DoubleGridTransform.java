package org.cloudviper.imaging.fft;

import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Grid to image and image to model grid in double precision, with JTransforms' 1-D transforms
 * (Ooura's split-radix and mixed radix 2, 3, 5), pruned to the work the image needs:
 * <ul>
 * <li>The image is the real part of the transform, so the grid is folded to its Hermitian part
 * {@code H[k] = (G[k] + conj(G[-k])) / 2}, whose transform is that real part: only rows 0..N/2 of H
 * are transformed (the others are their conjugates) and only the rows holding data.</li>
 * <li>Of each row's transform only the npix columns inside the image are kept; each of those columns
 * is Hermitian along v and goes through a complex-to-real transform of half the cost.</li>
 * </ul>
 * The grid's raw indices put u = 0 at cell N/2; by the shift theorem that is a factor (-1)^(x+y) on
 * the image pixel at offset (x, y) from the centre, applied with the grid correction.
 * One instance per thread: it owns the 1-D plans and its scratch.
 */
public final class DoubleGridTransform {
    private final int n;
    private final int npix;
    private final double[] correction;
    private final DoubleFFT_1D fft;
    /** Image columns per block of the second pass: 16 pixels, two cache lines of the image. */
    private static final int BLOCK = 16;
    /**
     * What realInverse's output is multiplied by: JTransforms 3.1 halves it for power-of-two lengths
     * (Ooura's convention) and not for the others, so the factor is measured once on a constant.
     */
    private final double realInverseScale;
    private final double[] row;
    private final double[] column;
    private final double[][] columns;
    private final double[] cx;
    private final double[] cy;
    private double[] half;

    /**
     * @param correction 1 / phihat per pixel offset along either axis, npix values (KernelPlan)
     */
    public DoubleGridTransform(int gridSize, int npix, double[] correction) {
        JTransformsThreads.useCallerThreadsOnly();
        this.n = gridSize;
        this.npix = npix;
        this.correction = correction.clone();
        this.fft = new DoubleFFT_1D(n);
        this.row = new double[2 * n];
        this.column = new double[n];
        column[0] = 1;
        fft.realInverse(column, false);
        this.realInverseScale = 1 / column[0];
        this.columns = new double[BLOCK][n];
        this.cx = new double[npix];
        this.cy = new double[npix];
    }

    /**
     * Writes the image of the grid {@code g} (interleaved complex, N x N, rows rowMin..rowMax
     * possibly non-zero) into {@code out} (npix x npix, row-major, [m][l]), times {@code scale}
     * (1 / sum of weights for a normalised dirty image). {@code g} is only read.
     */
    public void toImage(double[] g, int rowMin, int rowMax, double scale, double[] out) {
        if (rowMax < rowMin) {
            java.util.Arrays.fill(out, 0, npix * npix, 0.0);
            return;
        }
        int lo = Math.max(0, Math.min(rowMin, n - rowMax));
        int rows = n / 2 + 1 - lo;
        int width = 2 * npix;
        if (half == null || half.length < rows * width) {
            half = new double[(n / 2 + 1) * width];
        }
        for (int r = lo; r <= n / 2; r++) {
            int mirror = (n - r) % n;
            int a = 2 * r * n;
            int b = 2 * mirror * n;
            row[0] = 0.5 * (g[a] + g[b]);
            row[1] = 0.5 * (g[a + 1] - g[b + 1]);
            for (int c = 1; c < n; c++) {
                int cm = 2 * (n - c);
                row[2 * c] = 0.5 * (g[a + 2 * c] + g[b + cm]);
                row[2 * c + 1] = 0.5 * (g[a + 2 * c + 1] - g[b + cm + 1]);
            }
            fft.complexInverse(row, false);
            int dst = (r - lo) * width;
            int h = npix / 2;
            // image offsets x = -npix/2 .. -1 live at the end of the transform, 0 .. npix/2-1 at its start
            System.arraycopy(row, 2 * (n - h), half, dst, 2 * h);
            System.arraycopy(row, 0, half, dst + 2 * h, 2 * h);
        }
        // the columns go through the second pass BLOCK at a time, so that each cache line of the
        // half-transformed rows and of the image is read or written whole
        int h = npix / 2;
        for (int xi = 0; xi < npix; xi++) {
            cx[xi] = correction[xi] * scale * realInverseScale * ((xi - h) % 2 == 0 ? 1 : -1);
            cy[xi] = correction[xi] * ((xi - h) % 2 == 0 ? 1 : -1);
        }
        for (int xb = 0; xb < npix; xb += BLOCK) {
            int nb = Math.min(BLOCK, npix - xb);
            for (int q = 0; q < nb; q++) {
                java.util.Arrays.fill(columns[q], 0, 2 * lo, 0.0);
            }
            for (int r = lo; r <= n / 2; r++) {
                int src = (r - lo) * width + 2 * xb;
                int re = r == 0 ? 0 : r == n / 2 ? 1 : 2 * r;
                for (int q = 0; q < nb; q++) {
                    columns[q][re] = half[src + 2 * q];
                }
                if (r != 0 && r != n / 2) {
                    for (int q = 0; q < nb; q++) {
                        columns[q][re + 1] = half[src + 2 * q + 1];
                    }
                }
            }
            for (int q = 0; q < nb; q++) {
                fft.realInverse(columns[q], false);
            }
            for (int yi = 0; yi < npix; yi++) {
                int y = yi - h;
                int idx = y < 0 ? y + n : y;
                double fy = cy[yi];
                int dst = yi * npix + xb;
                for (int q = 0; q < nb; q++) {
                    out[dst + q] = (columns[q][idx] * cx[xb + q] * fy);
                }
            }
        }
    }

    /**
     * Writes into {@code f} (interleaved complex, N x N) the model grid of the real image
     * {@code image} (npix x npix, [m][l]): the grid correction applied, then the forward transform
     * {@code F[k] = sum_x image'(x) exp(-2 pi i (k - N/2) x / N)} along both axes, so that the
     * degridder's interpolation at a visibility's (u, v) predicts sum image * exp(-2 pi i (u l + v m)).
     */
    public void toModelGrid(double[] image, double[] f) {
        int h = npix / 2;
        int width = 2 * npix;
        if (half == null || half.length < (n / 2 + 1) * width) {
            half = new double[(n / 2 + 1) * width];
        }
        for (int xi = 0; xi < npix; xi++) {
            java.util.Arrays.fill(column, 0.0);
            double cx = correction[xi] * ((xi - h) % 2 == 0 ? 1 : -1);
            for (int yi = 0; yi < npix; yi++) {
                int y = yi - h;
                double sign = (y & 1) == 0 ? 1 : -1;
                column[y < 0 ? y + n : y] = (image[yi * npix + xi] * cx * sign * correction[yi]);
            }
            fft.realForward(column);
            // packed: [0] = Re X0, [1] = Re X(N/2), then (re, im) of X1 .. X(N/2 - 1)
            half[2 * xi] = column[0];
            half[2 * xi + 1] = 0;
            half[(n / 2) * width + 2 * xi] = column[1];
            half[(n / 2) * width + 2 * xi + 1] = 0;
            for (int r = 1; r < n / 2; r++) {
                half[r * width + 2 * xi] = column[2 * r];
                half[r * width + 2 * xi + 1] = column[2 * r + 1];
            }
        }
        for (int r = 0; r <= n / 2; r++) {
            java.util.Arrays.fill(row, 0.0);
            int src = r * width;
            System.arraycopy(half, src, row, 2 * (n - h), 2 * h);
            System.arraycopy(half, src + 2 * h, row, 0, 2 * h);
            fft.complexForward(row);
            System.arraycopy(row, 0, f, 2 * r * n, 2 * n);
        }
        // rows above N/2: F[N - r][k] = conj(F[r][N - k]), the transform of a real image being Hermitian
        for (int r = 1; r < n / 2; r++) {
            int dst = 2 * (n - r) * n;
            int src = 2 * r * n;
            f[dst] = f[src];
            f[dst + 1] = -f[src + 1];
            for (int k = 1; k < n; k++) {
                f[dst + 2 * k] = f[src + 2 * (n - k)];
                f[dst + 2 * k + 1] = -f[src + 2 * (n - k) + 1];
            }
        }
    }
}
