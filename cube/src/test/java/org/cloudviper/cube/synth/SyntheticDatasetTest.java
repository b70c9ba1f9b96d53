package org.cloudviper.cube.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.cloudviper.cube.ChunkReader;
import org.cloudviper.cube.Compression;
import org.cloudviper.cube.Dataset;
import org.cloudviper.cube.DatasetInfo;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.StokesIBlock;
import org.cloudviper.cube.StoreOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticDatasetTest {
    private static final double ARCSEC = Math.PI / 180 / 3600;

    @TempDir
    Path dir;

    private static SyntheticDataset.Builder small() {
        return SyntheticDataset.builder().layout(AntennaLayout.compactAlma(12, 3)).track(8, 300, 0)
                .channels(6, 100e9, 50e6).chunking(5, 4, 40);
    }

    @Test
    void compactLayoutLooksLikeAlmaC43_1() {
        AntennaLayout layout = AntennaLayout.compactAlma(40, 1);
        assertEquals(40, layout.antennas());
        assertEquals(780, layout.baselines());
        assertTrue(layout.minBaseline() >= 15, "shortest " + layout.minBaseline());
        assertTrue(layout.maxBaseline() > 100 && layout.maxBaseline() < 250, "longest " + layout.maxBaseline());
        double[] uvw = new double[3];
        for (double h : new double[] {-1, 0, 0.7}) {
            for (int b = 0; b < layout.baselines(); b += 97) {
                layout.uvw(b, h, Math.toRadians(-30), uvw);
                double len = Math.sqrt(uvw[0] * uvw[0] + uvw[1] * uvw[1] + uvw[2] * uvw[2]);
                // a rotation of the ground vector: lengths are kept
                double[] at0 = new double[3];
                layout.uvw(b, 0, 0, at0);
                assertEquals(Math.sqrt(at0[0] * at0[0] + at0[1] * at0[1] + at0[2] * at0[2]), len, 1e-9);
            }
        }
    }

    @Test
    void pointSourceAtThePhaseCentreGivesItsFluxEverywhere() throws Exception {
        SyntheticDataset synth = small().source(Source.point(2.5, 0, 0)).build();
        try (BufferAllocator root = new RootAllocator(); ObjectStore store = ObjectStore.open(dir.toString(),
                StoreOptions.defaults())) {
            DatasetInfo written = synth.write(store, root);
            assertEquals(synth.info(), written);
            assertEquals(List.of("t000_c0000.arrows", "t000_c0004.arrows", "t001_c0000.arrows", "t001_c0004.arrows"),
                    written.chunks());
            long rows = 0;
            long samples = 0;
            try (Dataset ds = Dataset.open(dir.toString(), StoreOptions.defaults())) {
                assertEquals(written, ds.info());
                StokesIBlock block = new StokesIBlock();
                for (String name : ds.info().chunks()) {
                    try (ChunkReader chunk = ds.chunk(name, root)) {
                        while (chunk.next()) {
                            chunk.stokesI(block);
                            for (int s = 0; s < block.samples(); s++) {
                                assertEquals(2.5f, block.vis()[2 * s], 1e-6f);
                                assertEquals(0f, block.vis()[2 * s + 1], 1e-6f);
                                assertEquals(2f, block.weight()[s]);
                            }
                            if (chunk.chanStart() == 0) {
                                rows += block.rows();
                            }
                            samples += block.samples();
                        }
                    }
                }
            }
            assertEquals(synth.rows(), rows);
            assertEquals(8 * 66, rows);
            assertEquals(rows * 6, samples);
            assertEquals(0, root.getAllocatedMemory());
        }
    }

    @Test
    void visibilitiesFollowTheConventionWithTheWTerm() throws Exception {
        Source point = Source.point(1.0, 40 * ARCSEC, -25 * ARCSEC);
        Source gauss = Source.gaussian(0.5, -30 * ARCSEC, 10 * ARCSEC, 3 * ARCSEC, 1.5 * ARCSEC, Math.toRadians(30));
        SyntheticDataset synth = small().source(point).source(gauss).build();
        try (BufferAllocator root = new RootAllocator()) {
            try (ObjectStore store = ObjectStore.open(dir.toString(), StoreOptions.defaults())) {
                synth.write(store, root);
            }
            try (Dataset ds = Dataset.open(dir.toString(), StoreOptions.defaults());
                    ChunkReader chunk = ds.chunk("t001_c0004.arrows", root)) {
                StokesIBlock b = new StokesIBlock();
                assertTrue(chunk.next());
                chunk.stokesI(b);
                for (int r = 0; r < b.rows(); r += 7) {
                    for (int c = 0; c < b.nchan(); c++) {
                        double f = b.freqHz(c);
                        double k = f / SyntheticDataset.C;
                        double u = b.u()[r] * k;
                        double v = b.v()[r] * k;
                        double w = b.w()[r] * k;
                        // written out here again, apart from Source: sum S exp(-2 pi i (ul + vm + w(n-1)))
                        double n1 = Math.sqrt(1 - point.l() * point.l() - point.m() * point.m()) - 1;
                        double ph = -2 * Math.PI * (u * point.l() + v * point.m() + w * n1);
                        double re = Math.cos(ph);
                        double im = Math.sin(ph);
                        double sigma = 3 * ARCSEC / (2 * Math.sqrt(2 * Math.log(2)));
                        double sigmaMinor = sigma / 2;
                        double pa = Math.toRadians(30);
                        double along = u * Math.sin(pa) + v * Math.cos(pa);
                        double across = u * Math.cos(pa) - v * Math.sin(pa);
                        double amp = 0.5 * Math.exp(-2 * Math.PI * Math.PI
                                * (sigma * sigma * along * along + sigmaMinor * sigmaMinor * across * across));
                        double gn1 = Math.sqrt(1 - gauss.l() * gauss.l() - gauss.m() * gauss.m()) - 1;
                        double gph = -2 * Math.PI * (u * gauss.l() + v * gauss.m() + w * gn1);
                        re += amp * Math.cos(gph);
                        im += amp * Math.sin(gph);
                        int s = r * b.nchan() + c;
                        assertEquals(re, b.vis()[2 * s], 2e-6, "re row " + r + " chan " + c);
                        assertEquals(im, b.vis()[2 * s + 1], 2e-6, "im row " + r + " chan " + c);
                    }
                }
            }
            assertEquals(0, root.getAllocatedMemory());
        }
    }

    @Test
    void aPointSourcePeaksAtItsPositionInADirectFourierTransform() throws Exception {
        double l0 = 12 * ARCSEC;
        double m0 = -7 * ARCSEC;
        SyntheticDataset synth = SyntheticDataset.builder().track(20, 120, 0).channels(2, 100e9, 100e6)
                .source(Source.point(3.0, l0, m0)).noiseJy(0.05).flagFraction(0.05).flaggedAntenna(3).build();
        try (BufferAllocator root = new RootAllocator()) {
            try (ObjectStore store = ObjectStore.open(dir.toString(), StoreOptions.defaults())) {
                synth.write(store, root);
            }
            double at = dirty(root, l0, m0);
            double centre = dirty(root, 0, 0);
            assertEquals(3.0, at, 0.03);
            assertTrue(centre < 0.5 * at, "centre " + centre + " source " + at);
            // the mirror image would mean a sign error in the convention
            assertTrue(dirty(root, -l0, -m0) < 0.5 * at);
        }
    }

    /** The dirty image at (l, m), channel 0, natural weights. */
    private double dirty(BufferAllocator root, double l, double m) throws Exception {
        double num = 0;
        double den = 0;
        try (Dataset ds = Dataset.open(dir.toString(), StoreOptions.defaults())) {
            StokesIBlock b = new StokesIBlock();
            for (String name : ds.info().chunks()) {
                try (ChunkReader chunk = ds.chunk(name, root)) {
                    if (chunk.chanStart() != 0) {
                        continue;
                    }
                    while (chunk.next()) {
                        chunk.stokesI(b);
                        double k = b.freqHz(0) / SyntheticDataset.C;
                        for (int r = 0; r < b.rows(); r++) {
                            int s = r * b.nchan();
                            double wt = b.weight()[s];
                            double ph = 2 * Math.PI * (b.u()[r] * k * l + b.v()[r] * k * m);
                            num += wt * (b.vis()[2 * s] * Math.cos(ph) - b.vis()[2 * s + 1] * Math.sin(ph));
                            den += wt;
                        }
                    }
                }
            }
        }
        return num / den;
    }

    @Test
    void flagsNoiseAndTheDeadAntenna() throws Exception {
        SyntheticDataset synth = small().source(Source.point(1, 0, 0)).noiseJy(0.5).flagFraction(0.2)
                .flaggedAntenna(2).build();
        AntennaLayout layout = synth.layout();
        try (BufferAllocator root = new RootAllocator()) {
            try (ObjectStore store = ObjectStore.open(dir.toString(), StoreOptions.defaults())) {
                synth.write(store, root);
            }
            long dropped = 0;
            long single = 0;
            long live = 0;
            double sum = 0;
            double sumSq = 0;
            try (Dataset ds = Dataset.open(dir.toString(), StoreOptions.defaults())) {
                StokesIBlock b = new StokesIBlock();
                for (String name : ds.info().chunks()) {
                    try (ChunkReader chunk = ds.chunk(name, root)) {
                        int row = 0;
                        while (chunk.next()) {
                            chunk.stokesI(b);
                            for (int r = 0; r < b.rows(); r++, row++) {
                                int bl = row % layout.baselines();
                                boolean dead = layout.antenna1(bl) == 2 || layout.antenna2(bl) == 2;
                                for (int c = 0; c < b.nchan(); c++) {
                                    int s = r * b.nchan() + c;
                                    float wt = b.weight()[s];
                                    if (dead) {
                                        assertEquals(0f, wt, "dead antenna, baseline " + bl);
                                        continue;
                                    }
                                    live++;
                                    if (wt == 0) {
                                        dropped++;
                                    } else if (wt == 4f) {
                                        // one product of weight 1 / 0.5^2
                                        single++;
                                    } else {
                                        assertEquals(8f, wt);
                                        sum += b.vis()[2 * s];
                                        sumSq += (b.vis()[2 * s] - 1) * (b.vis()[2 * s] - 1);
                                    }
                                }
                            }
                        }
                    }
                }
            }
            long both = live - dropped - single;
            // P(both flagged) = 0.04, P(exactly one) = 0.32
            assertEquals(0.04, dropped / (double) live, 0.015);
            assertEquals(0.32, single / (double) live, 0.03);
            assertEquals(1.0, sum / both, 0.05);
            // the mean of two products: sigma / sqrt(2)
            assertEquals(0.5 / Math.sqrt(2), Math.sqrt(sumSq / both), 0.03);
        }
    }

    @Test
    void theSameSeedWritesTheSameBytes() throws Exception {
        try (BufferAllocator root = new RootAllocator()) {
            for (String sub : new String[] {"a", "b", "c"}) {
                try (ObjectStore store = ObjectStore.open(dir.resolve(sub).toString(), StoreOptions.defaults())) {
                    small().source(Source.point(1, 0, 0)).noiseJy(1).flagFraction(0.1).compression(Compression.ZSTD)
                            .seed(sub.equals("c") ? 2 : 1).build().write(store, root);
                }
            }
        }
        byte[] a = Files.readAllBytes(dir.resolve("a/t001_c0004.arrows"));
        assertArrayEquals(a, Files.readAllBytes(dir.resolve("b/t001_c0004.arrows")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(dir.resolve("c/t001_c0004.arrows"))));
    }
}
