package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Stokes I rule on every case, for each kind of products, written and read through the format. */
class StokesIFormationTest {
    @TempDir
    Path dir;

    /** One row of one channel per case: products a and b as (re, im, weight, flagged). */
    private StokesIBlock read(List<String> pols, float[][] cases) throws Exception {
        int npol = pols.size();
        int rows = cases.length;
        float[] vis = new float[rows * npol * 2];
        float[] weight = new float[rows * npol];
        boolean[] flag = new boolean[rows * npol];
        int a = pols.contains("YY") ? pols.indexOf("XX") : pols.contains("LL") ? pols.indexOf("RR") : pols.indexOf("I");
        int b = pols.contains("YY") ? pols.indexOf("YY") : pols.contains("LL") ? pols.indexOf("LL") : -1;
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < npol; p++) {
                // other products (XY, YX) carry junk that must not leak into I
                vis[2 * (r * npol + p)] = 99;
                weight[r * npol + p] = 99;
            }
            int[] idx = b < 0 ? new int[] {a} : new int[] {a, b};
            for (int k = 0; k < idx.length; k++) {
                int p = idx[k];
                vis[2 * (r * npol + p)] = cases[r][4 * k];
                vis[2 * (r * npol + p) + 1] = cases[r][4 * k + 1];
                weight[r * npol + p] = cases[r][4 * k + 2];
                flag[r * npol + p] = cases[r][4 * k + 3] != 0;
            }
        }
        double[] uvw = new double[rows];
        DatasetInfo info = new DatasetInfo(1, pols, new double[] {1e9}, new double[] {0, 0}, List.of());
        try (BufferAllocator root = new RootAllocator(); ObjectStore store = ObjectStore.open(dir.toString(),
                StoreOptions.defaults())) {
            DatasetWriter w = DatasetWriter.create(store, info, Compression.NONE, root);
            try (ChunkWriter c = w.chunk(0, 0, 1)) {
                c.write(rows, uvw, uvw, uvw, vis, weight, flag);
            }
            w.finish();
            try (Dataset ds = Dataset.open(store); ChunkReader chunk = ds.chunk("t000_c0000.arrows", root)) {
                StokesIBlock block = new StokesIBlock();
                assertTrue(chunk.next());
                chunk.stokesI(block);
                assertEquals(false, chunk.next());
                return block;
            }
        }
    }

    private static void assertSample(StokesIBlock b, int s, float re, float im, float w) {
        assertEquals(re, b.vis()[2 * s], "re of case " + s);
        assertEquals(im, b.vis()[2 * s + 1], "im of case " + s);
        assertEquals(w, b.weight()[s], "weight of case " + s);
    }

    private static final float NAN = Float.NaN;

    private static final float[][] CASES = {
        // a: re, im, weight, flag;  b: re, im, weight, flag
        {2, 4, 1, 0, 4, -2, 3, 0},     // both good: mean, summed weights
        {2, 4, 1, 1, 4, -2, 3, 0},     // a flagged: b with its weight
        {2, 4, 1, 0, 4, -2, 3, 1},     // b flagged: a with its weight
        {2, 4, 1, 1, 4, -2, 3, 1},     // both flagged: dropped
        {2, 4, 0, 0, 4, -2, 3, 0},     // a of weight 0: b
        {2, 4, 1, 0, 4, -2, -1, 0},    // b of negative weight: a
        {NAN, 4, 1, 0, 4, -2, 3, 0},   // a not finite: b
        {2, 4, 1, 0, 4, Float.POSITIVE_INFINITY, 3, 0}, // b not finite: a
        {2, 4, NAN, 0, 4, -2, NAN, 0}, // both weights not finite: dropped
    };

    @Test
    void linearFeeds() throws Exception {
        check(read(List.of("XX", "YY"), CASES));
    }

    @Test
    void fourLinearProductsUseTheParallelHands() throws Exception {
        check(read(List.of("XX", "XY", "YX", "YY"), CASES));
    }

    @Test
    void circularFeeds() throws Exception {
        check(read(List.of("RR", "LL"), CASES));
    }

    private static void check(StokesIBlock b) {
        assertEquals(CASES.length, b.rows());
        assertSample(b, 0, 3, 1, 4);
        assertSample(b, 1, 4, -2, 3);
        assertSample(b, 2, 2, 4, 1);
        assertSample(b, 3, 0, 0, 0);
        assertSample(b, 4, 4, -2, 3);
        assertSample(b, 5, 2, 4, 1);
        assertSample(b, 6, 4, -2, 3);
        assertSample(b, 7, 2, 4, 1);
        assertSample(b, 8, 0, 0, 0);
        assertEquals(2, b.dropped());
    }

    @Test
    void stokesIAlone() throws Exception {
        StokesIBlock b = read(List.of("I"), new float[][] {{2, 4, 1.5f, 0}, {2, 4, 1.5f, 1}});
        assertSample(b, 0, 2, 4, 1.5f);
        assertSample(b, 1, 0, 0, 0);
    }

    @Test
    void productsWithoutStokesIAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DatasetInfo(1, List.of("XY", "YX"), new double[] {1e9}, new double[] {0, 0}, List.of()));
        assertEquals("pols [XY, YX] (expected: XX and YY, RR and LL, or I)", e.getMessage());
    }
}
