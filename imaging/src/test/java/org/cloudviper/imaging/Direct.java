package org.cloudviper.imaging;

import java.util.Random;

/** Direct Fourier sums in double precision: the reference every test compares the imager with. */
final class Direct {
    static final double C = 299_792_458.0;

    private Direct() {
    }

    /**
     * The dirty image of the convention, channel c: Re(sum W V exp(+2 pi i (u l + v m))) / sum W, with
     * V = 1 when {@code psf}; [m][l].
     */
    static double[] dirty(VisBlock b, float[] wts, int c, int npix, double cell, boolean psf) {
        int nchan = b.nchan();
        double[] re = new double[npix * npix];
        double[] ax = new double[2 * npix];
        double[] ay = new double[2 * npix];
        double sumW = 0;
        for (int r = 0; r < b.nrow(); r++) {
            double w = wts[r * nchan + c];
            if (w == 0) {
                continue;
            }
            sumW += w;
            double u = b.u()[r] * b.freqHz()[c] / C;
            double v = b.v()[r] * b.freqHz()[c] / C;
            double vr = psf ? 1 : b.vis()[2 * (r * nchan + c)];
            double vi = psf ? 0 : b.vis()[2 * (r * nchan + c) + 1];
            phasors(u * cell, npix, ax);
            phasors(v * cell, npix, ay);
            for (int j = 0; j < npix; j++) {
                // (W V) * ay[j]
                double pr = w * (vr * ay[2 * j] - vi * ay[2 * j + 1]);
                double pi = w * (vr * ay[2 * j + 1] + vi * ay[2 * j]);
                int row = j * npix;
                for (int i = 0; i < npix; i++) {
                    re[row + i] += pr * ax[2 * i] - pi * ax[2 * i + 1];
                }
            }
        }
        for (int i = 0; i < re.length; i++) {
            re[i] /= sumW;
        }
        return re;
    }

    /** exp(+2 pi i f (k - npix/2)) for k in [0, npix), interleaved. */
    private static void phasors(double f, int npix, double[] out) {
        for (int k = 0; k < npix; k++) {
            double a = 2 * Math.PI * f * (k - npix / 2);
            out[2 * k] = Math.cos(a);
            out[2 * k + 1] = Math.sin(a);
        }
    }

    /** sum over pixels of image * exp(-2 pi i (u l + v m)) for every sample of the block: [row][chan][re, im]. */
    static double[] predict(VisBlock b, double[][] images, int npix, double cell) {
        int nchan = b.nchan();
        double[] out = new double[2 * b.nrow() * nchan];
        double[] ax = new double[2 * npix];
        double[] ay = new double[2 * npix];
        for (int r = 0; r < b.nrow(); r++) {
            for (int c = 0; c < nchan; c++) {
                double u = b.u()[r] * b.freqHz()[c] / C;
                double v = b.v()[r] * b.freqHz()[c] / C;
                phasors(u * cell, npix, ax);
                phasors(v * cell, npix, ay);
                double sr = 0;
                double si = 0;
                double[] img = images[c];
                for (int j = 0; j < npix; j++) {
                    double rr = 0;
                    double ri = 0;
                    for (int i = 0; i < npix; i++) {
                        double p = img[j * npix + i];
                        rr += p * ax[2 * i];
                        ri += p * ax[2 * i + 1];
                    }
                    // conj: exp(-i a) exp(-i b) = conj(ax ay)
                    sr += rr * ay[2 * j] - ri * ay[2 * j + 1];
                    si += rr * ay[2 * j + 1] + ri * ay[2 * j];
                }
                out[2 * (r * nchan + c)] = sr;
                out[2 * (r * nchan + c) + 1] = -si;
            }
        }
        return out;
    }

    /**
     * nrow random samples over nchan channels around 100 GHz, uniform over the uv disc that the image
     * samples (|u| up to 0.45 / cell wavelengths), random visibilities and weights, a few flagged.
     */
    static VisBlock randomBlock(long seed, int nrow, int nchan, double cell) {
        Random rnd = new Random(seed);
        double[] freq = new double[nchan];
        for (int c = 0; c < nchan; c++) {
            freq[c] = 100e9 * (1 + 0.01 * c);
        }
        double maxMetres = 0.45 / cell * C / freq[nchan - 1];
        double[] u = new double[nrow];
        double[] v = new double[nrow];
        double[] w = new double[nrow];
        float[] vis = new float[2 * nrow * nchan];
        float[] wt = new float[nrow * nchan];
        for (int r = 0; r < nrow; r++) {
            double rad = maxMetres * Math.sqrt(rnd.nextDouble());
            double ang = 2 * Math.PI * rnd.nextDouble();
            u[r] = rad * Math.cos(ang);
            v[r] = rad * Math.sin(ang);
            w[r] = 0.1 * maxMetres * rnd.nextGaussian();
            for (int c = 0; c < nchan; c++) {
                int i = r * nchan + c;
                vis[2 * i] = (float) rnd.nextGaussian();
                vis[2 * i + 1] = (float) rnd.nextGaussian();
                wt[i] = rnd.nextInt(50) == 0 ? 0f : (float) (0.5 + rnd.nextDouble());
            }
        }
        return new VisBlock(nrow, u, v, w, freq, vis, wt);
    }

    /** max |a - b| / max |b|. */
    static double peakNormalisedError(double[] a, double[] b) {
        double err = 0;
        double peak = 0;
        for (int i = 0; i < b.length; i++) {
            err = Math.max(err, Math.abs(a[i] - b[i]));
            peak = Math.max(peak, Math.abs(b[i]));
        }
        return err / peak;
    }
}
