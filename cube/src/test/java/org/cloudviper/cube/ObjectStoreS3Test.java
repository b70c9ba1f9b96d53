package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ObjectStoreS3Test {
    private static S3Server server;

    @BeforeAll
    static void start() throws Exception {
        server = S3Server.inMemory();
        server.createBucket("data");
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static StoreOptions small() {
        return StoreOptions.builder().endpoint(server.endpoint()).region("us-east-1")
                .staticCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY).pathStyle(true)
                .partSizeBytes(5 << 20).maxConcurrency(4).build();
    }

    @Test
    void smallObjectRoundTrip() throws Exception {
        try (ObjectStore store = ObjectStore.open("s3://data/small", server.options())) {
            store.put("a.txt", "hello".getBytes());
            assertArrayEquals("hello".getBytes(), store.readAll("a.txt", 100));
            assertEquals(5, store.size("a.txt"));
            assertEquals("s3://data/small/a.txt", store.uri("a.txt"));
        }
    }

    @Test
    void largeObjectGoesUpInPartsAndComesBackInOrder() throws Exception {
        byte[] data = new byte[13 << 20];
        new Random(7).nextBytes(data);
        try (ObjectStore store = ObjectStore.open("s3://data/large", small())) {
            try (OutputStream out = store.write("big.bin")) {
                for (int off = 0; off < data.length; off += 100_000) {
                    out.write(data, off, Math.min(100_000, data.length - off));
                }
            }
            assertEquals(data.length, store.size("big.bin"));
            byte[] back;
            try (InputStream in = store.read("big.bin")) {
                back = in.readAllBytes();
            }
            assertArrayEquals(data, back);
        }
    }

    @Test
    void missingObjectIsNamed() throws Exception {
        try (ObjectStore store = ObjectStore.open("s3://data/none", server.options())) {
            DatasetException e = assertThrows(DatasetException.class, () -> store.read("nothing.arrows"));
            assertEquals(DatasetException.Kind.NOT_FOUND, e.kind());
            assertTrue(e.getMessage().startsWith("s3://data/none/nothing.arrows: no such object"), e.getMessage());
        }
    }

    @Test
    void wrongSecretIsDenied() throws Exception {
        StoreOptions wrong = StoreOptions.builder().endpoint(server.endpoint()).region("us-east-1")
                .staticCredentials(S3Server.ACCESS_KEY, "not-the-secret").pathStyle(true).build();
        try (ObjectStore store = ObjectStore.open("s3://data/small", wrong)) {
            DatasetException e = assertThrows(DatasetException.class, () -> store.read("a.txt"));
            assertEquals(DatasetException.Kind.ACCESS_DENIED, e.kind(), e.getMessage());
            assertTrue(e.getMessage().startsWith("s3://data/small/a.txt: access denied"), e.getMessage());
        }
    }
}
