package org.cloudviper.scheduler.state;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The examples of Dask's key_split docstring (dask/utils.py), one by one. */
class KeyPrefixTest {

    @Test
    void daskDocstringExamples() {
        assertEquals("x", KeyPrefix.of("x"));
        assertEquals("x", KeyPrefix.of("x-1"));
        assertEquals("x", KeyPrefix.of("x-1-2-3"));
        assertEquals("x", KeyPrefix.of(List.of("x-2", 1L)));
        assertEquals("x", KeyPrefix.of("('x-2', 1)"));
        assertEquals("x", KeyPrefix.of("('x', 1)"));
        assertEquals("hello-world", KeyPrefix.of("hello-world-1"));
        assertEquals("hello-world", KeyPrefix.of("hello-world-1".getBytes(StandardCharsets.UTF_8)));
        assertEquals("data", KeyPrefix.of("ae05086432ca935f6eba409a8ecd4896"));
        assertEquals("myclass", KeyPrefix.of("<module.submodule.myclass object at 0xdaf372"));
        assertEquals("Other", KeyPrefix.of(null));
        assertEquals("x", KeyPrefix.of("x-abcdefab"));
        assertEquals("x", KeyPrefix.of("_(x)"));
    }

    @Test
    void daskKeysAsClientsMakeThem() {
        assertEquals("inc", KeyPrefix.of("inc-5a8b1e2f9c0d4e6f8a7b6c5d4e3f2a1b"));
        assertEquals("lambda", KeyPrefix.of("lambda-0f3c51b4e7bd8e2a9a0e4a3d8c1f6b72"));
        assertEquals("random_sample", KeyPrefix.of(List.of("random_sample-8c1e5d3b7a2f4e6c9b0a1d2e3f4a5b6c", 0L, 1L)));
        assertEquals("Other", KeyPrefix.of(""));
    }
}
