package org.cloudviper.scheduler.server;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FlushMarkersTest {
    private final FlushMarkers markers = new FlushMarkers();
    private final List<String> answered = new ArrayList<>();

    @Test
    void aWaitBeforeItsMarkerIsAnsweredWhenTheMarkerArrives() {
        markers.await("u1", () -> answered.add("u1"));
        assertEquals(List.of(), answered, "the stream has not delivered the marker yet");
        markers.received("other");
        assertEquals(List.of(), answered);
        markers.received("u1");
        assertEquals(List.of("u1"), answered);
    }

    @Test
    void everyWaitOfAMarkerIsAnsweredBeforeOrAfterItArrives() {
        markers.await("u2", () -> answered.add("before"));
        markers.received("u2");
        assertEquals(List.of("before"), answered);
        markers.await("u2", () -> answered.add("after"));
        markers.await("u2", () -> answered.add("again")); // publish_dataset(a=..., b=...) waits twice
        assertEquals(List.of("before", "after", "again"), answered);
    }

    @Test
    void rememberedMarkersAreBounded() {
        for (int i = 0; i < 10_001; i++) {
            markers.received("m" + i);
        }
        markers.await("m0", () -> answered.add("m0"));
        assertEquals(List.of(), answered, "the oldest marker was dropped");
        markers.await("m10000", () -> answered.add("m10000"));
        assertEquals(List.of("m10000"), answered);
    }
}
