package org.cloudviper.protocol.pickle;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Cutting a 100,000-task graph takes well under a second (parse + walk + every slice), i.e. the
 * slicer is linear: no per-task rescans of shared definitions, no quadratic memo resolution.
 * Best of five runs after a warm-up, and not asserted on a saturated machine ({@link Timing}); the
 * JMH benchmark in bench/ gives the real figures.
 */
class SlicerSpeedTest {
    static final int N = 100_000;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"taskChain", "map", "legacyChain"})
    void slicesA100kTaskGraphInUnderASecond(String kind) {
        byte[] graph = switch (kind) {
            case "taskChain" -> SyntheticGraphs.taskChain(N);
            case "map" -> SyntheticGraphs.map(N);
            default -> SyntheticGraphs.legacyChain(N);
        };
        GraphSlicer slicer = new GraphSlicer();
        SlicedGraph[] g = {null};
        long best = Timing.bestNanos(5, () -> g[0] = slicer.slice(graph, 0));
        assertEquals(N, g[0].tasks().size());
        long bytes = g[0].tasks().stream().mapToLong(t -> t.runSpec().length).sum();
        Timing.assertUnder(String.format("%s: %d tasks from a %d-byte pickle into %d bytes of slices", kind, N,
                graph.length, bytes), best, 1_000);
        TaskSlice last = g[0].tasks().get(N - 1);
        if (!kind.equals("map")) {
            assertEquals(1, last.dependencies().size(), last.toString());
        }
    }
}
