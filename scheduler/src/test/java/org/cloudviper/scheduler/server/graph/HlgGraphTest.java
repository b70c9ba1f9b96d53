package org.cloudviper.scheduler.server.graph;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HlgGraphTest {
    @Test
    void fifoTimeoutReadsDaskDurationsAndFallsBackToDasksDefault() {
        assertEquals(0.1, HlgGraph.fifoTimeout("100 ms"), 1e-12);
        assertEquals(0.1, HlgGraph.fifoTimeout("100 ms"), 1e-12, "the same string again (cached)");
        assertEquals(60.0, HlgGraph.fifoTimeout("60s"), 1e-12);
        assertEquals(60.0, HlgGraph.fifoTimeout("1 minute"), 1e-12);
        assertEquals(7200.0, HlgGraph.fifoTimeout("2 Hours"), 1e-12);
        assertEquals(2.5e-6, HlgGraph.fifoTimeout("2.5us"), 1e-15);
        assertEquals(3.0, HlgGraph.fifoTimeout(3), 1e-12);
        assertEquals(0.1, HlgGraph.fifoTimeout(null), 1e-12);
        assertEquals(0.1, HlgGraph.fifoTimeout("soon"), 1e-12);
        assertEquals(0.1, HlgGraph.fifoTimeout("1.2.3 ms"), 1e-12, "not a number: no exception");
        assertEquals(0.25, HlgGraph.fifoTimeout("250ms"), 1e-12, "a new string after a cached one");
    }
}
