package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reader's memory is its allocator's, bounded by the caller's limit and all released on every
 * path; objects that are no chunk at all.
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
        try (BufferAllocator root = new RootAllocator(8 << 20); Dataset ds = Dataset.open(dir.toString(),
                StoreOptions.defaults())) {
            long peak = 0;
            try (ChunkReader chunk = ds.chunk("t000_c0000.arrows", root)) {
                while (chunk.next()) {
                    peak = Math.max(peak, root.getAllocatedMemory());
                }
                assertEquals(synth.rows(), chunk.rows());
            }
            assertTrue(peak > 1 << 20 && peak < 4 << 20, "one batch at a time: peak " + peak);
            assertEquals(0, root.getAllocatedMemory());
        }
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
