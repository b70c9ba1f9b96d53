package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader's memory is its allocator's, bounded by the caller's limit and all released on every
 * path; batches read ahead are those of the reading thread; objects that are no chunk at all.
 */
class ChunkReaderTest {
    @TempDir
    Path dir;

    @Test
    void aBatchOverTheLimitFailsClearlyAndLeavesNothingHeld() throws Exception {
        SyntheticDataset synth = SyntheticDataset.builder().track(10, 60, 0).channels(16, 100e9, 1e7)
                .source(Source.point(1, 0, 0)).chunking(10, 16, 4096).build();
        try (BufferAllocator writing = new RootAllocator(); ObjectStore store = ObjectStore.open(dir.toString(),
                StoreOptions.defaults())) {
            synth.write(store, writing);
        }
        // a batch of 4,096 rows holds 1 MiB of vis alone
        try (BufferAllocator root = new RootAllocator(256 << 10); Dataset ds = Dataset.open(dir.toString(),
                StoreOptions.defaults())) {
            try (ChunkReader chunk = ds.chunk("t000_c0000.arrows", root)) {
                DatasetException e = assertThrows(DatasetException.class, chunk::next);
                assertEquals(DatasetException.Kind.IO, e.kind());
                assertTrue(e.getMessage().contains("batch 0 does not fit in the 262144-byte allocator limit"),
                        e.getMessage());
            }
            assertEquals(0, root.getAllocatedMemory());
        }
        // a batch's body is one buffer of 2 MiB (1.2 MB rounded up); read ahead, at most 2 wait decoded,
        // 1 is being read and the caller holds 1
        assertEquals(1, peakBatches(synth, 0), "one batch at a time on the reading thread");
        assertTrue(peakBatches(synth, 2) <= 4, "at most 4 batches held with 2 read ahead");
    }

    /** The most Arrow memory held while every batch of the chunk is read, in 2 MiB batches. */
    private long peakBatches(SyntheticDataset synth, int readAhead) throws Exception {
        return WithProperty.call(ChunkReader.READ_AHEAD, Integer.toString(readAhead), () -> {
            try (BufferAllocator root = new RootAllocator(16 << 20); Dataset ds = Dataset.open(dir.toString(),
                    StoreOptions.defaults())) {
                long peak = 0;
                try (ChunkReader chunk = ds.chunk("t000_c0000.arrows", root)) {
                    while (chunk.next()) {
                        peak = Math.max(peak, root.getAllocatedMemory());
                    }
                    assertEquals(synth.rows(), chunk.rows());
                }
                assertEquals(0, root.getAllocatedMemory());
                assertTrue(peak > 1 << 20, "peak " + peak);
                return (peak + (2 << 20) - 1) / (2 << 20);
            }
        });
    }

    @Test
    void readAheadGivesTheBatchesOfTheReadingThreadInOrder() throws Exception {
        for (Compression c : new Compression[] {Compression.ZSTD, Compression.LZ4_FRAME, Compression.NONE}) {
            SyntheticDataset synth = SyntheticDataset.builder().track(20, 60, 0).channels(8, 100e9, 1e7)
                    .source(Source.point(1, 1e-5, 0)).noiseJy(0.1).flagFraction(0.05).chunking(20, 8, 700)
                    .compression(c).build();
            Path where = dir.resolve(c.name());
            try (BufferAllocator root = new RootAllocator(); ObjectStore store = ObjectStore.open(where.toString(),
                    StoreOptions.defaults())) {
                synth.write(store, root);
            }
            StokesIBlock inline = stokesI(where, 0);
            StokesIBlock ahead = stokesI(where, 3);
            assertTrue(inline.rows() > 10 * 700, c + ": " + inline.rows() + " rows");
            assertEquals(inline.rows(), ahead.rows(), c.name());
            int n = inline.rows() * inline.nchan();
            assertArrayEquals(Arrays.copyOf(inline.u(), inline.rows()), Arrays.copyOf(ahead.u(), ahead.rows()));
            assertArrayEquals(Arrays.copyOf(inline.vis(), 2 * n), Arrays.copyOf(ahead.vis(), 2 * n), c.name());
            assertArrayEquals(Arrays.copyOf(inline.weight(), n), Arrays.copyOf(ahead.weight(), n), c.name());
            assertEquals(inline.dropped(), ahead.dropped());
        }
    }

    /** Stokes I of every batch of the first chunk at {@code where}, read with {@code readAhead}. */
    private static StokesIBlock stokesI(Path where, int readAhead) throws Exception {
        return WithProperty.call(ChunkReader.READ_AHEAD, Integer.toString(readAhead), () -> {
            StokesIBlock block = new StokesIBlock();
            try (BufferAllocator root = new RootAllocator(64 << 20); Dataset ds = Dataset.open(where.toString(),
                    StoreOptions.defaults())) {
                try (ChunkReader chunk = ds.chunk(ds.info().chunks().get(0), root)) {
                    while (chunk.next()) {
                        chunk.appendStokesI(block);
                    }
                }
                assertEquals(0, root.getAllocatedMemory());
            }
            return block;
        });
    }

    @Test
    void emptyAndForeignObjectsAreNamed() throws Exception {
        try (BufferAllocator root = new RootAllocator(); ObjectStore store = ObjectStore.open(dir.toString(),
                StoreOptions.defaults())) {
            store.put("empty.arrows", new byte[0]);
            store.put("text.arrows", "u,v,w\n1,2,3\n".getBytes());
            DatasetException empty = assertThrows(DatasetException.class,
                    () -> ChunkReader.open(store, "empty.arrows", null, root));
            assertEquals(DatasetException.Kind.TRUNCATED, empty.kind());
            assertEquals(store.uri("empty.arrows") + ": the object ends after 0 bytes, before its schema",
                    empty.getMessage());
            DatasetException text = assertThrows(DatasetException.class,
                    () -> ChunkReader.open(store, "text.arrows", null, root));
            assertEquals(DatasetException.Kind.FORMAT, text.kind());
            assertTrue(text.getMessage().contains("not an Arrow IPC stream: it starts with 752c762c770a312c"),
                    text.getMessage());
            assertEquals(0, root.getAllocatedMemory());
        }
    }

    @Test
    void closingEarlyReleasesTheBatchAndStopsTheStream() throws Exception {
        SyntheticDataset synth = SyntheticDataset.builder().track(20, 60, 0).channels(8, 100e9, 1e7)
                .chunking(20, 8, 1000).build();
        try (BufferAllocator root = new RootAllocator(); ObjectStore store = ObjectStore.open(dir.toString(),
                StoreOptions.defaults())) {
            synth.write(store, root);
            try (Dataset ds = Dataset.open(store); ChunkReader chunk = ds.chunk("t000_c0000.arrows", root)) {
                assertTrue(chunk.next());
                assertTrue(root.getAllocatedMemory() > 0);
            }
            assertEquals(0, root.getAllocatedMemory());
        }
    }
}
