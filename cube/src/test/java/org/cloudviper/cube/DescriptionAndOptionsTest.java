package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DescriptionAndOptionsTest {

    @Test
    void descriptionRoundTrips() throws Exception {
        DatasetInfo info = new DatasetInfo(3, List.of("XX", "YY"), new double[] {1e9, 1.1e9, 1.2e9},
                new double[] {0.5, -0.25}, List.of("t000_c0000.arrows"));
        assertEquals(info, DatasetInfo.fromJson(info.toJson(), "x"));
        String json = new String(info.toJson(), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"npol\" : 2"), json);
    }

    @Test
    void polsMayBeACommaSeparatedString() throws Exception {
        DatasetInfo info = DatasetInfo.fromJson(("{\"nchan\": 1, \"pols\": \"XX, YY\", \"freq_hz\": [1e9],"
                + " \"phase_centre_rad\": [0, 0], \"chunks\": [], \"comment\": \"ignored\"}").getBytes(), "x");
        assertEquals(List.of("XX", "YY"), info.pols());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"pols\": [\"XX\",\"YY\"], \"freq_hz\": [1e9], \"phase_centre_rad\": [0,0], \"chunks\": []} | no \"nchan\"",
        "{\"nchan\": 2, \"pols\": [\"XX\",\"YY\"], \"freq_hz\": [1e9], \"phase_centre_rad\": [0,0], \"chunks\": []} | nchan 2 with 1 frequencies",
        "{\"nchan\": 1, \"npol\": 4, \"pols\": [\"XX\",\"YY\"], \"freq_hz\": [1e9], \"phase_centre_rad\": [0,0], \"chunks\": []} | npol 4 but 2 pols",
        "{\"nchan\": 1, \"pols\": [\"XX\",\"YY\"], \"freq_hz\": [\"a\"], \"phase_centre_rad\": [0,0], \"chunks\": []} | freq_hz[0]: \"a\" (expected: a number)",
        "{\"nchan\": 1, \"pols\": [\"XX\",\"YY\"], \"freq_hz\": [1e9], \"phase_centre_rad\": [0], \"chunks\": []} | phase_centre_rad: 1 values",
        "{\"nchan\": 1, \"pols\": [\"XX\",\"YY\"], \"freq_hz\": [1e9], \"phase_centre_rad\": [0,0], \"chunks\": [3]} | chunks: 3",
        "[1, 2] | not a JSON object",
        "{nchan | not JSON",
    })
    void badDescriptionsAreNamed(String json, String message) {
        DatasetException e = assertThrows(DatasetException.class,
                () -> DatasetInfo.fromJson(json.getBytes(StandardCharsets.UTF_8), "s3://b/p/_dataset.json"));
        assertEquals(DatasetException.Kind.FORMAT, e.kind());
        assertTrue(e.getMessage().startsWith("s3://b/p/_dataset.json: "), e.getMessage());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void storageOptionsAsPythonUsersPassThem() {
        StoreOptions o = StoreOptions.fromStorageOptions(Map.of("endpoint_url", "http://127.0.0.1:9000", "key", "k",
                "secret", "s", "region", "eu-west-1", "max_concurrency", 4));
        assertEquals(URI.create("http://127.0.0.1:9000"), o.endpoint());
        assertEquals("k", o.accessKey());
        assertEquals("s", o.secretKey());
        assertEquals("eu-west-1", o.region());
        assertTrue(o.pathStyle(), "an endpoint means an S3-compatible server: path-style");
        assertEquals(4, o.maxConcurrency());
        assertEquals(8L << 20, o.partSizeBytes());
        assertEquals(4 * (8L << 20), o.readWindowBytes());
        assertFalse(o.toString().contains("=s,") || o.toString().contains(" s]"), o.toString());
        assertFalse(StoreOptions.fromStorageOptions(Map.of("anon", true)).pathStyle());
        assertTrue(StoreOptions.fromStorageOptions(Map.of("anon", "true")).anonymous());
        assertEquals(16L << 20, StoreOptions.fromStorageOptions(Map.of("part_size", "16777216")).partSizeBytes());
    }

    @Test
    void unknownStorageOptionsAndBadSizesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StoreOptions.fromStorageOptions(Map.of("endpoint", "http://x")));
        assertTrue(e.getMessage().startsWith("storage option endpoint: unknown"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StoreOptions.builder().partSizeBytes(1 << 20).build());
        assertThrows(IllegalArgumentException.class, () -> StoreOptions.fromStorageOptions(Map.of("key", "k")));
        assertThrows(IllegalArgumentException.class, () -> StoreOptions.fromStorageOptions(Map.of("part_size", "big")));
    }

    @Test
    void unsupportedLocationsAreRefused() {
        DatasetException e = assertThrows(DatasetException.class, () -> ObjectStore.open("gs://b/p", StoreOptions.defaults()));
        assertEquals("gs://b/p: unsupported location (expected: s3://bucket/prefix or a local folder)", e.getMessage());
    }
}
