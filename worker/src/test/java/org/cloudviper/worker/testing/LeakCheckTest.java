package org.cloudviper.worker.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LeakCheck} sees a buffer dropped without release, and nothing when buffers are released. */
class LeakCheckTest {
    @Test
    void reportsAnUnreleasedBufferAndNothingElse() throws Exception {
        LeakCheck.drain();
        Unpooled.directBuffer(64).writeLong(1).release();
        assertEquals(List.of(), LeakCheck.drain());

        leak();
        List<String> leaks = List.of();
        for (int i = 0; i < 20 && leaks.isEmpty(); i++) {
            leaks = LeakCheck.drain();
        }
        assertFalse(leaks.isEmpty(), "the dropped buffer is reported");
        assertTrue(leaks.get(0).contains("leak"), leaks.get(0));
    }

    private static void leak() {
        ByteBuf b = Unpooled.directBuffer(64);
        b.writeLong(42);
    }
}
