package org.cloudviper.bench;

import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.cloudviper.cube.ChunkReader;
import org.cloudviper.cube.Compression;
import org.cloudviper.cube.Dataset;
import org.cloudviper.cube.DatasetInfo;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.StokesIBlock;
import org.cloudviper.cube.StoreOptions;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/**
 * S3 to Arrow record batches against a raw GET of the same objects from the same server: a
 * synthetic dataset (99,000 rows x 32 channels x 2 products per 1,000 baselines-times, ALMA-like)
 * is written to an in-process s3proxy on 127.0.0.1 (blobs on disk), then, in alternating rounds,
 * every chunk is read (1) raw: the bytes through the same {@code ObjectStore.read} (the SDK's CRT
 * client, parallel ranged GETs) into a discarded buffer; (2) arrow: through {@code ChunkReader},
 * every record batch decoded into Arrow vectors, on the reading thread ({@code readAhead} 0) and read
 * ahead (decoded on other threads, {@code -Dcloudviper.arrow.readAhead} batches, 2 unless set); (3)
 * stokes: as (2) on the reading thread (the default), plus Stokes I into a reused block. Prints MB/s of object bytes per round
 * and the median ratios to raw.
 *
 * <pre>java -cp bench/target/benchmarks.jar org.cloudviper.bench.CubeReadMain [times] [rounds] [none|lz4|zstd]</pre>
 */
public final class CubeReadMain {
    private CubeReadMain() {
    }

    public static void main(String[] args) throws Exception {
        int times = args.length > 0 ? Integer.parseInt(args[0]) : 508;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Compression compression = args.length > 2 ? Compression.valueOf(args[2].toUpperCase(Locale.ROOT)
                .replace("LZ4", "LZ4_FRAME")) : Compression.NONE;
        Path blobs = Files.createTempDirectory("cube-bench-s3");
        BlobStore blobStore = new FilesystemNio2BlobStore(blobs.toString());
        S3Proxy proxy = S3Proxy.builder().blobStore(blobStore).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, "bench", "bench-secret").build();
        proxy.start();
        while (!"STARTED".equals(proxy.getState())) {
            Thread.sleep(10);
        }
        try {
            blobStore.createContainer("bench");
            StoreOptions options = StoreOptions.builder().endpoint(URI.create("http://127.0.0.1:" + proxy.getPort()))
                    .region("us-east-1").staticCredentials("bench", "bench-secret").pathStyle(true).build();
            run(options, times, rounds, compression);
        } finally {
            proxy.stop();
            blobStore.close();
            try (Stream<Path> files = Files.walk(blobs)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static void run(StoreOptions options, int times, int rounds, Compression compression) throws Exception {
        // 780 baselines (40 antennas) x times rows, 32 channels in two chunks of 16 per time block
        SyntheticDataset synth = SyntheticDataset.builder().track(times, 10, 0).channels(32, 100e9, 15.625e6)
                .source(Source.point(1, 2e-5, -1e-5)).noiseJy(0.1).flagFraction(0.02).flaggedAntenna(5)
                .chunking(Math.max(1, times / 4), 16, 16_384).compression(compression).build();
        String location = "s3://bench/" + compression.name().toLowerCase(Locale.ROOT);
        long start = System.nanoTime();
        DatasetInfo info;
        try (BufferAllocator root = new RootAllocator(); ObjectStore store = ObjectStore.open(location, options)) {
            info = synth.write(store, root);
        }
        long bytes = 0;
        try (ObjectStore store = ObjectStore.open(location, options)) {
            for (String chunk : info.chunks()) {
                bytes += store.size(chunk);
            }
        }
        System.out.printf(Locale.ROOT, "dataset: %d rows x %d channels, %d chunks, %.1f MB (%s), written in %.1f s%n",
                synth.rows(), info.nchan(), info.chunks().size(), bytes / 1e6, compression,
                (System.nanoTime() - start) / 1e9);
        List<Double> inline = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        List<Double> stokesRatios = new ArrayList<>();
        int depth = Integer.getInteger(ChunkReader.READ_AHEAD, 2); // the read-ahead compared
        try (Dataset ds = Dataset.open(location, options); BufferAllocator root = new RootAllocator(512L << 20)) {
            readRaw(ds, info);
            readArrow(ds, info, root, false, depth);
            double[] cpu = new double[4];
            for (int r = 0; r < rounds; r++) {
                long c0 = cpuNanos();
                double raw = bytes / 1e6 / readRaw(ds, info);
                long c1 = cpuNanos();
                double onReader = bytes / 1e6 / readArrow(ds, info, root, false, 0);
                long c2 = cpuNanos();
                double arrow = bytes / 1e6 / readArrow(ds, info, root, false, depth);
                long c3 = cpuNanos();
                double stokes = bytes / 1e6 / readArrow(ds, info, root, true, 0);
                long c4 = cpuNanos();
                inline.add(onReader / raw);
                ratios.add(arrow / raw);
                stokesRatios.add(stokes / raw);
                double gb = bytes / 1e9;
                double[] round = {(c1 - c0) / 1e9 / gb, (c2 - c1) / 1e9 / gb, (c3 - c2) / 1e9 / gb, (c4 - c3) / 1e9 / gb};
                for (int i = 0; i < 4; i++) {
                    cpu[i] += round[i] / rounds;
                }
                System.out.printf(Locale.ROOT, "round %d: raw GET %.1f MB/s, Arrow batches decoded on the reading thread"
                        + " %.1f MB/s (%.2fx), read ahead %.1f MB/s (%.2fx), + Stokes I %.1f MB/s (%.2fx); process CPU"
                        + " s per GB %.2f, %.2f, %.2f, %.2f; load %.1f%n", r + 1, raw, onReader, onReader / raw, arrow,
                        arrow / raw, stokes, stokes / raw, round[0], round[1], round[2], round[3], load());
            }
            System.out.printf(Locale.ROOT, "process CPU s per GB (mean; S3 server included): raw GET %.2f, Arrow on"
                    + " the reading thread %.2f, read ahead %.2f, + Stokes I %.2f%n", cpu[0], cpu[1], cpu[2], cpu[3]);
            if (root.getAllocatedMemory() != 0) {
                throw new IllegalStateException("Arrow memory held: " + root.getAllocatedMemory());
            }
        }
        System.out.printf(Locale.ROOT, "median: Arrow batches / raw GET = %.2f on the reading thread, %.2f read ahead"
                + " (%d batches); + Stokes I / raw GET = %.2f%n", median(inline), median(ratios), depth,
                median(stokesRatios));
    }

    private static long cpuNanos() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : 0;
    }

    /** The one-minute load average, NaN where the system does not say. */
    private static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static double readRaw(Dataset ds, DatasetInfo info) throws Exception {
        byte[] sink = new byte[1 << 20];
        long t0 = System.nanoTime();
        for (String chunk : info.chunks()) {
            try (InputStream in = ds.store().read(chunk)) {
                while (in.read(sink) >= 0) {
                    // the bytes only
                }
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double readArrow(Dataset ds, DatasetInfo info, BufferAllocator root, boolean stokes, int readAhead)
            throws Exception {
        System.setProperty(ChunkReader.READ_AHEAD, Integer.toString(readAhead));
        StokesIBlock block = new StokesIBlock();
        long rows = 0;
        long t0 = System.nanoTime();
        for (String chunk : info.chunks()) {
            try (ChunkReader reader = ds.chunk(chunk, root)) {
                while (reader.next()) {
                    rows += reader.batch().getRowCount();
                    if (stokes) {
                        reader.stokesI(block);
                    }
                }
            }
        }
        if (rows == 0) {
            throw new IllegalStateException("no rows read");
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
