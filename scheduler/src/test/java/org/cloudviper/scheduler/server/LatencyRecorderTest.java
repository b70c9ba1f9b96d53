package org.cloudviper.scheduler.server;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LatencyRecorderTest {
    @Test
    void percentilesInMicrosecondsOverTheKeptSamples() {
        LatencyRecorder r = new LatencyRecorder(1000);
        for (int i = 1; i <= 100; i++) {
            r.record(i * 1_000L); // 1..100 us
        }
        Map<String, Object> s = r.summary();
        assertEquals(100L, s.get("count"));
        assertEquals(51.0, s.get("p50_us"));
        assertEquals(91.0, s.get("p90_us"));
        assertEquals(100.0, s.get("p99_us"));
        assertEquals(100.0, s.get("max_us"));
    }

    @Test
    void keepsOnlyTheLastCapacitySamplesAndResets() {
        LatencyRecorder r = new LatencyRecorder(4);
        for (long us : new long[] {900, 800, 1, 2, 3, 4}) {
            r.record(us * 1_000);
        }
        Map<String, Object> s = r.summary();
        assertEquals(6L, s.get("count"), "count is every sample recorded");
        assertEquals(4.0, s.get("max_us"), "the two oldest samples were overwritten");
        r.reset();
        assertEquals(0L, r.summary().get("count"));
        assertEquals(0.0, r.summary().get("p99_us"));
    }
}
