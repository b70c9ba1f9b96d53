package org.cloudviper.testkit;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CapturesTest {

    @Test
    void everyCaptureSplitsIntoItsFrames() {
        for (String generation : List.of(Captures.DASK_2022, Captures.DASK_2024_1, Captures.DASK_2024)) {
            List<String> names = Captures.names(generation);
            assertTrue(names.size() >= 25, generation + ": " + names);
            assertEquals(names.stream().sorted().toList(), names);
            for (String name : names) {
                byte[] raw = Captures.raw(generation, name);
                List<byte[]> frames = Captures.frames(generation, name);
                long payload = frames.stream().mapToLong(f -> f.length).sum();
                assertEquals(raw.length, 16 + 8L * frames.size() + payload, generation + "/" + name);
            }
        }
    }

    @Test
    void aHandshakeIsOneMsgpackMap() {
        List<byte[]> frames = Captures.frames(Captures.DASK_2022, "handshake.bin");
        assertEquals(1, frames.size());
        assertEquals((byte) 0x83, frames.get(0)[0], "fixmap of 3: compression, python, pickle-protocol");
    }

    @Test
    void anUnknownCaptureIsAClearError() {
        assertThrows(IllegalArgumentException.class, () -> Captures.raw(Captures.DASK_2022, "no-such.bin"));
    }
}
