package org.cloudviper.imaging;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Executor;
import org.cloudviper.imaging.fft.DoubleGridTransform;
import org.cloudviper.imaging.fft.FloatGridTransform;
import org.cloudviper.imaging.grid.DoubleGridder;
import org.cloudviper.imaging.grid.FloatGridder;
import org.cloudviper.imaging.grid.Gridders;
import org.cloudviper.imaging.grid.SampleBuffer;
import org.cloudviper.imaging.kernel.KernelChooser;
import org.cloudviper.imaging.kernel.KernelPlan;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The imaging core's facade: dirty images and PSFs per channel from blocks of visibilities, and the
 * prediction of visibilities from model images. One Imager per image geometry; it is immutable apart
 * from a pool of FFT workspaces, and thread-safe: tasks on any threads share it.
 *
 * <p>The convention (docs/imaging.md): the dirty image's pixel [j][i] lies at l = (i - npix/2) cell, m
 * = (j - npix/2) cell and is Re(sum W V exp(+2 pi i (u l + v m))) / sum W, u and v in wavelengths
 * (metres times frequency / c); the PSF is the same with V = 1. The w term is not applied (see
 * {@link #wPhaseBound}). Predicted visibilities are sum over pixels of image * exp(-2 pi i (u l + v m)).
 *
 * <p>Distribution: per (chunk, channel block) a task calls {@link #grid} on partial {@link ChannelGrids};
 * the partial grids of a channel block are summed with {@link ChannelGrids#add}; then {@link #image}
 * per channel. Uniform and Briggs weighting need a first pass over the same blocks:
 * {@link WeightDensity#accumulate}, {@link WeightDensity#add}, then {@link #weights}.
 */
public final class Imager {
    private static final Logger LOG = LoggerFactory.getLogger(Imager.class);
    private static final java.util.concurrent.atomic.AtomicBoolean TOLD = new java.util.concurrent.atomic.AtomicBoolean();

    private final ImageSpec spec;
    private final KernelPlan kernel;
    private final boolean simd;
    private final ConcurrentLinkedDeque<FloatGridTransform> floatTransforms = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedDeque<DoubleGridTransform> doubleTransforms = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedDeque<SampleBuffer> sampleBuffers = new ConcurrentLinkedDeque<>();

    private Imager(ImageSpec spec, boolean simd) {
        this.spec = spec;
        this.simd = simd;
        this.kernel = KernelChooser.choose(spec.npix(), spec.epsilon(), spec.sigma(), spec.visPerImage(),
                spec.precision() == Precision.FLOAT64);
        if (TOLD.compareAndSet(false, true)) {
            LOG.info("imaging: {}", Gridders.describe());
        }
        LOG.debug("imaging {}: {}", spec, kernel);
    }

    /**
     * Chooses the kernel and grid for the spec (50-400 ms: share the Imager between the tasks of an
     * image). Grids with SIMD when the JVM has {@code --add-modules jdk.incubator.vector}.
     */
    public static Imager create(ImageSpec spec) {
        return new Imager(spec, true);
    }

    /** {@link #create(ImageSpec)}, with {@code simd = false} forcing the plain-Java gridders (tests, benchmarks). */
    static Imager create(ImageSpec spec, boolean simd) {
        return new Imager(spec, simd);
    }

    public ImageSpec spec() {
        return spec;
    }

    /** The kernel, grid size and correction chosen for the spec. */
    public KernelPlan kernel() {
        return kernel;
    }

    /** Fresh zeroed grids for nchan channels (allocation touches every page: reuse them). */
    public ChannelGrids newGrids(int nchan) {
        return new ChannelGrids(spec.precision(), kernel, nchan);
    }

    /** A fresh, empty weight density for nchan channels. */
    public WeightDensity newDensity(int nchan) {
        return new WeightDensity(spec.npix(), spec.cellRad(), nchan);
    }

    /**
     * The imaging weights of a weighting; {@code density} (summed over all the channel block's data) is
     * required for uniform and Briggs and ignored for natural.
     */
    public ImagingWeights weights(Weighting weighting, WeightDensity density) {
        if (density != null && (density.npix() != spec.npix() || density.cellRad() != spec.cellRad())) {
            throw new IllegalArgumentException("density of another image geometry");
        }
        return ImagingWeights.of(weighting, density);
    }

    /**
     * Grids every channel of the block: into {@code dirty} weight x visibility, into {@code psf} weight
     * (either may be null; both at once share the kernel evaluations).
     *
     * @param imagingWeights [row][chan], nrow * nchan (see {@link ImagingWeights#apply}); 0 skips a sample
     */
    public void grid(VisBlock block, float[] imagingWeights, ChannelGrids dirty, ChannelGrids psf) {
        checkGrids(block, imagingWeights, dirty, psf);
        gridChannels(block, imagingWeights, dirty, psf, 0, block.nchan());
    }

    /**
     * {@link #grid(VisBlock, float[], ChannelGrids, ChannelGrids)} with the channels spread over
     * {@code parallelism} tasks on the executor (each channel's planes written by one task only).
     */
    public void grid(VisBlock block, float[] imagingWeights, ChannelGrids dirty, ChannelGrids psf, Executor executor,
            int parallelism) {
        checkGrids(block, imagingWeights, dirty, psf);
        int nchan = block.nchan();
        int tasks = Math.max(1, Math.min(parallelism, nchan));
        List<CompletableFuture<Void>> running = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            int from = t * nchan / tasks;
            int to = (t + 1) * nchan / tasks;
            running.add(CompletableFuture.runAsync(
                    () -> gridChannels(block, imagingWeights, dirty, psf, from, to), executor));
        }
        CompletableFuture.allOf(running.toArray(new CompletableFuture[0])).join();
    }

    private void gridChannels(VisBlock b, float[] wts, ChannelGrids dirty, ChannelGrids psf, int cFrom, int cTo) {
        SampleBuffer samples = sampleBuffers.poll();
        if (samples == null) {
            samples = new SampleBuffer();
        }
        try {
            samples.sort(kernel, uvScale(b.freqHz()[(cFrom + cTo) / 2]), b.u(), b.v(), b.nrow());
            samples.load(dirty == null ? null : b.vis(), wts, b.nchan(), cFrom, cTo, 0, b.nrow());
            int n = b.nrow();
            if (spec.precision() == Precision.FLOAT32) {
                FloatGridder g = Gridders.floats(kernel, simd);
                for (int c = cFrom; c < cTo; c++) {
                    g.grid(uvScale(b.freqHz()[c]), samples.u(), samples.v(), n, samples.vis(), samples.weight(),
                            samples.offset(c - cFrom),
                            dirty == null ? null : dirty.floatPlane(c), dirty == null ? null : dirty.stats(c),
                            psf == null ? null : psf.floatPlane(c), psf == null ? null : psf.stats(c));
                }
            } else {
                DoubleGridder g = Gridders.doubles(kernel, simd);
                for (int c = cFrom; c < cTo; c++) {
                    g.grid(uvScale(b.freqHz()[c]), samples.u(), samples.v(), n, samples.vis(), samples.weight(),
                            samples.offset(c - cFrom),
                            dirty == null ? null : dirty.doublePlane(c), dirty == null ? null : dirty.stats(c),
                            psf == null ? null : psf.doublePlane(c), psf == null ? null : psf.stats(c));
                }
            }
        } finally {
            sampleBuffers.push(samples);
        }
    }

    private void checkGrids(VisBlock block, float[] imagingWeights, ChannelGrids dirty, ChannelGrids psf) {
        if (dirty == null && psf == null) {
            throw new IllegalArgumentException("no grid to fill");
        }
        if (dirty != null && block.vis() == null) {
            throw new IllegalArgumentException("block has no visibilities to grid");
        }
        long samples = (long) block.nrow() * block.nchan();
        if (imagingWeights.length < samples) {
            throw new IllegalArgumentException("imagingWeights: " + imagingWeights.length + " (expected: >= " + samples + ")");
        }
        for (ChannelGrids g : new ChannelGrids[] {dirty, psf}) {
            if (g != null && (g.nchan() != block.nchan() || g.gridSize() != kernel.gridSize()
                    || g.precision() != spec.precision())) {
                throw new IllegalArgumentException("grids " + g.nchan() + " x " + g.gridSize() + "^2 " + g.precision()
                        + " (expected: " + block.nchan() + " x " + kernel.gridSize() + "^2 " + spec.precision() + ")");
            }
        }
    }

    /** Grid cells per metre of baseline at a frequency: gridSize * cell * freq / c. */
    private double uvScale(double freqHz) {
        return kernel.gridSize() * spec.cellRad() * freqHz / WeightDensity.SPEED_OF_LIGHT;
    }

    /**
     * Writes channel c's image (npix x npix, [m][l]) normalised by the sum of the weights gridded, into
     * {@code out}; the grids are only read. An empty plane gives zeros.
     */
    public void image(ChannelGrids grids, int c, float[] out) {
        checkImage(out.length);
        double sum = grids.stats(c).sumWeights();
        double scale = sum > 0 ? 1 / sum : 0;
        if (grids.precision() == Precision.FLOAT32) {
            FloatGridTransform t = floatTransform();
            try {
                t.toImage(grids.floatPlane(c), grids.stats(c).rowMin(), grids.stats(c).rowMax(), scale, out);
            } finally {
                floatTransforms.push(t);
            }
        } else {
            double[] tmp = new double[spec.npix() * spec.npix()];
            image(grids, c, tmp);
            for (int i = 0; i < tmp.length; i++) {
                out[i] = (float) tmp[i];
            }
        }
    }

    /** {@link #image(ChannelGrids, int, float[])} in double precision (FLOAT64 grids). */
    public void image(ChannelGrids grids, int c, double[] out) {
        checkImage(out.length);
        if (grids.precision() != Precision.FLOAT64) {
            throw new IllegalArgumentException("double images need FLOAT64 grids");
        }
        double sum = grids.stats(c).sumWeights();
        DoubleGridTransform t = doubleTransform();
        try {
            t.toImage(grids.doublePlane(c), grids.stats(c).rowMin(), grids.stats(c).rowMax(), sum > 0 ? 1 / sum : 0,
                    out);
        } finally {
            doubleTransforms.push(t);
        }
    }

    /**
     * Every channel's image into {@code out[chan]} (npix * npix each; reuse them: fresh memory costs
     * its first touch), one executor task per channel.
     */
    public void images(ChannelGrids grids, float[][] out, Executor executor) {
        if (out.length < grids.nchan()) {
            throw new IllegalArgumentException("out: " + out.length + " images (expected: >= " + grids.nchan() + ")");
        }
        List<CompletableFuture<Void>> tasks = new ArrayList<>();
        for (int c = 0; c < grids.nchan(); c++) {
            int chan = c;
            tasks.add(CompletableFuture.runAsync(() -> image(grids, chan, out[chan]), executor));
        }
        CompletableFuture.allOf(tasks.toArray(new CompletableFuture[0])).join();
    }

    private void checkImage(int length) {
        if (length < spec.npix() * spec.npix()) {
            throw new IllegalArgumentException("image: " + length + " pixels (expected: >= " + spec.npix() * spec.npix()
                    + ")");
        }
    }

    /** The Fourier plane of a model image (npix x npix, [m][l]), for {@link #degrid}. */
    public ModelGrid modelGrid(float[] image) {
        checkImage(image.length);
        int cells = kernel.planeLength();
        if (spec.precision() == Precision.FLOAT32) {
            float[] f = new float[cells];
            FloatGridTransform t = floatTransform();
            try {
                t.toModelGrid(image, f);
            } finally {
                floatTransforms.push(t);
            }
            return new ModelGrid(f, null);
        }
        double[] d = new double[image.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = image[i];
        }
        return modelGrid(d);
    }

    /** {@link #modelGrid(float[])} of a double-precision image (FLOAT64). */
    public ModelGrid modelGrid(double[] image) {
        checkImage(image.length);
        if (spec.precision() != Precision.FLOAT64) {
            throw new IllegalArgumentException("double models need FLOAT64 precision");
        }
        double[] f = new double[kernel.planeLength()];
        DoubleGridTransform t = doubleTransform();
        try {
            t.toModelGrid(image, f);
        } finally {
            doubleTransforms.push(t);
        }
        return new ModelGrid(null, f);
    }

    /**
     * Predicts the block's visibilities from one model per channel of the block into {@code visOut}
     * ([row][chan][re, im], 2 * nrow * nchan). Samples whose footprint leaves the grid get 0.
     */
    public void degrid(VisBlock block, ModelGrid[] models, float[] visOut) {
        checkDegrid(block, models, visOut.length);
        for (int c = 0; c < block.nchan(); c++) {
            double scale = uvScale(block.freqHz()[c]);
            if (models[c].floats() != null) {
                Gridders.floats(kernel, simd).degrid(scale, block.u(), block.v(), block.nrow(), models[c].floats(), visOut,
                        block.nchan(), c);
            } else {
                double[] tmp = new double[visOut.length];
                Gridders.doubles(kernel, simd).degrid(scale, block.u(), block.v(), block.nrow(), models[c].doubles(), tmp,
                        block.nchan(), c);
                for (int r = 0; r < block.nrow(); r++) {
                    int i = 2 * (r * block.nchan() + c);
                    visOut[i] = (float) tmp[i];
                    visOut[i + 1] = (float) tmp[i + 1];
                }
            }
        }
    }

    /** {@link #degrid(VisBlock, ModelGrid[], float[])} in double precision (FLOAT64 models). */
    public void degrid(VisBlock block, ModelGrid[] models, double[] visOut) {
        checkDegrid(block, models, visOut.length);
        for (int c = 0; c < block.nchan(); c++) {
            if (models[c].doubles() == null) {
                throw new IllegalArgumentException("double visibilities need FLOAT64 models");
            }
            Gridders.doubles(kernel, simd).degrid(uvScale(block.freqHz()[c]), block.u(), block.v(), block.nrow(),
                    models[c].doubles(), visOut, block.nchan(), c);
        }
    }

    private void checkDegrid(VisBlock block, ModelGrid[] models, int outLength) {
        if (models.length != block.nchan()) {
            throw new IllegalArgumentException("models: " + models.length + " (expected: " + block.nchan()
                    + ", one per channel)");
        }
        if (outLength < 2L * block.nrow() * block.nchan()) {
            throw new IllegalArgumentException("visOut: " + outLength + " (expected: >= "
                    + 2L * block.nrow() * block.nchan() + ")");
        }
    }

    /**
     * The largest phase, in radians, of the w term that the dirty image leaves out for a source inside
     * the image: 2 pi |w| (1 - n) at the image's corner, {@code maxAbsW} being the largest |w| in
     * wavelengths. A point source's peak errs by at most about this fraction (1 - cos).
     */
    public double wPhaseBound(double maxAbsW) {
        double half = spec.npix() / 2.0 * spec.cellRad();
        double r2 = 2 * half * half;
        double nMinusOne = 1 - Math.sqrt(Math.max(0, 1 - r2));
        return 2 * Math.PI * Math.abs(maxAbsW) * nMinusOne;
    }

    private FloatGridTransform floatTransform() {
        FloatGridTransform t = floatTransforms.poll();
        return t != null ? t : new FloatGridTransform(kernel.gridSize(), spec.npix(), kernel.correction());
    }

    private DoubleGridTransform doubleTransform() {
        DoubleGridTransform t = doubleTransforms.poll();
        return t != null ? t : new DoubleGridTransform(kernel.gridSize(), spec.npix(), kernel.correction());
    }
}
