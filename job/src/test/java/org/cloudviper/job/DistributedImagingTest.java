package org.cloudviper.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.apache.arrow.memory.BufferAllocator;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.StoreOptions;
import org.cloudviper.cube.synth.AntennaLayout;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.cloudviper.cube.tasks.ImageParams;
import org.cloudviper.embedded.JavaClient;
import org.cloudviper.embedded.JavaCluster;
import org.cloudviper.imaging.Precision;
import org.cloudviper.worker.tasks.ArrowTable;
import org.cloudviper.worker.tasks.TaskRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The synthetic dataset's point sources through the distributed path (plan, density, grid, grid_sum,
 * image_block on two Java workers): each channel's dirty image is the sum of the sources times the
 * PSF shifted to them (the sources sit on pixel centres), which holds for every weighting, so the
 * sources appear at their pixels with their flux.
 */
class DistributedImagingTest {
    private static final double CELL = 0.3 * Math.PI / 180 / 3600;
    private static final int NPIX = 256;
    private static final int[][] PIXELS = {{10, 6}, {-25, -12}, {30, -30}};
    private static final double[] FLUX = {1.0, 0.5, 0.25};

    @TempDir
    static Path dir;
    private static JavaCluster cluster;
    private static SyntheticDataset data;

    @BeforeAll
    static void writeDatasetAndStartCluster() throws Exception {
        SyntheticDataset.Builder b = SyntheticDataset.builder().layout(AntennaLayout.compactAlma(24, 3))
                .track(40, 60, 0).channels(8, 100e9, 15.625e6).flagFraction(0.02).flaggedAntenna(3)
                .chunking(15, 4, 2000);
        for (int k = 0; k < PIXELS.length; k++) {
            b.source(Source.point(FLUX[k], PIXELS[k][0] * CELL, PIXELS[k][1] * CELL));
        }
        data = b.build();
        try (ObjectStore store = ObjectStore.open(dir.resolve("synthetic").toString(), StoreOptions.defaults());
             BufferAllocator a = ArrowTable.newAllocator("test generator")) {
            data.write(store, a);
        }
        cluster = JavaCluster.start(2, 1, TaskRegistry.withBuiltins());
    }

    @AfterAll
    static void stopCluster() {
        cluster.close();
    }

    @AfterEach
    void noArrowMemoryLeft() {
        assertEquals(0, ArrowTable.allocatedBytes(), "Arrow memory still allocated after the test");
    }

    @ParameterizedTest
    @ValueSource(strings = {"natural", "uniform", "briggs"})
    void pointSourcesAtTheirPixelsWithTheirFlux(String weighting) throws Exception {
        ImageParams params = new ImageParams(NPIX, CELL, 1e-4, Precision.FLOAT32, weighting, 0.5, true);
        CubeJob.Cube cube;
        try (JavaClient client = cluster.client()) {
            cube = CubeJob.run(client, dir.resolve("synthetic").toString(), Map.of(), params, CubeJob.Progress.NONE);
        }

        assertEquals(8, cube.dirty().length);
        assertEquals(3 * 2, cube.chunks(), "3 time ranges x 2 channel blocks");
        int centre = NPIX / 2;
        for (int c = 0; c < 8; c++) {
            float[] psf = cube.psf()[c];
            assertEquals(1.0, psf[centre * NPIX + centre], 1e-4, "PSF peak, channel " + c);
            assertTrue(cube.gridded()[c] > 0 && cube.dropped()[c] == 0, "channel " + c);
            for (int k = 0; k < PIXELS.length; k++) {
                int i = centre + PIXELS[k][0];
                int j = centre + PIXELS[k][1];
                double expected = 0;
                for (int s = 0; s < PIXELS.length; s++) {
                    int pi = centre + PIXELS[k][0] - PIXELS[s][0];
                    int pj = centre + PIXELS[k][1] - PIXELS[s][1];
                    expected += FLUX[s] * psf[pj * NPIX + pi];
                }
                assertEquals(expected, cube.dirty()[c][j * NPIX + i], 1e-3,
                        weighting + ": source " + k + " at pixel (" + i + ", " + j + "), channel " + c);
            }
        }
        // the two brightest maxima are the two brightest sources (the third, 0.25 Jy, is as high as the
        // sidelobes of this short track with 24 antennas: its value is checked above)
        List<Peaks.Peak> peaks = Peaks.find(Peaks.mean(cube.dirty()), NPIX, CELL, 0.1, 2);
        for (int k = 0; k < 2; k++) {
            Peaks.Peak p = peaks.get(k);
            assertEquals(centre + PIXELS[k][0], p.i(), weighting + ": peak " + k + " " + peaks);
            assertEquals(centre + PIXELS[k][1], p.j(), weighting + ": peak " + k + " " + peaks);
        }
        if (weighting.equals("natural")) {
            assertEquals(FLUX[0], peaks.get(0).value(), 0.05 * FLUX[0], "the brightest source's flux");
        }
    }

    @Test
    void aMissingChunkFailsTheJobNamingTheObject() throws Exception {
        Path copy = dir.resolve("missing");
        Files.createDirectories(copy);
        try (var files = Files.list(dir.resolve("synthetic"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        String lost = data.info().chunks().get(4);
        Files.delete(copy.resolve(lost));
        ImageParams params = new ImageParams(64, CELL * 4, 1e-3, Precision.FLOAT32, "natural", 0, false);

        RuntimeException e;
        try (JavaClient client = cluster.client()) {
            e = assertThrows(RuntimeException.class,
                    () -> CubeJob.run(client, copy.toString(), Map.of(), params, CubeJob.Progress.NONE));
        }
        assertTrue(e.getMessage().contains(copy.resolve(lost).toString()), e.getMessage());
    }
}
