package org.cloudviper.imaging;

/**
 * Imaging weights ready to apply to blocks: the weighting, and for uniform and Briggs the summed
 * {@link WeightDensity} with each channel's f2 (see {@link Weighting}). Immutable once made; shared by
 * every gridding task of the channel block.
 */
public final class ImagingWeights {
    private final Weighting weighting;
    private final WeightDensity density;
    private final double[] f2;
    private final double d2;

    private ImagingWeights(Weighting weighting, WeightDensity density) {
        this.weighting = weighting;
        this.density = density;
        if (density == null) {
            this.f2 = null;
            this.d2 = 0;
            return;
        }
        int nchan = density.nchan();
        this.f2 = new double[nchan];
        if (weighting instanceof Weighting.Briggs briggs) {
            double target = Math.pow(5 * Math.pow(10, -briggs.robust()), 2);
            for (int c = 0; c < nchan; c++) {
                double sumSquares = 0;
                for (float d : density.plane(c)) {
                    if (d > 0) {
                        sumSquares += (double) d * d;
                    }
                }
                f2[c] = sumSquares > 0 ? target / (sumSquares / density.sumWeights(c)) : 0;
            }
            this.d2 = 1;
        } else {
            java.util.Arrays.fill(f2, 1);
            this.d2 = 0;
        }
    }

    static ImagingWeights of(Weighting weighting, WeightDensity density) {
        if (weighting.needsDensity() && density == null) {
            throw new IllegalArgumentException(weighting + " weighting needs the weight density of the data");
        }
        return new ImagingWeights(weighting, weighting.needsDensity() ? density : null);
    }

    public Weighting weighting() {
        return weighting;
    }

    /** Channel c's f2 (Briggs), 1 (uniform) or NaN (natural). */
    public double f2(int c) {
        return f2 == null ? Double.NaN : f2[c];
    }

    /**
     * Writes the imaging weight of every sample of the block into {@code out} ([row][chan], nrow *
     * nchan floats; may be the block's own weight array). A sample outside the density grid, or of
     * weight 0, gets 0.
     */
    public void apply(VisBlock block, float[] out) {
        int nchan = block.nchan();
        int samples = block.nrow() * nchan;
        if (out.length < samples) {
            throw new IllegalArgumentException("out: " + out.length + " values (expected: >= " + samples + ")");
        }
        if (density == null) {
            if (out != block.weight()) {
                System.arraycopy(block.weight(), 0, out, 0, samples);
            }
            return;
        }
        density.checkChannels(block);
        int npix = density.npix();
        double scale = npix * density.cellRad() / WeightDensity.SPEED_OF_LIGHT;
        double origin = npix / 2;
        for (int c = 0; c < nchan; c++) {
            float[] d = density.plane(c);
            double s = scale * block.freqHz()[c];
            for (int r = 0; r < block.nrow(); r++) {
                int i = r * nchan + c;
                float wt = block.weight()[i];
                if (wt == 0) {
                    out[i] = 0;
                    continue;
                }
                int idx = density.cell(block.u()[r] * s + origin, block.v()[r] * s + origin);
                out[i] = idx >= 0 && d[idx] > 0 ? (float) (wt / (d[idx] * f2[c] + d2)) : 0f;
            }
        }
    }
}
