package org.cloudviper.cube.synth;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

import org.apache.arrow.memory.BufferAllocator;
import org.cloudviper.cube.ChunkWriter;
import org.cloudviper.cube.Compression;
import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.DatasetInfo;
import org.cloudviper.cube.DatasetWriter;
import org.cloudviper.cube.ObjectStore;

/**
 * A synthetic ALMA-like observation in the format of docs/data-format.md: an antenna layout
 * tracking a phase centre through earth rotation, channels across a band, a sky of point and
 * Gaussian sources (visibilities by the convention of docs/data-format.md, w-term included), thermal
 * noise, random flags and one antenna flagged throughout. Everything follows from the settings and
 * the seed: the same settings write the same bytes.
 *
 * <p>Rows are time-major (all baselines of time 0, then of time 1, ...), autocorrelations left out.
 * Chunk (t, c) holds {@link Builder#timesPerChunk} times and {@link Builder#chansPerChunk} channels;
 * the random draws of a row depend on the seed, its time, its baseline and its chunk's first
 * channel only.
 */
public final class SyntheticDataset {
    /** The speed of light, m/s. */
    public static final double C = 299_792_458.0;
    private static final double SIDEREAL_RAD_PER_S = 2 * Math.PI / 86_164.0905;

    private final Builder b;

    private SyntheticDataset(Builder b) {
        this.b = b;
    }

    public static Builder builder() {
        return new Builder();
    }

    public AntennaLayout layout() {
        return b.layout;
    }

    public List<Source> sources() {
        return List.copyOf(b.sources);
    }

    public int times() {
        return b.times;
    }

    public int nchan() {
        return b.nchan;
    }

    /** Rows in the dataset: times x baselines. */
    public long rows() {
        return (long) b.times * b.layout.baselines();
    }

    public double[] phaseCentreRad() {
        return new double[] {b.raRad, b.decRad};
    }

    public double freqHz(int chan) {
        return b.freqStartHz + chan * b.channelWidthHz;
    }

    /** The hour angle of time sample {@code t}, radians: the track is centred on transit. */
    public double hourAngleRad(int t) {
        double seconds = (t - (b.times - 1) / 2.0) * b.integrationSeconds;
        return b.hourAngleCentreRad + seconds * SIDEREAL_RAD_PER_S;
    }

    /** The description the dataset will have (its chunk list included). */
    public DatasetInfo info() {
        double[] freq = new double[b.nchan];
        for (int c = 0; c < b.nchan; c++) {
            freq[c] = freqHz(c);
        }
        List<String> chunks = new ArrayList<>();
        for (int t0 = 0, ti = 0; t0 < b.times; t0 += b.timesPerChunk, ti++) {
            for (int c0 = 0; c0 < b.nchan; c0 += b.chansPerChunk) {
                chunks.add(DatasetWriter.chunkName(ti, c0));
            }
        }
        return new DatasetInfo(b.nchan, List.of("XX", "YY"), freq, phaseCentreRad(), chunks);
    }

    /** Writes the dataset into {@code store}'s root; buffers from children of {@code allocator}. */
    public DatasetInfo write(ObjectStore store, BufferAllocator allocator) throws DatasetException {
        DatasetInfo info = info();
        DatasetWriter writer = DatasetWriter.create(store, info, b.compression, allocator);
        for (int t0 = 0, ti = 0; t0 < b.times; t0 += b.timesPerChunk, ti++) {
            int t1 = Math.min(b.times, t0 + b.timesPerChunk);
            for (int c0 = 0; c0 < b.nchan; c0 += b.chansPerChunk) {
                int c1 = Math.min(b.nchan, c0 + b.chansPerChunk);
                try (ChunkWriter chunk = writer.chunk(ti, c0, c1 - c0)) {
                    writeChunk(chunk, t0, t1, c0, c1);
                }
            }
        }
        return writer.finish();
    }

    private void writeChunk(ChunkWriter chunk, int t0, int t1, int c0, int c1) throws DatasetException {
        int nbl = b.layout.baselines();
        int nch = c1 - c0;
        int batchRows = Math.max(1, Math.min(b.rowsPerBatch, (t1 - t0) * nbl));
        double[] u = new double[batchRows];
        double[] v = new double[batchRows];
        double[] w = new double[batchRows];
        float[] vis = new float[batchRows * nch * 4];
        float[] weight = new float[batchRows * 2];
        boolean[] flag = new boolean[batchRows * nch * 2];
        double[] uvw = new double[3];
        double[] acc = new double[2];
        double sigma = b.noiseJy;
        float pointWeight = sigma > 0 ? (float) (1 / (sigma * sigma)) : 1f;
        int filled = 0;
        for (int t = t0; t < t1; t++) {
            double h = hourAngleRad(t);
            for (int bl = 0; bl < nbl; bl++) {
                b.layout.uvw(bl, h, b.decRad, uvw);
                u[filled] = uvw[0];
                v[filled] = uvw[1];
                w[filled] = uvw[2];
                weight[2 * filled] = pointWeight;
                weight[2 * filled + 1] = pointWeight;
                boolean deadAntenna = b.layout.antenna1(bl) == b.flaggedAntenna || b.layout.antenna2(bl) == b.flaggedAntenna;
                SplittableRandom random = new SplittableRandom(mix(b.seed, t, bl, c0));
                for (int c = 0; c < nch; c++) {
                    double f = freqHz(c0 + c);
                    double toWavelengths = f / C;
                    acc[0] = 0;
                    acc[1] = 0;
                    for (Source s : b.sources) {
                        s.addVisibility(uvw[0] * toWavelengths, uvw[1] * toWavelengths, uvw[2] * toWavelengths, f, acc);
                    }
                    for (int p = 0; p < 2; p++) {
                        int k = (filled * nch + c) * 2 + p;
                        double nr = sigma > 0 ? sigma * random.nextGaussian() : 0;
                        double ni = sigma > 0 ? sigma * random.nextGaussian() : 0;
                        vis[2 * k] = (float) (acc[0] + nr);
                        vis[2 * k + 1] = (float) (acc[1] + ni);
                        flag[k] = deadAntenna || (b.flagFraction > 0 && random.nextDouble() < b.flagFraction);
                    }
                }
                if (++filled == batchRows) {
                    chunk.write(filled, u, v, w, vis, weight, flag);
                    filled = 0;
                }
            }
        }
        if (filled > 0) {
            chunk.write(filled, u, v, w, vis, weight, flag);
        }
    }

    private static long mix(long seed, int t, int baseline, int chan) {
        long z = seed;
        for (long x : new long[] {t, baseline, chan}) {
            z = (z ^ x) * 0x9E3779B97F4A7C15L;
            z ^= z >>> 31;
        }
        return z;
    }

    /** Settings; the defaults make a small ALMA band-3 cube of a field at declination -30 degrees. */
    public static final class Builder {
        private AntennaLayout layout = AntennaLayout.compactAlma(40, 1);
        private double raRad = Math.toRadians(150.0);
        private double decRad = Math.toRadians(-30.0);
        private double hourAngleCentreRad;
        private int times = 60;
        private double integrationSeconds = 60;
        private int nchan = 32;
        private double freqStartHz = 100e9;
        private double channelWidthHz = 15.625e6;
        private final List<Source> sources = new ArrayList<>();
        private double noiseJy;
        private double flagFraction;
        private int flaggedAntenna = -1;
        private long seed = 1;
        private int timesPerChunk = 30;
        private int chansPerChunk = 16;
        private int rowsPerBatch = 8192;
        private Compression compression = Compression.NONE;

        private Builder() {
        }

        public Builder layout(AntennaLayout layout) {
            this.layout = Objects.requireNonNull(layout);
            return this;
        }

        /** The phase centre (and tracking centre), radians. */
        public Builder phaseCentre(double raRad, double decRad) {
            this.raRad = raRad;
            this.decRad = decRad;
            return this;
        }

        /** {@code times} samples of {@code integrationSeconds}, centred on hour angle {@code centreRad}. */
        public Builder track(int times, double integrationSeconds, double centreRad) {
            if (times < 1 || integrationSeconds < 0) {
                throw new IllegalArgumentException("times " + times + ", integration " + integrationSeconds);
            }
            this.times = times;
            this.integrationSeconds = integrationSeconds;
            this.hourAngleCentreRad = centreRad;
            return this;
        }

        public Builder channels(int nchan, double freqStartHz, double channelWidthHz) {
            if (nchan < 1 || freqStartHz <= 0 || freqStartHz + (nchan - 1) * channelWidthHz <= 0) {
                throw new IllegalArgumentException("channels " + nchan + " from " + freqStartHz + " by " + channelWidthHz);
            }
            this.nchan = nchan;
            this.freqStartHz = freqStartHz;
            this.channelWidthHz = channelWidthHz;
            return this;
        }

        public Builder source(Source s) {
            sources.add(Objects.requireNonNull(s));
            return this;
        }

        /** Thermal noise: the standard deviation of each real and imaginary part, Jy; weights are 1/sigma^2. */
        public Builder noiseJy(double sigma) {
            this.noiseJy = sigma;
            return this;
        }

        /** Each (row, channel, product) is flagged with this probability. */
        public Builder flagFraction(double fraction) {
            if (fraction < 0 || fraction > 1) {
                throw new IllegalArgumentException("flag fraction " + fraction + " (expected: in [0, 1])");
            }
            this.flagFraction = fraction;
            return this;
        }

        /** An antenna whose baselines are all flagged; -1 for none. */
        public Builder flaggedAntenna(int antenna) {
            this.flaggedAntenna = antenna;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public Builder chunking(int timesPerChunk, int chansPerChunk, int rowsPerBatch) {
            if (timesPerChunk < 1 || chansPerChunk < 1 || rowsPerBatch < 1) {
                throw new IllegalArgumentException("chunking " + timesPerChunk + ", " + chansPerChunk + ", "
                        + rowsPerBatch + " (expected: >= 1)");
            }
            this.timesPerChunk = timesPerChunk;
            this.chansPerChunk = chansPerChunk;
            this.rowsPerBatch = rowsPerBatch;
            return this;
        }

        public Builder compression(Compression compression) {
            this.compression = Objects.requireNonNull(compression);
            return this;
        }

        public SyntheticDataset build() {
            if (flaggedAntenna >= layout.antennas()) {
                throw new IllegalArgumentException("flagged antenna " + flaggedAntenna + " of " + layout.antennas());
            }
            Builder copy = new Builder();
            copy.layout = layout;
            copy.raRad = raRad;
            copy.decRad = decRad;
            copy.hourAngleCentreRad = hourAngleCentreRad;
            copy.times = times;
            copy.integrationSeconds = integrationSeconds;
            copy.nchan = nchan;
            copy.freqStartHz = freqStartHz;
            copy.channelWidthHz = channelWidthHz;
            copy.sources.addAll(sources);
            copy.noiseJy = noiseJy;
            copy.flagFraction = flagFraction;
            copy.flaggedAntenna = flaggedAntenna;
            copy.seed = seed;
            copy.timesPerChunk = timesPerChunk;
            copy.chansPerChunk = chansPerChunk;
            copy.rowsPerBatch = rowsPerBatch;
            copy.compression = compression;
            return new SyntheticDataset(copy);
        }
    }
}
