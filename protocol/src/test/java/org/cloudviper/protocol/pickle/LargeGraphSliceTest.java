package org.cloudviper.protocol.pickle;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A 100,000-task graph of each shape is cut whole: one slice per task, chain links kept. How fast
 * is measured by the JMH {@code SlicerBenchmark} in bench/ (docs/benchmarks.md), never by a timed
 * unit test.
 */
class LargeGraphSliceTest {
    static final int N = 100_000;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"taskChain", "map", "legacyChain"})
    void slicesA100kTaskGraphWhole(String kind) {
        byte[] graph = switch (kind) {
            case "taskChain" -> SyntheticGraphs.taskChain(N);
            case "map" -> SyntheticGraphs.map(N);
            default -> SyntheticGraphs.legacyChain(N);
        };
        SlicedGraph g = new GraphSlicer().slice(graph, 0);
        assertEquals(N, g.tasks().size());
        TaskSlice last = g.tasks().get(N - 1);
        assertEquals(kind.equals("map") ? 0 : 1, last.dependencies().size(), last.toString());
    }

    /** The same legacy chain as a distributed 2024.1 client sends it, cut into call tuples. */
    @org.junit.jupiter.api.Test
    void slicesA100kLegacyChainIntoCallTuples() {
        SlicedGraph g = new GraphSlicer().slice(SyntheticGraphs.legacyChain(N), 0, GraphSlicer.Form.CALL_TUPLES);
        assertEquals(N, g.tasks().size());
        TaskSlice last = g.tasks().get(N - 1);
        assertEquals(java.util.List.of("d-" + (N - 2)), last.dependencies());
        assertEquals("(operator.add, ('d-" + (N - 2) + "', " + (N - 1) + "), {})",
                CallTuplesTest.structure(new PickleReader().read(last.runSpec()).root()));
        assertEquals("(distributed.worker.execute_task, (0,), {})",
                CallTuplesTest.structure(new PickleReader().read(g.tasks().get(0).runSpec()).root()));
    }
}
