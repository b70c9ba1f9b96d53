package org.cloudviper.job;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.cloudviper.testkit.DaskGeneration;
import org.junit.jupiter.api.Assumptions;

/**
 * The dataset {@code src/test/python/sky_chunks.py} writes with pyarrow (two point sources, 8
 * channels, 4 chunks) and its expected images by the direct Fourier sum, float64. Needs the Python
 * with pyarrow of the 2022 peers (the venv scripts/setup-peers.sh makes); tests are skipped with the
 * reason without it.
 */
final class SkyData {
    static final int NPIX = 128;
    static final double CELL_RAD = 3e-6;
    static final int NCHAN = 8;

    private SkyData() {
    }

    /** Writes the dataset and the expected images into {@code dir}. */
    static void write(Path dir) throws IOException, InterruptedException {
        DaskGeneration g = DaskGeneration.DASK_2022;
        String missing = g.unavailableReason(true);
        Assumptions.assumeTrue(missing == null, missing);
        List<String> cmd = new ArrayList<>(g.python(true));
        cmd.addAll(List.of(Path.of("src/test/python/sky_chunks.py").toAbsolutePath().toString(), dir.toString(),
                Integer.toString(NPIX), Double.toString(CELL_RAD)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException("sky_chunks.py failed: " + out);
        }
    }

    /** Uploads the dataset written in {@code dir} (chunks and description) to {@code location}. */
    static void upload(Path dir, String location, java.util.Map<String, ?> storageOptions) throws Exception {
        try (org.cloudviper.cube.ObjectStore store = org.cloudviper.cube.ObjectStore.open(location,
                org.cloudviper.cube.StoreOptions.fromStorageOptions(storageOptions));
             var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (name.endsWith(".arrows") || name.endsWith(".json")) {
                    store.put(name, Files.readAllBytes(f));
                }
            }
        }
    }

    /** {@code expected_dirty.npy} or {@code expected_psf.npy}: [chan][j * NPIX + i]. */
    static double[][] expected(Path dir, String name) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(name))).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = b.getShort(8) & 0xffff;
        String header = new String(b.array(), 10, headerLength, StandardCharsets.ISO_8859_1);
        if (!header.contains("'<f8'") || !header.contains("'fortran_order': False")) {
            throw new IllegalStateException(name + ": " + header);
        }
        b.position(10 + headerLength);
        double[][] out = new double[NCHAN][NPIX * NPIX];
        for (double[] plane : out) {
            b.asDoubleBuffer().get(plane);
            b.position(b.position() + 8 * plane.length);
        }
        return out;
    }

    /** The largest |a - b| over all channels, relative to the largest |b|. */
    static double peakRelativeError(float[][] a, double[][] b) {
        double peak = 0;
        double err = 0;
        for (int c = 0; c < b.length; c++) {
            for (int p = 0; p < b[c].length; p++) {
                peak = Math.max(peak, Math.abs(b[c][p]));
                err = Math.max(err, Math.abs(a[c][p] - b[c][p]));
            }
        }
        return err / peak;
    }
}
