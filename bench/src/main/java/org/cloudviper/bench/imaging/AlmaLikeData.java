package org.cloudviper.bench.imaging;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.cloudviper.imaging.VisBlock;

/**
 * The benchmarks' visibilities: an ALMA-like compact array observed by earth rotation synthesis.
 * 45 antennas placed at random (seeded) within a 160 m disc, at least 15 m apart (12 m dishes) -> 990
 * baselines; 100 times over hour angles -2 h .. +2 h at declination -35 deg from latitude -23.02 deg
 * (the ALMA site) -> 99,000 rows; 32 channels of 62.5 MHz from 230 GHz. Visibilities of five point
 * sources plus Gaussian noise, weights 1, 2 % of the samples flagged (weight 0). The image cell is a
 * fifth of the finest fringe, c / (5 Bmax fmax), the usual five pixels across the beam: the uv
 * coverage then fills the inner 40 % of the grid along each axis.
 */
public final class AlmaLikeData {
    static final double C = 299_792_458.0;
    public static final int ANTENNAS = 45;
    public static final int TIMES = 100;
    public static final int CHANNELS = 32;

    public final VisBlock block;
    public final double cellRad;
    public final double maxBaseline;

    private AlmaLikeData(VisBlock block, double cellRad, double maxBaseline) {
        this.block = block;
        this.cellRad = cellRad;
        this.maxBaseline = maxBaseline;
    }

    public static AlmaLikeData generate(long seed) {
        Random rnd = new Random(seed);
        double[][] ant = new double[ANTENNAS][];
        for (int a = 0; a < ANTENNAS; ) {
            double r = 80 * Math.sqrt(rnd.nextDouble());
            double t = 2 * Math.PI * rnd.nextDouble();
            double e = r * Math.cos(t);
            double n = r * Math.sin(t);
            boolean clear = true;
            for (int b = 0; b < a; b++) {
                clear &= Math.hypot(ant[b][0] - e, ant[b][1] - n) >= 15;
            }
            if (clear) {
                ant[a++] = new double[] {e, n, 0.5 * rnd.nextGaussian()};
            }
        }
        double lat = Math.toRadians(-23.02);
        double dec = Math.toRadians(-35);
        int nbl = ANTENNAS * (ANTENNAS - 1) / 2;
        int nrow = nbl * TIMES;
        double[] u = new double[nrow];
        double[] v = new double[nrow];
        double[] w = new double[nrow];
        double maxB = 0;
        int row = 0;
        for (int t = 0; t < TIMES; t++) {
            double h = Math.toRadians(15 * (-2 + 4.0 * t / (TIMES - 1)));
            for (int a = 0; a < ANTENNAS; a++) {
                for (int b = a + 1; b < ANTENNAS; b++) {
                    double de = ant[b][0] - ant[a][0];
                    double dn = ant[b][1] - ant[a][1];
                    double du = ant[b][2] - ant[a][2];
                    maxB = Math.max(maxB, Math.sqrt(de * de + dn * dn + du * du));
                    double x = -dn * Math.sin(lat) + du * Math.cos(lat);
                    double y = de;
                    double z = dn * Math.cos(lat) + du * Math.sin(lat);
                    u[row] = Math.sin(h) * x + Math.cos(h) * y;
                    v[row] = -Math.sin(dec) * Math.cos(h) * x + Math.sin(dec) * Math.sin(h) * y + Math.cos(dec) * z;
                    w[row] = Math.cos(dec) * Math.cos(h) * x - Math.cos(dec) * Math.sin(h) * y + Math.sin(dec) * z;
                    row++;
                }
            }
        }
        double[] freq = new double[CHANNELS];
        for (int c = 0; c < CHANNELS; c++) {
            freq[c] = 230e9 + 62.5e6 * c;
        }
        double cell = C / (5 * maxB * freq[CHANNELS - 1]);
        // five point sources: (l, m) in cells, flux in Jy
        double[][] sources = {{0, 0, 1.0}, {40, -25, 0.5}, {-120, 60, 0.25}, {200, 180, 0.1}, {-300, -310, 0.05}};
        float[] vis = new float[2 * nrow * CHANNELS];
        float[] wt = new float[nrow * CHANNELS];
        for (int r = 0; r < nrow; r++) {
            for (int c = 0; c < CHANNELS; c++) {
                double sr = 0;
                double si = 0;
                double k = freq[c] / C;
                for (double[] s : sources) {
                    double l = s[0] * cell;
                    double m = s[1] * cell;
                    double n1 = Math.sqrt(1 - l * l - m * m) - 1;
                    double ph = -2 * Math.PI * k * (u[r] * l + v[r] * m + w[r] * n1);
                    sr += s[2] * Math.cos(ph);
                    si += s[2] * Math.sin(ph);
                }
                int i = r * CHANNELS + c;
                vis[2 * i] = (float) (sr + 0.1 * rnd.nextGaussian());
                vis[2 * i + 1] = (float) (si + 0.1 * rnd.nextGaussian());
                wt[i] = rnd.nextInt(50) == 0 ? 0f : 1f;
            }
        }
        return new AlmaLikeData(new VisBlock(nrow, u, v, w, freq, vis, wt), cell, maxB);
    }

    /** The same samples ordered baseline by baseline (each baseline's track in time order). */
    public AlmaLikeData baselineMajor() {
        int nbl = ANTENNAS * (ANTENNAS - 1) / 2;
        int nrow = block.nrow();
        int nchan = block.nchan();
        double[] u = new double[nrow];
        double[] v = new double[nrow];
        double[] w = new double[nrow];
        float[] vis = new float[block.vis().length];
        float[] wt = new float[block.weight().length];
        int dst = 0;
        for (int b = 0; b < nbl; b++) {
            for (int t = 0; t < TIMES; t++, dst++) {
                int src = t * nbl + b;
                u[dst] = block.u()[src];
                v[dst] = block.v()[src];
                w[dst] = block.w()[src];
                System.arraycopy(block.vis(), 2 * src * nchan, vis, 2 * dst * nchan, 2 * nchan);
                System.arraycopy(block.weight(), src * nchan, wt, dst * nchan, nchan);
            }
        }
        return new AlmaLikeData(new VisBlock(nrow, u, v, w, block.freqHz(), vis, wt), cellRad, maxBaseline);
    }

    /**
     * Writes the data for the side-by-side scripts as raw little-endian arrays in {@code dir}:
     * uvw.f64 [row][3], freq.f64, vis.c64 [row][chan] complex64, weight.f32 [row][chan], and
     * meta.txt (nrow nchan cell_rad).
     */
    public void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        int nrow = block.nrow();
        ByteBuffer uvw = ByteBuffer.allocate(nrow * 24).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < nrow; r++) {
            uvw.putDouble(block.u()[r]).putDouble(block.v()[r]).putDouble(block.w()[r]);
        }
        write(dir.resolve("uvw.f64"), uvw);
        ByteBuffer f = ByteBuffer.allocate(block.nchan() * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : block.freqHz()) {
            f.putDouble(x);
        }
        write(dir.resolve("freq.f64"), f);
        ByteBuffer vis = ByteBuffer.allocate(block.vis().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        vis.asFloatBuffer().put(block.vis());
        write(dir.resolve("vis.c64"), vis);
        ByteBuffer wt = ByteBuffer.allocate(block.weight().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        wt.asFloatBuffer().put(block.weight());
        write(dir.resolve("weight.f32"), wt);
        try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(dir.resolve("meta.txt")))) {
            out.writeBytes(nrow + " " + block.nchan() + " " + cellRad + "\n");
        }
    }

    private static void write(Path p, ByteBuffer b) throws IOException {
        b.rewind();
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
    }
}
