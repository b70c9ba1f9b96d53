package org.cloudviper.bench.imaging;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.cloudviper.imaging.ChannelGrids;
import org.cloudviper.imaging.ImageSpec;
import org.cloudviper.imaging.Imager;
import org.cloudviper.imaging.Precision;
import org.cloudviper.imaging.affinity.ComputePool;
import org.jtransforms.fft.DoubleFFT_2D;
import org.jtransforms.fft.FloatFFT_2D;
import pl.edu.icm.jlargearrays.ConcurrencyUtils;

/**
 * The imaging core on the anchor workload: 3,168,000 samples (99,000 rows x 32 channels of
 * {@link AlmaLikeData}), a 1024^2 image per channel, on the calling thread (one core).
 * <ul>
 * <li>{@code grid EPS...}: gridding alone into 32 per-channel planes (the cube's gridding), samples/s;</li>
 * <li>{@code cube EPS...}: grid + FFT + correction + normalisation of all 32 channels, samples/s;</li>
 * <li>{@code fft}: JTransforms' full 2-D complex FFT (complex128 and complex64) of 2048^2 and 4096^2,
 * single-threaded, beside numpy's fft2 (bench/scripts/imaging_side_by_side.py);</li>
 * <li>{@code write DIR}: the data as raw arrays for the side-by-side scripts.</li>
 * </ul>
 * With {@code -Dplacement=PHYSICAL_CORES|ALL_THREADS|UNPINNED} the channels are spread over a
 * {@link ComputePool}'s threads (the executor overloads of Imager) and CPU time is the process's.
 * Each figure is the median of {@code -Drepeat} (default 5) runs after one warm-up run, in wall time
 * and in the thread's CPU time (the machine is shared: CPU time leaves out the time other processes
 * held the core, not their effect on the caches); grids are allocated once and cleared between runs
 * (clearing is timed in "cube", not in "grid").
 *
 * <pre>java -Xmx6g -cp bench/target/benchmarks.jar org.cloudviper.bench.imaging.ImagingBenchMain cube 1e-4 1e-6</pre>
 */
public final class ImagingBenchMain {
    private static final int NPIX = 1024;

    private ImagingBenchMain() {
    }

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        if (args.length == 0) {
            System.err.println("usage: ImagingBenchMain grid|cube|fft|write [EPS...|DIR]");
            System.exit(2);
        }
        int repeat = Integer.getInteger("repeat", 5);
        Precision precision = Precision.valueOf(System.getProperty("precision", "FLOAT32"));
        String mode = args[0];
        if (mode.equals("fft")) {
            fft(repeat);
            return;
        }
        AlmaLikeData data = AlmaLikeData.generate(2026);
        if (mode.equals("write")) {
            data.write(Path.of(args[1]));
            System.out.printf("wrote %d rows x %d channels, cell %.6g rad, max baseline %.1f m to %s%n",
                    data.block.nrow(), data.block.nchan(), data.cellRad, data.maxBaseline, args[1]);
            return;
        }
        if (Boolean.getBoolean("baselineOrder")) {
            data = data.baselineMajor();
        }
        long samples = (long) data.block.nrow() * data.block.nchan();
        // -Dplacement=PHYSICAL_CORES|ALL_THREADS|UNPINNED: a ComputePool's threads; unset: the main thread
        String placement = System.getProperty("placement");
        ComputePool pool = placement == null ? null
                : ComputePool.create(ComputePool.Placement.valueOf(placement), Integer.getInteger("threads", 0));
        if (pool != null) {
            System.out.printf("pool: %s%n", pool.plan().description());
        }
        for (int a = 1; a < args.length; a++) {
            double eps = Double.parseDouble(args[a]);
            ImageSpec spec = ImageSpec.of(NPIX, data.cellRad, eps, precision)
                    .withVisibilitiesPerImage(data.block.nrow());
            if (System.getProperty("sigma") != null) {
                spec = spec.withSigma(Double.parseDouble(System.getProperty("sigma")));
            }
            Imager imager = Imager.create(spec);
            ChannelGrids grids = imager.newGrids(data.block.nchan());
            float[] out = new float[NPIX * NPIX];
            float[][] outs = pool == null ? null : new float[data.block.nchan()][NPIX * NPIX];
            List<Double> gridS = new ArrayList<>();
            List<Double> fftS = new ArrayList<>();
            List<Double> totalS = new ArrayList<>();
            List<Double> gridCpu = new ArrayList<>();
            List<Double> fftCpu = new ArrayList<>();
            List<Double> totalCpu = new ArrayList<>();
            for (int r = 0; r <= repeat; r++) {
                long c0 = cpuNanos(pool);
                long t0 = System.nanoTime();
                grids.clear();
                long c1 = cpuNanos(pool);
                long t1 = System.nanoTime();
                if (pool == null) {
                    imager.grid(data.block, data.block.weight(), grids, null);
                } else {
                    imager.grid(data.block, data.block.weight(), grids, null, pool, pool.parallelism());
                }
                long c2 = cpuNanos(pool);
                long t2 = System.nanoTime();
                if (mode.equals("cube")) {
                    if (pool == null) {
                        for (int c = 0; c < data.block.nchan(); c++) {
                            imager.image(grids, c, out);
                        }
                    } else {
                        imager.images(grids, outs, pool);
                    }
                }
                long c3 = cpuNanos(pool);
                long t3 = System.nanoTime();
                if (r > 0) {
                    gridS.add((t2 - t1) / 1e9);
                    fftS.add((t3 - t2) / 1e9);
                    totalS.add((t3 - t0) / 1e9);
                    gridCpu.add((c2 - c1) / 1e9);
                    fftCpu.add((c3 - c2) / 1e9);
                    totalCpu.add((c3 - c0) / 1e9);
                }
            }
            System.out.printf("%s eps %.0e %s: %s%n", mode, eps, precision, imager.kernel());
            report("wall", samples, data.block.nchan(), mode, gridS, fftS, totalS);
            report(pool == null ? "CPU " : "CPU (process, all threads)", samples, data.block.nchan(), mode, gridCpu, fftCpu, totalCpu);
        }
    }

    private static void fft(int repeat) {
        ConcurrencyUtils.setNumberOfThreads(1);
        for (int n : new int[] {2048, 4096}) {
            double[] d = new double[2 * n * n];
            float[] f = new float[2 * n * n];
            java.util.Random rnd = new java.util.Random(1);
            for (int i = 0; i < d.length; i++) {
                d[i] = rnd.nextGaussian();
                f[i] = (float) d[i];
            }
            DoubleFFT_2D dfft = new DoubleFFT_2D(n, n);
            FloatFFT_2D ffft = new FloatFFT_2D(n, n);
            List<Double> ds = new ArrayList<>();
            List<Double> fs = new ArrayList<>();
            for (int r = 0; r <= repeat; r++) {
                long t0 = System.nanoTime();
                dfft.complexForward(d);
                long t1 = System.nanoTime();
                ffft.complexForward(f);
                long t2 = System.nanoTime();
                if (r > 0) {
                    ds.add((t1 - t0) / 1e9);
                    fs.add((t2 - t1) / 1e9);
                }
            }
            System.out.printf("fft2 %d^2: JTransforms complex128 %.3f s, complex64 %.3f s (median of %d; runs %s %s)%n",
                    n, median(ds), median(fs), repeat, ds, fs);
        }
    }

    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    /** The main thread's CPU time, or with a pool the whole process's (its threads do the work). */
    private static long cpuNanos(ComputePool pool) {
        return pool == null ? CPU.getCurrentThreadCpuTime() : OS.getProcessCpuTime();
    }

    private static void report(String what, long samples, int nchan, String mode, List<Double> grid, List<Double> fft,
            List<Double> total) {
        double g = median(grid);
        System.out.printf("  %s: grid %.3f s = %.2f M samples/s", what, g, samples / g / 1e6);
        if (mode.equals("cube")) {
            double f = median(fft);
            double t = median(total);
            System.out.printf("; FFT+correct %.3f s (%.1f ms/channel); clear+grid+FFT %.3f s = %.2f M samples/s", f,
                    1e3 * f / nchan, t, samples / t / 1e6);
        }
        System.out.printf("  (grid runs %s)%n", grid.stream().map(x -> String.format("%.3f", x)).toList());
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }
}
