package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chunk's channels from the first bytes of its object (what a plan reads of every chunk), in a
 * folder and through a real S3 server: the same answers and the same errors as opening the chunk;
 * and Stokes I of several record batches gathered into one block.
 */
class ChunkSchemaReadsTest {
    private static S3Server server;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        server = S3Server.inMemory();
        server.createBucket("heads");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static SyntheticDataset sixChunks() {
        return SyntheticDataset.builder().track(30, 60, 0).channels(12, 100e9, 1e7).source(Source.point(1, 0, 0))
                .chunking(10, 6, 500).build();
    }

    @Test
    void channelsOfEveryChunkAsOpeningThemSays() throws Exception {
        SyntheticDataset synth = sixChunks();
        for (String location : List.of(dir.toString(), "s3://heads/six")) {
            try (BufferAllocator root = new RootAllocator(); ObjectStore store = open(location)) {
                synth.write(store, root);
                try (Dataset ds = Dataset.open(store)) {
                    List<String> keys = ds.info().chunks();
                    List<ChunkReader.ChannelRange> ranges = ds.channels(keys);
                    assertEquals(6, ranges.size());
                    for (int i = 0; i < keys.size(); i++) {
                        try (ChunkReader r = ds.chunk(keys.get(i), root)) {
                            assertEquals(new ChunkReader.ChannelRange(store.uri(keys.get(i)), r.chanStart(), r.nchan()),
                                    ranges.get(i), location);
                        }
                    }
                }
                assertEquals(0, root.getAllocatedMemory());
            }
        }
    }

    @Test
    void aSchemaLongerThanOneHeadTakesASecondRead() throws Exception {
        int nchan = 6000; // the frequencies alone make about 110 KB of schema metadata
        double[] freq = new double[nchan];
        for (int c = 0; c < nchan; c++) {
            freq[c] = 100e9 + c * 123456.789;
        }
        DatasetInfo info = new DatasetInfo(nchan, List.of("XX", "YY"), freq, new double[] {1, -0.5}, List.of());
        for (String location : List.of(dir.toString(), "s3://heads/wide")) {
            try (BufferAllocator root = new RootAllocator(); ObjectStore store = open(location)) {
                DatasetWriter w = DatasetWriter.create(store, info, Compression.NONE, root);
                try (ChunkWriter c = w.chunk(0, 0, nchan)) {
                    c.write(1, new double[1], new double[1], new double[1], new float[nchan * 4], new float[2],
                            new boolean[nchan * 2]);
                }
                DatasetInfo written = w.finish();
                assertTrue(store.size(written.chunks().get(0)) > 2 * ChunkReader.SCHEMA_HEAD_BYTES);
                try (Dataset ds = Dataset.open(store)) {
                    assertEquals(List.of(new ChunkReader.ChannelRange(store.uri(written.chunks().get(0)), 0, nchan)),
                            ds.channels(written.chunks()));
                }
            }
        }
    }

    @Test
    void brokenChunksFailAsOpeningThemDoes() throws Exception {
        SyntheticDataset synth = sixChunks();
        for (String location : List.of(dir.toString(), "s3://heads/broken")) {
            try (BufferAllocator root = new RootAllocator(); ObjectStore store = open(location)) {
                synth.write(store, root);
                String chunk = synth.info().chunks().get(0);
                byte[] whole = store.readAll(chunk, 64 << 20);
                store.put("cut.arrows", Arrays.copyOf(whole, 100)); // inside the schema message
                store.put("empty.arrows", new byte[0]);
                store.put("text.arrows", "u,v,w\n1,2,3\n".getBytes());
                try (Dataset ds = Dataset.open(store)) {
                    for (String key : List.of("cut.arrows", "empty.arrows", "text.arrows", "missing.arrows")) {
                        DatasetException open = assertThrows(DatasetException.class, () -> ds.chunk(key, root).close());
                        DatasetException head = assertThrows(DatasetException.class,
                                () -> ChunkReader.channels(store, key, ds.info()));
                        assertEquals(open.kind(), head.kind(), location + " " + key + ": " + head.getMessage());
                        assertTrue(head.getMessage().startsWith(store.uri(key) + ": "), head.getMessage());
                    }
                    assertEquals(store.uri("empty.arrows") + ": the object ends after 0 bytes, before its schema",
                            assertThrows(DatasetException.class,
                                    () -> ChunkReader.channels(store, "empty.arrows", null)).getMessage());
                    // the first failure in the order asked, whichever read ended first
                    List<String> keys = new ArrayList<>(synth.info().chunks());
                    keys.add(3, "text.arrows");
                    keys.add("missing.arrows");
                    DatasetException first = assertThrows(DatasetException.class, () -> ds.channels(keys));
                    assertEquals(DatasetException.Kind.FORMAT, first.kind(), first.getMessage());
                    assertTrue(first.getMessage().startsWith(store.uri("text.arrows")), first.getMessage());
                }
                assertEquals(0, root.getAllocatedMemory());
            }
        }
    }

    @Test
    void batchesAppendedIntoOneBlockAreTheBatchesOneAfterTheOther() throws Exception {
        SyntheticDataset synth = SyntheticDataset.builder().track(10, 60, 0).channels(5, 100e9, 1e7)
                .source(Source.point(1, 0, 0)).flagFraction(0.1).chunking(10, 5, 300).build();
        try (BufferAllocator root = new RootAllocator(); ObjectStore store = open(dir.toString())) {
            synth.write(store, root);
            String key = synth.info().chunks().get(0);
            List<StokesIBlock> one = new ArrayList<>();
            StokesIBlock all = new StokesIBlock();
            try (Dataset ds = Dataset.open(store)) {
                try (ChunkReader r = ds.chunk(key, root)) {
                    while (r.next()) {
                        one.add(r.stokesI(new StokesIBlock()));
                    }
                }
                try (ChunkReader r = ds.chunk(key, root)) {
                    all.clear();
                    while (r.next()) {
                        r.appendStokesI(all);
                    }
                }
            }
            assertTrue(one.size() > 2, one.size() + " batches");
            int at = 0;
            long dropped = 0;
            for (StokesIBlock b : one) {
                int n = b.rows();
                assertArrayEquals(Arrays.copyOf(b.u(), n), Arrays.copyOfRange(all.u(), at, at + n));
                assertArrayEquals(Arrays.copyOf(b.w(), n), Arrays.copyOfRange(all.w(), at, at + n));
                assertArrayEquals(Arrays.copyOf(b.vis(), 2 * n * 5), Arrays.copyOfRange(all.vis(), 2 * at * 5,
                        2 * (at + n) * 5));
                assertArrayEquals(Arrays.copyOf(b.weight(), n * 5), Arrays.copyOfRange(all.weight(), at * 5,
                        (at + n) * 5));
                at += n;
                dropped += b.dropped();
            }
            assertEquals(synth.rows(), all.rows());
            assertEquals(at, all.rows());
            assertEquals(dropped, all.dropped());
            assertTrue(dropped > 0);
        }
    }

    private static ObjectStore open(String location) throws DatasetException {
        return ObjectStore.open(location, location.startsWith("s3://") ? server.options() : StoreOptions.defaults());
    }
}
