package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Random;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** Streaming, memory bounds, retries and uploads against s3proxy, seen through a TCP relay. */
class S3StreamingTest {
    private static final int MIB = 1 << 20;
    private static S3Server server;
    private static TcpRelay relay;
    private static byte[] big;

    @BeforeAll
    static void start() throws Exception {
        server = S3Server.inMemory();
        server.createBucket("stream");
        relay = new TcpRelay(server.endpoint());
        big = new byte[48 * MIB];
        new Random(11).nextBytes(big);
        try (ObjectStore store = ObjectStore.open("s3://stream/data", options(server.endpoint().toString()))) {
            try (OutputStream out = store.write("big.bin")) {
                out.write(big);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        relay.close();
        server.close();
    }

    private static StoreOptions options(String endpoint) {
        return StoreOptions.builder().endpoint(java.net.URI.create(endpoint)).region("us-east-1")
                .staticCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY).pathStyle(true)
                .partSizeBytes(5 * MIB).maxConcurrency(2).retryBaseDelay(Duration.ofMillis(20)).build();
    }

    @Test
    void aLargeUploadIsMultipartAndAFailedOneLeavesNothing() throws Exception {
        try (S3AsyncClient raw = S3AsyncClient.crtBuilder().endpointOverride(server.endpoint()).forcePathStyle(true)
                .region(Region.US_EAST_1).credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(S3Server.ACCESS_KEY, S3Server.SECRET_KEY))).build()) {
            String etag = raw.headObject(r -> r.bucket("stream").key("data/big.bin")).join().eTag();
            // S3's ETag of a multipart object: the MD5 of the parts' MD5s, a dash, the part count
            assertTrue(etag.replace("\"", "").endsWith("-10"), etag);
        }
        try (ObjectStore store = ObjectStore.open("s3://stream/data", options(server.endpoint().toString()))) {
            UploadStream out = store.write("dropped.bin");
            out.write(big, 0, 12 * MIB);
            out.abort();
            DatasetException e = assertThrows(DatasetException.class, () -> store.size("dropped.bin"));
            assertEquals(DatasetException.Kind.NOT_FOUND, e.kind());
        }
    }

    @Test
    void readsHoldNoMoreThanTheWindowAheadOfTheReader() throws Exception {
        try (ObjectStore store = ObjectStore.open("s3://stream/data", options(relay.endpoint().toString()))) {
            long before = relay.bytesToClient();
            try (InputStream in = store.read("big.bin")) {
                byte[] first = in.readNBytes(MIB);
                assertArrayEquals(java.util.Arrays.copyOf(big, MIB), first);
                Thread.sleep(1500);
                long fetched = relay.bytesToClient() - before;
                // read window (2 parts of 5 MiB) plus parts in flight, far below the 48 MiB object
                assertTrue(fetched < 26 * MIB, "fetched " + fetched + " bytes while the reader held at 1 MiB");
                System.out.println("fetched ahead of the reader: " + fetched + " bytes");
            }
        }
    }

    @Test
    void aTransferCutMidwayResumesAndDeliversTheSameBytes() throws Exception {
        try (ObjectStore store = ObjectStore.open("s3://stream/data", options(relay.endpoint().toString()))) {
            int cutsBefore = relay.cuts();
            relay.cutNext(3, 2 * MIB + 12345);
            byte[] back;
            try (InputStream in = store.read("big.bin")) {
                back = in.readAllBytes();
            }
            assertArrayEquals(big, back);
            assertTrue(relay.cuts() - cutsBefore >= 1, "no transfer was cut");
        }
    }

    @Test
    void anUnreachableServerFailsAfterTheRetriesNamingTheObject() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        StoreOptions options = StoreOptions.builder().endpoint(java.net.URI.create("http://127.0.0.1:" + port))
                .region("us-east-1").staticCredentials("k", "s").pathStyle(true).maxAttempts(2)
                .retryBaseDelay(Duration.ofMillis(10)).build();
        try (ObjectStore store = ObjectStore.open("s3://stream/data", options)) {
            DatasetException e = assertThrows(DatasetException.class, () -> store.read("big.bin"));
            assertEquals(DatasetException.Kind.IO, e.kind(), e.getMessage());
            assertTrue(e.getMessage().startsWith("s3://stream/data/big.bin: cannot open"), e.getMessage());
        }
    }

    @Test
    void aDatasetReadsThroughBrokenTransfers() throws Exception {
        SyntheticDataset synth = SyntheticDataset.builder().track(40, 30, 0).channels(16, 100e9, 1e7)
                .source(Source.point(1, 0, 0)).chunking(40, 16, 4096).build();
        try (BufferAllocator root = new RootAllocator(256 * MIB)) {
            try (ObjectStore store = ObjectStore.open("s3://stream/ds", options(server.endpoint().toString()))) {
                synth.write(store, root);
            }
            int cutsBefore = relay.cuts();
            relay.cutNext(2, 3 * MIB);
            try (Dataset ds = Dataset.open("s3://stream/ds", options(relay.endpoint().toString()));
                    ChunkReader chunk = ds.chunk("t000_c0000.arrows", root)) {
                StokesIBlock b = new StokesIBlock();
                long rows = 0;
                while (chunk.next()) {
                    chunk.stokesI(b);
                    rows += b.rows();
                    assertEquals(1f, b.vis()[2 * (b.rows() - 1) * b.nchan()], 1e-6f);
                }
                assertEquals(synth.rows(), rows);
            }
            assertTrue(relay.cuts() - cutsBefore >= 1, "no transfer was cut");
            assertEquals(0, root.getAllocatedMemory());
        }
    }
}
