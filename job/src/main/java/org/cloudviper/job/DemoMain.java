package org.cloudviper.job;

import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scripts/demo.sh [options]}: the main job (see {@link Demo}). With no option, everything runs
 * in this JVM; {@code --scheduler}, {@code --s3-endpoint}, {@code --bucket} and {@code --prefix} point
 * it at a real cluster of Java workers and a real bucket.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 100,
        description = "Generates a synthetic ALMA-like dataset in a bucket, images its cube on Java workers,"
                + " writes a FITS cube and a PNG and prints a summary.")
public final class DemoMain implements Callable<Integer> {
    @Option(names = "--scheduler", paramLabel = "tcp://HOST:PORT",
            description = "a running scheduler with Java workers (default: a scheduler and workers in this JVM)")
    private String scheduler;

    @Option(names = "--workers", defaultValue = "2", description = "Java workers in this JVM (default: ${DEFAULT-VALUE})")
    private int workers;

    @Option(names = "--threads", defaultValue = "0",
            description = "task threads per worker in this JVM, which read chunks while the pinned compute threads grid"
                    + " and transform (default: the cores divided among the workers, at least 1)")
    private int threads;

    @Option(names = "--s3-endpoint", paramLabel = "URL",
            description = "S3 endpoint (default: an S3 server in this JVM, s3proxy, in memory)")
    private URI s3Endpoint;

    @Option(names = "--bucket", defaultValue = "cloudviper-demo", description = "(default: ${DEFAULT-VALUE})")
    private String bucket;

    @Option(names = "--prefix", defaultValue = "alma-synthetic",
            description = "the dataset's prefix; the image goes to PREFIX-image/cube.fits (default: ${DEFAULT-VALUE})")
    private String prefix;

    @Option(names = "--region", defaultValue = "us-east-1", description = "(default: ${DEFAULT-VALUE})")
    private String region;

    @Option(names = "--access-key", description = "with --s3-endpoint (default: AWS_ACCESS_KEY_ID, else the SDK's chain)")
    private String accessKey = System.getenv("AWS_ACCESS_KEY_ID");

    @Option(names = "--secret-key", description = "with --s3-endpoint (default: AWS_SECRET_ACCESS_KEY)")
    private String secretKey = System.getenv("AWS_SECRET_ACCESS_KEY");

    @Option(names = "--existing", description = "image the dataset already at the prefix instead of generating one")
    private boolean existing;

    @Option(names = "--npix", defaultValue = "512", description = "image size (default: ${DEFAULT-VALUE})")
    private int npix;

    @Option(names = "--cell-arcsec", defaultValue = "0.3", description = "pixel size (default: ${DEFAULT-VALUE})")
    private double cellArcsec;

    @Option(names = "--weighting", defaultValue = "natural", description = "natural, uniform or briggs (default: ${DEFAULT-VALUE})")
    private String weighting;

    @Option(names = "--robust", defaultValue = "0", description = "Briggs robustness (default: ${DEFAULT-VALUE})")
    private double robust;

    @Option(names = "--antennas", defaultValue = "40", description = "(default: ${DEFAULT-VALUE})")
    private int antennas;

    @Option(names = "--times", defaultValue = "120", description = "one-minute samples (default: ${DEFAULT-VALUE})")
    private int times;

    @Option(names = "--channels", defaultValue = "32", description = "(default: ${DEFAULT-VALUE})")
    private int channels;

    @Option(names = "--times-per-chunk", defaultValue = "30", description = "(default: ${DEFAULT-VALUE})")
    private int timesPerChunk;

    @Option(names = "--channels-per-chunk", defaultValue = "8", description = "(default: ${DEFAULT-VALUE})")
    private int chansPerChunk;

    @Option(names = "--noise-jy", defaultValue = "0.2", description = "per visibility (default: ${DEFAULT-VALUE})")
    private double noiseJy;

    @Option(names = "--out", defaultValue = "demo-output", description = "local folder for cube.fits and the PNG"
            + " (default: ${DEFAULT-VALUE})")
    private Path out;

    @Option(names = "--png-channel", defaultValue = "-1", description = "channel drawn (default: the middle one)")
    private int pngChannel;

    @Option(names = "--cores", defaultValue = "0",
            description = "cores of the cluster, for the per-core figure (default: this machine's, in-process only)")
    private int cores;

    @Option(names = "--repeat", defaultValue = "1",
            description = "image the cube this many times and report the last (a warm JVM; for benchmarks)")
    private int repeat;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DemoMain()).execute(args));
    }

    Demo.Settings settings() {
        return new Demo.Settings(scheduler, workers, threads, s3Endpoint, bucket, prefix, region, accessKey, secretKey,
                !existing, npix, cellArcsec, weighting, robust, antennas, times, channels, timesPerChunk, chansPerChunk,
                noiseJy, out, pngChannel, cores, repeat);
    }

    @Override
    public Integer call() throws Exception {
        Demo.run(settings(), System.out, System.err);
        return 0;
    }
}
