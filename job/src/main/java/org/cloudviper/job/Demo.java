package org.cloudviper.job;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.arrow.memory.BufferAllocator;
import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.StoreOptions;
import org.cloudviper.cube.output.ChannelPng;
import org.cloudviper.cube.output.CubeWcs;
import org.cloudviper.cube.output.FitsCube;
import org.cloudviper.cube.synth.AntennaLayout;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.cloudviper.cube.tasks.ImageParams;
import org.cloudviper.embedded.JavaClient;
import org.cloudviper.embedded.JavaCluster;
import org.cloudviper.imaging.Precision;
import org.cloudviper.worker.tasks.ArrowTable;
import org.cloudviper.worker.tasks.TaskRegistry;

/**
 * The main job: a synthetic ALMA-like dataset in a bucket, imaged as a cube on Java workers, written
 * as FITS and PNG, and summarised. By default everything runs in this JVM (an S3 server, a scheduler
 * and workers); {@link Settings#scheduler} and {@link Settings#s3Endpoint} point it at a real cluster
 * and bucket instead.
 */
public final class Demo {
    private static final double ARCSEC = Math.PI / 180 / 3600;

    /** What to run; see {@link DemoMain} for each option. */
    public record Settings(String scheduler, int workers, int threadsPerWorker, URI s3Endpoint, String bucket,
            String prefix, String region, String accessKey, String secretKey, boolean generate, int npix,
            double cellArcsec, String weighting, double robust, int antennas, int times, int channels,
            int timesPerChunk, int chansPerChunk, double noiseJy, Path out, int pngChannel, int cores, int repeat) {
    }

    /** A source found in the channel-mean image, and the true source nearest to it (or null). */
    public record Found(Peaks.Peak peak, Source truth, double trueFluxJy) {
    }

    /** What the demo prints. */
    public record Summary(long visibilities, int channels, int chunks, double seconds, int cores, List<Found> found,
            Path fits, Path png, String fitsInBucket) {
        public double visibilitiesPerSecondPerCore() {
            return cores > 0 ? visibilities / seconds / cores : Double.NaN;
        }
    }

    private Demo() {
    }

    /** The demo's sky: three point sources on pixel centres and a Gaussian, within the primary beam. */
    static List<Source> sky(double cellRad) {
        return List.of(
                Source.point(1.0, onPixel(12, cellRad), onPixel(8, cellRad)),
                Source.point(0.6, onPixel(-20, cellRad), onPixel(-15, cellRad)),
                Source.point(0.35, onPixel(24, cellRad), onPixel(-21, cellRad)),
                Source.gaussian(0.5, onPixel(-9, cellRad), onPixel(18, cellRad), 4 * ARCSEC, 2.5 * ARCSEC,
                        Math.toRadians(30)));
    }

    private static double onPixel(double arcsec, double cellRad) {
        return Math.round(arcsec * ARCSEC / cellRad) * cellRad;
    }

    public static Summary run(Settings s, PrintStream out, PrintStream err) throws Exception {
        double cellRad = s.cellArcsec() * ARCSEC;
        List<Source> sky = sky(cellRad);
        LocalS3 localS3 = s.s3Endpoint() == null ? new LocalS3() : null;
        try {
            URI endpoint = localS3 != null ? localS3.endpoint() : s.s3Endpoint();
            String key = localS3 != null ? LocalS3.ACCESS_KEY : s.accessKey();
            String secret = localS3 != null ? LocalS3.SECRET_KEY : s.secretKey();
            if (localS3 != null) {
                localS3.createBucket(s.bucket());
                out.println("S3 server (s3proxy, in memory) at " + endpoint + ", bucket " + s.bucket());
            }
            Map<String, Object> so = new LinkedHashMap<>();
            so.put("endpoint_url", endpoint.toString());
            so.put("region", s.region());
            if (key != null) {
                so.put("key", key);
                so.put("secret", secret);
            }
            StoreOptions options = StoreOptions.fromStorageOptions(so);
            String location = "s3://" + s.bucket() + "/" + s.prefix();
            SyntheticDataset data = null;
            if (s.generate()) {
                data = generate(s, sky, location, options, out);
            }
            Summary summary = image(s, cellRad, location, so, options, data, out, err);
            print(summary, s, out);
            return summary;
        } finally {
            if (localS3 != null) {
                localS3.close();
            }
        }
    }

    private static SyntheticDataset generate(Settings s, List<Source> sky, String location, StoreOptions options,
            PrintStream out) throws DatasetException {
        SyntheticDataset.Builder b = SyntheticDataset.builder().layout(AntennaLayout.compactAlma(s.antennas(), 1))
                .track(s.times(), 60, 0).channels(s.channels(), 100e9, 15.625e6).noiseJy(s.noiseJy())
                .flagFraction(0.02).flaggedAntenna(Math.min(7, s.antennas() - 1)).seed(1)
                .chunking(s.timesPerChunk(), s.chansPerChunk(), Integer.getInteger("demo.batchRows", 8192));
        sky.forEach(b::source);
        SyntheticDataset data = b.build();
        long start = System.nanoTime();
        try (ObjectStore store = ObjectStore.open(location, options);
             BufferAllocator allocator = ArrowTable.newAllocator("demo generator")) {
            data.write(store, allocator);
        }
        out.printf("generated %s: %d antennas, %d times x %d channels, %,d rows, %d sources (%.1f s)%n", location,
                s.antennas(), s.times(), s.channels(), data.rows(), sky.size(), (System.nanoTime() - start) / 1e9);
        return data;
    }

    private static Summary image(Settings s, double cellRad, String location, Map<String, Object> so,
            StoreOptions options, SyntheticDataset data, PrintStream out, PrintStream err) throws Exception {
        ImageParams params = new ImageParams(s.npix(), cellRad, 1e-4, Precision.FLOAT32, s.weighting(), s.robust(),
                false);
        JavaCluster cluster = null;
        try {
            String scheduler = s.scheduler();
            int cores = s.cores();
            if (scheduler == null) {
                // as a worker's own default (one task thread per core), the cores shared among the workers
                int threads = s.threadsPerWorker() > 0 ? s.threadsPerWorker()
                        : Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, s.workers()));
                cluster = JavaCluster.start(s.workers(), threads, TaskRegistry.withBuiltins());
                scheduler = cluster.schedulerAddress();
                out.println("scheduler " + scheduler + " and " + s.workers() + " Java worker(s) of " + threads
                        + " task thread(s) in this JVM");
                if (cores == 0) {
                    cores = Runtime.getRuntime().availableProcessors();
                }
            }
            CubeJob.Cube cube = null;
            double seconds = 0;
            try (JavaClient client = JavaClient.connect(scheduler)) {
                for (int run = 0; run < Math.max(1, s.repeat()); run++) {
                    long start = System.nanoTime();
                    long cpuStart = processCpuNanos();
                    ThreadCpu threadCpu = s.repeat() > 1 ? ThreadCpu.start() : null;
                    cube = CubeJob.run(client, location, so, params, new ProgressBar(err, "grid tasks"));
                    seconds = (System.nanoTime() - start) / 1e9; // the last run's: warm for --repeat > 1
                    if (s.repeat() > 1) {
                        // the CPU of the whole process: with everything in process, S3 server and scheduler included
                        out.printf("run %d: %.3f s, process CPU %.3f s (%s)%n", run + 1, seconds,
                                (processCpuNanos() - cpuStart) / 1e9, cube.stages());
                        if (threadCpu != null) {
                            out.println("  CPU s by thread: " + threadCpu.line());
                        }
                    }
                }
            }
            Outputs o = write(s, cellRad, location, options, cube);
            List<Found> found = new ArrayList<>();
            for (Peaks.Peak p : Peaks.find(Peaks.mean(cube.dirty()), s.npix(), cellRad, 0.15, 6)) {
                found.add(match(p, data, cellRad));
            }
            return new Summary(cube.visibilities(), cube.dirty().length, cube.chunks(), seconds, cores, found, o.fits,
                    o.png, o.fitsInBucket);
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    static long processCpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : 0;
    }

    private record Outputs(Path fits, Path png, String fitsInBucket) {
    }

    private static Outputs write(Settings s, double cellRad, String location, StoreOptions options, CubeJob.Cube cube)
            throws DatasetException {
        CubeWcs wcs = new CubeWcs(s.npix(), cellRad, cube.phaseCentreRad(), cube.freqHz());
        int chan = s.pngChannel() >= 0 ? s.pngChannel() : cube.dirty().length / 2;
        try (ObjectStore local = ObjectStore.open(s.out().toAbsolutePath().toString(), options)) {
            FitsCube.write(local, "cube.fits", wcs, "Jy/beam", cube.dirty());
            ChannelPng.write(local, "channel-" + chan + ".png", cube.dirty()[chan], s.npix(),
                    "dirty image, channel " + chan + String.format(" (%.4f GHz)", cube.freqHz()[chan] / 1e9), "Jy/beam");
        }
        String imageLocation = location + "-image";
        try (ObjectStore bucket = ObjectStore.open(imageLocation, options)) {
            FitsCube.write(bucket, "cube.fits", wcs, "Jy/beam", cube.dirty());
        }
        return new Outputs(s.out().resolve("cube.fits"), s.out().resolve("channel-" + chan + ".png"),
                imageLocation + "/cube.fits");
    }

    private static Found match(Peaks.Peak p, SyntheticDataset data, double cellRad) {
        if (data == null) {
            return new Found(p, null, Double.NaN);
        }
        double meanFreq = (data.freqHz(0) + data.freqHz(data.nchan() - 1)) / 2;
        Source best = null;
        double bestDist = 3 * cellRad;
        for (Source src : data.sources()) {
            double d = Math.hypot(src.l() - p.l(), src.m() - p.m());
            if (d <= bestDist) {
                best = src;
                bestDist = d;
            }
        }
        return new Found(p, best, best == null ? Double.NaN : best.fluxAt(meanFreq));
    }

    private static void print(Summary r, Settings s, PrintStream out) {
        out.println();
        out.printf("visibilities      %,d (Stokes I samples gridded, %d channels, %d chunks)%n", r.visibilities(),
                r.channels(), r.chunks());
        out.printf("imaging time      %.2f s (read from S3 + Stokes I + grid + FFT + correct, %d x %d pixels)%n",
                r.seconds(), s.npix(), s.npix());
        if (r.cores() > 0) {
            out.printf("throughput        %,.0f visibilities/s, %,.0f per core (%d cores)%n", r.visibilities() / r.seconds(),
                    r.visibilitiesPerSecondPerCore(), r.cores());
        } else {
            out.printf("throughput        %,.0f visibilities/s (--cores N for a figure per core)%n",
                    r.visibilities() / r.seconds());
        }
        out.println("brightest sources in the channel-mean dirty image (offsets from the phase centre, arcsec):");
        out.println("   found:  x       y     Jy/beam  |  true:  x       y      Jy     source");
        for (Found f : r.found()) {
            Peaks.Peak p = f.peak();
            String truth = f.truth() == null ? "          -       -         -     (none within 3 pixels)"
                    : String.format("%8.2f %7.2f %9.4f     %s", f.truth().l() / ARCSEC, f.truth().m() / ARCSEC,
                            f.trueFluxJy(), f.truth().isPoint() ? "point" : String.format(
                                    "Gaussian %.1f\" x %.1f\", integrated flux", f.truth().majorFwhmRad() / ARCSEC,
                                    f.truth().minorFwhmRad() / ARCSEC));
            out.printf("        %7.2f %7.2f %9.4f  |  %s%n", p.l() / ARCSEC, p.m() / ARCSEC, p.value(), truth);
        }
        out.println("wrote " + r.fits() + ", " + r.png() + " and " + r.fitsInBucket());
    }
}
