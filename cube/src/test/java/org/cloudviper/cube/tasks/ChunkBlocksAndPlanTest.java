package org.cloudviper.cube.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.cloudviper.cube.Dataset;
import org.cloudviper.cube.DatasetInfo;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.StoreOptions;
import org.cloudviper.cube.WithProperty;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.cloudviper.imaging.VisBlock;
import org.cloudviper.worker.tasks.ArrowTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chunk's record batches gathered into blocks of at least {@code blockSamples} samples; the
 * description a plan carries, read back as the description.
 */
class ChunkBlocksAndPlanTest {
    @TempDir
    Path dir;

    @Test
    void batchesAreGatheredUpToTheBound() throws Exception {
        // 190 baselines x 10 times in batches of 300 rows of 5 channels: 1,500 samples a batch
        SyntheticDataset synth = SyntheticDataset.builder().track(10, 60, 0).channels(5, 100e9, 1e7)
                .source(Source.point(1, 0, 0)).chunking(10, 5, 300).build();
        try (BufferAllocator root = new RootAllocator(); ObjectStore store = ObjectStore.open(dir.toString(),
                StoreOptions.defaults())) {
            synth.write(store, root);
        }
        int batches = (int) ((synth.rows() + 299) / 300);
        assertTrue(batches >= 5, batches + " batches");
        assertEquals(List.of(synth.rows()), blockRows(null), "the whole chunk in one block");
        List<Long> pairs = blockRows("2000");
        assertEquals((batches + 1) / 2, pairs.size(), "two batches a block: " + pairs);
        for (int i = 0; i < pairs.size() - 1; i++) {
            assertEquals(600L, pairs.get(i));
        }
        assertEquals(synth.rows(), pairs.stream().mapToLong(Long::longValue).sum());
        assertEquals(batches, blockRows("1").size(), "one batch a block");
        assertEquals(0, ArrowTable.allocatedBytes());
    }

    private List<Long> blockRows(String blockSamples) throws Exception {
        return WithProperty.call(ChunkBlocks.BLOCK_SAMPLES, blockSamples, () -> {
            try (Dataset ds = Dataset.open(dir.toString(), StoreOptions.defaults());
                 ChunkBlocks blocks = ChunkBlocks.open(ds, ds.info().chunks().get(0))) {
                List<Long> rows = new ArrayList<>();
                for (VisBlock b = blocks.next(); b != null; b = blocks.next()) {
                    rows.add((long) b.nrow());
                }
                return rows;
            }
        });
    }

    @Test
    void thePlanCarriesTheDescription() {
        DatasetInfo info = new DatasetInfo(6, List.of("XX", "YY"), new double[] {1e11, 1.1e11, 1.2e11, 1.3e11, 1.4e11,
                1.5e11}, new double[] {0.5, -0.7}, List.of("t000_c0000.arrows", "t000_c0003.arrows", "t001_c0000.arrows"));
        TreeMap<Integer, CubePlan.Block> blocks = new TreeMap<>();
        CubePlan.add(blocks, "t000_c0000.arrows", 0, 3, "a");
        CubePlan.add(blocks, "t000_c0003.arrows", 3, 3, "b");
        CubePlan.add(blocks, "t001_c0000.arrows", 0, 3, "c");
        Map<String, Object> plan = CubePlan.toMap(info, blocks);

        DatasetInfo back = CubePlan.info(plan, "grid");
        assertEquals(info.withChunks(List.of("t000_c0000.arrows", "t001_c0000.arrows", "t000_c0003.arrows")), back);
        assertEquals("grid: plan is String x (expected: the dict of cloudviper.imaging.plan)",
                assertThrows(IllegalArgumentException.class, () -> CubePlan.info("x", "grid")).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CubePlan.info(Map.of("nchan", 6L), "grid"))
                .getMessage().startsWith("grid: plan is not the dict of cloudviper.imaging.plan"));
    }
}
