package org.cloudviper.imaging;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The distributed flow: partial grids of separate tasks sum to the grid of the whole block; a cleared
 * grid is as good as a fresh one; the executor overload gives the same grids; the pool bounds the
 * grids handed out.
 */
class DistributionTest {
    static final int NPIX = 64;
    static final double CELL = 0.5 / 3600 * Math.PI / 180;

    @Test
    void partialGridsSumToTheWhole() throws Exception {
        VisBlock block = Direct.randomBlock(21, 1500, 4, CELL);
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, 1e-5, Precision.FLOAT64));
        ChannelGrids whole = imager.newGrids(4);
        ChannelGrids wholePsf = imager.newGrids(4);
        imager.grid(block, block.weight(), whole, wholePsf);

        ChannelGrids a = imager.newGrids(4);
        ChannelGrids b = imager.newGrids(4);
        VisBlock first = Blocks.rows(block, 0, 700);
        VisBlock second = Blocks.rows(block, 700, 1500);
        imager.grid(first, first.weight(), a, null);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            imager.grid(second, second.weight(), b, null, pool, 2);
        } finally {
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
        a.add(b);
        for (int c = 0; c < 4; c++) {
            assertEquals(whole.stats(c).sumWeights(), a.stats(c).sumWeights(), 1e-9);
            assertEquals(whole.stats(c).gridded(), a.stats(c).gridded());
            double[] x = new double[NPIX * NPIX];
            double[] y = new double[NPIX * NPIX];
            imager.image(whole, c, x);
            imager.image(a, c, y);
            assertArrayEquals(x, y, 1e-12);
        }

        // cleared and reused: the same image again
        a.clear();
        for (int c = 0; c < 4; c++) {
            assertTrue(a.stats(c).isEmpty());
        }
        imager.grid(block, block.weight(), a, null);
        double[] x = new double[NPIX * NPIX];
        double[] y = new double[NPIX * NPIX];
        imager.image(whole, 2, x);
        imager.image(a, 2, y);
        assertArrayEquals(x, y, 1e-12);
    }

    @Test
    void thePoolBoundsTheGridsHandedOut() throws Exception {
        Imager imager = Imager.create(ImageSpec.of(NPIX, CELL, 1e-4, Precision.FLOAT32));
        GridPool pool = new GridPool(imager, 2, 2);
        ChannelGrids g1 = pool.acquire();
        ChannelGrids g2 = pool.acquire();
        ExecutorService waiter = Executors.newSingleThreadExecutor();
        try {
            Future<ChannelGrids> third = waiter.submit(pool::acquire);
            Thread.sleep(100);
            assertTrue(!third.isDone(), "a third acquire waits while two are out");
            VisBlock block = Direct.randomBlock(2, 50, 2, CELL);
            imager.grid(block, block.weight(), g1, null);
            pool.release(g1);
            ChannelGrids got = third.get(10, TimeUnit.SECONDS);
            assertSame(g1, got);
            assertTrue(got.stats(0).isEmpty(), "released grids come back cleared");
            assertEquals(2, pool.allocated());
            pool.release(g2);
            pool.release(got);
        } finally {
            waiter.shutdownNow();
        }
    }
}
