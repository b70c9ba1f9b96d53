package org.cloudviper.scheduler.server;

import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.testkit.Captures;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WireTest {
    @Test
    void computeSecondsOfARealTaskFinished() throws Exception {
        byte[] wire = Captures.raw(Captures.DASK_2022, "worker-to-scheduler.task-finished.bin");
        Frames frames = FrameDecoder.tryRead(Unpooled.wrappedBuffer(wire), FrameLimits.DEFAULT);
        Object decoded = MessageCodec.decode(frames);
        frames.release();
        Map<?, ?> m = assertInstanceOf(Map.class, assertInstanceOf(List.class, decoded).get(0));
        assertEquals("task-finished", m.get("op"));
        List<?> startstops = assertInstanceOf(List.class, m.get("startstops"));
        Map<?, ?> compute = assertInstanceOf(Map.class, startstops.get(0));
        assertEquals("compute", compute.get("action"));
        double expected = ((Number) compute.get("stop")).doubleValue() - ((Number) compute.get("start")).doubleValue();
        double seconds = Wire.computeSeconds(m.get("startstops"));
        assertEquals(expected, seconds, 0.0);
        assertTrue(seconds > 0 && seconds < 1, "an inc takes microseconds: " + seconds);
        MessageCodec.release(decoded);
    }

    @Test
    void computeSecondsSumsComputeIntervalsOnly() {
        List<Object> ss = List.of(
                Map.of("action", "transfer", "start", 1.0, "stop", 3.0, "source", "tcp://x:1"),
                Map.of("action", "compute", "start", 10.0, "stop", 10.25),
                Map.of("action", "compute", "start", 11.0, "stop", 11.5));
        assertEquals(0.75, Wire.computeSeconds(ss), 1e-12);
        assertTrue(Double.isNaN(Wire.computeSeconds(List.of())));
        assertTrue(Double.isNaN(Wire.computeSeconds(null)));
        assertTrue(Double.isNaN(Wire.computeSeconds(List.of(Map.of("action", "compute", "start", 2.0, "stop", 1.0)))),
                "a negative interval is no duration");
    }
}
