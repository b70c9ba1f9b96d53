package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Chunks written by pyarrow (src/test/python/write_chunks.py), uploaded to a real S3 server on
 * 127.0.0.1 and read back by the Java reader; broken ones give errors naming the object, and no
 * Arrow memory is held after any of them.
 */
class PyarrowChunksTest {
    private static final String BUCKET = "vis";
    private static Path written;
    private static S3Server server;

    @BeforeAll
    static void start() throws Exception {
        server = S3Server.inMemory();
        server.createBucket(BUCKET);
    }

    /**
     * The chunks write_chunks.py writes, in a folder and uploaded under {@code pyarrow/}; written once,
     * for the first test that needs them (the others run without Python).
     */
    private static synchronized Path pyarrowChunks() throws Exception {
        PyarrowPython.require();
        if (written == null) {
            Path dir = Files.createTempDirectory("pyarrow-chunks");
            PyarrowPython.run("write_chunks.py", dir.toString());
            try (ObjectStore s3 = ObjectStore.open("s3://" + BUCKET + "/pyarrow", server.options());
                    Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    s3.put(dir.relativize(f).toString(), Files.readAllBytes(f));
                }
            }
            written = dir;
        }
        return written;
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void javaReadsPyarrowChunksFromS3() throws Exception {
        pyarrowChunks();
        readsEverything("s3://" + BUCKET + "/pyarrow", server.options());
    }

    @Test
    void javaReadsPyarrowChunksFromAFolder() throws Exception {
        readsEverything(pyarrowChunks().toString(), StoreOptions.defaults());
    }

    private static void readsEverything(String location, StoreOptions options) throws Exception {
        try (BufferAllocator root = new RootAllocator(64 << 20); Dataset ds = Dataset.open(location, options)) {
            DatasetInfo info = ds.info();
            assertEquals(8, info.nchan());
            assertEquals(List.of("XX", "YY"), info.pols());
            assertEquals(100.001e9, info.freqHz(1));
            assertEquals(4, info.chunks().size());
            int[] expectedRows = {50, 50, 30, 30};
            int[] expectedBatches = {3, 3, 1, 5};
            StokesIBlock block = new StokesIBlock();
            for (int k = 0; k < info.chunks().size(); k++) {
                String name = info.chunks().get(k);
                try (ChunkReader chunk = ds.chunk(name, root)) {
                    assertEquals(name.endsWith("c0004.arrows") ? 4 : 0, chunk.chanStart());
                    int r0 = 0;
                    while (chunk.next()) {
                        chunk.stokesI(block);
                        checkBlock(block, r0, chunk.chanStart());
                        r0 += block.rows();
                    }
                    assertEquals(expectedRows[k], r0, name);
                    assertEquals(expectedBatches[k], chunk.batches(), name);
                    assertTrue(root.getAllocatedMemory() > 0 || chunk.rows() > 0);
                }
                assertEquals(0, root.getAllocatedMemory(), "Arrow memory held after " + name);
            }
        }
    }

    /** Recomputes write_chunks.py's formulas and the Stokes I rule. */
    private static void checkBlock(StokesIBlock b, int r0, int chanStart) {
        assertEquals(4, b.nchan());
        assertEquals(chanStart, b.chanStart());
        assertEquals(100e9 + 1e6 * chanStart, b.freqHz(0));
        for (int i = 0; i < b.rows(); i++) {
            int r = r0 + i;
            assertEquals(10.0 + r, b.u()[i]);
            assertEquals(-5.0 + r / 2.0, b.v()[i]);
            assertEquals(r / 4.0, b.w()[i]);
            for (int j = 0; j < b.nchan(); j++) {
                int c = chanStart + j;
                float[] re = new float[2];
                float[] im = new float[2];
                float[] wt = new float[2];
                boolean[] ok = new boolean[2];
                for (int p = 0; p < 2; p++) {
                    re[p] = (float) (r + c / 2.0 + p / 4.0);
                    im[p] = (float) (p - r / 8.0);
                    wt[p] = 1 + p + r % 3;
                    ok[p] = (r + 3 * c + p) % 5 != 0;
                }
                int s = i * b.nchan() + j;
                float eRe;
                float eIm;
                float eW;
                if (ok[0] && ok[1]) {
                    eRe = 0.5f * (re[0] + re[1]);
                    eIm = 0.5f * (im[0] + im[1]);
                    eW = wt[0] + wt[1];
                } else if (ok[0] || ok[1]) {
                    int p = ok[0] ? 0 : 1;
                    eRe = re[p];
                    eIm = im[p];
                    eW = wt[p];
                } else {
                    eRe = 0;
                    eIm = 0;
                    eW = 0;
                }
                String at = "row " + r + " chan " + c;
                assertEquals(eRe, b.vis()[2 * s], at);
                assertEquals(eIm, b.vis()[2 * s + 1], at);
                assertEquals(eW, b.weight()[s], at);
            }
        }
    }

    static Stream<Arguments> brokenChunks() {
        return Stream.of(
                Arguments.of("bad/truncated.arrows", DatasetException.Kind.TRUNCATED, "the object ends inside a message"),
                Arguments.of("bad/no_eos.arrows", DatasetException.Kind.TRUNCATED, "without the end-of-stream marker"),
                Arguments.of("bad/vis_list.arrows", DatasetException.Kind.FORMAT,
                        "column vis is list<float> (expected: fixed_size_list<float>[16]"),
                Arguments.of("bad/u_float32.arrows", DatasetException.Kind.FORMAT, "column u is float (expected: double)"),
                Arguments.of("bad/no_metadata.arrows", DatasetException.Kind.FORMAT, "no schema metadata cloudviper.freq_hz"),
                Arguments.of("bad/file_format.arrows", DatasetException.Kind.FORMAT,
                        "this is an Arrow IPC file; chunks are IPC streams"),
                Arguments.of("t009_c0000.arrows", DatasetException.Kind.NOT_FOUND, "no such"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("brokenChunks")
    void brokenChunksFromS3AreNamedAndLeaveNoMemory(String key, DatasetException.Kind kind, String message)
            throws Exception {
        pyarrowChunks();
        checkBroken("s3://" + BUCKET + "/pyarrow", server.options(), "s3://" + BUCKET + "/pyarrow/" + key, key, kind,
                message);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("brokenChunks")
    void brokenChunksFromAFolderAreNamedAndLeaveNoMemory(String key, DatasetException.Kind kind, String message)
            throws Exception {
        Path folder = pyarrowChunks();
        checkBroken(folder.toString(), StoreOptions.defaults(), folder.resolve(key).toString(), key, kind, message);
    }

    private static void checkBroken(String location, StoreOptions options, String object, String key,
            DatasetException.Kind kind, String message) throws Exception {
        try (BufferAllocator root = new RootAllocator(64 << 20); Dataset ds = Dataset.open(location, options)) {
            DatasetException e = assertThrows(DatasetException.class, () -> readAll(ds, key, root));
            assertEquals(kind, e.kind(), e.getMessage());
            assertEquals(object, e.object());
            assertTrue(e.getMessage().startsWith(object + ": "), e.getMessage());
            assertTrue(e.getMessage().contains(message), e.getMessage());
            assertEquals(0, root.getAllocatedMemory(), "Arrow memory held after " + key);
        }
    }

    @Test
    void deniedAccessIsNamed() throws Exception {
        StoreOptions wrong = StoreOptions.builder().endpoint(server.endpoint()).region("us-east-1")
                .staticCredentials(S3Server.ACCESS_KEY, "wrong-secret").pathStyle(true).build();
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open("s3://" + BUCKET + "/pyarrow", wrong));
        assertEquals(DatasetException.Kind.ACCESS_DENIED, e.kind(), e.getMessage());
        assertTrue(e.getMessage().startsWith("s3://" + BUCKET + "/pyarrow/_dataset.json: access denied"), e.getMessage());
        try (BufferAllocator root = new RootAllocator(64 << 20); ObjectStore store = ObjectStore.open("s3://" + BUCKET
                + "/pyarrow", wrong)) {
            DatasetException c = assertThrows(DatasetException.class,
                    () -> ChunkReader.open(store, "t000_c0000.arrows", null, root));
            assertEquals(DatasetException.Kind.ACCESS_DENIED, c.kind(), c.getMessage());
            assertEquals(0, root.getAllocatedMemory());
        }
    }

    @Test
    void missingDatasetIsNamed() throws Exception {
        DatasetException e = assertThrows(DatasetException.class, () -> Dataset.open("s3://" + BUCKET + "/nowhere",
                server.options()));
        assertEquals(DatasetException.Kind.NOT_FOUND, e.kind());
        assertTrue(e.getMessage().startsWith("s3://" + BUCKET + "/nowhere/_dataset.json: no such object (HTTP 404"),
                e.getMessage());
        DatasetException b = assertThrows(DatasetException.class, () -> Dataset.open("s3://no-bucket/x", server.options()));
        assertEquals(DatasetException.Kind.NOT_FOUND, b.kind(), b.getMessage());
        assertEquals("s3://no-bucket/x/_dataset.json: no such bucket no-bucket", b.getMessage());
    }

    private static void readAll(Dataset ds, String key, BufferAllocator root) throws IOException {
        // ChunkReader.open without the description: broken chunks are not in its list
        try (ChunkReader chunk = ChunkReader.open(ds.store(), key, ds.info(), root)) {
            StokesIBlock block = new StokesIBlock();
            while (chunk.next()) {
                chunk.stokesI(block);
            }
        }
    }
}
