package org.cloudviper.protocol.pickle;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every corpus graph slices without Python into exactly the keys and dependencies Python's own
 * scheduler derives (recorded by make_corpus.py from {@code _materialize_graph}); whether each
 * slice unpickles into the same node is checked against real Python in {@link PythonVerifyTest}.
 */
class CorpusSliceTest {

    static List<Corpus.Case> cases() {
        return Corpus.cases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void slicesToPythonsKeysAndDependencies(Corpus.Case c) {
        GraphSlicer slicer = new GraphSlicer();
        if (c.expectError() != null) {
            UnsupportedGraphException e = assertThrows(UnsupportedGraphException.class,
                    () -> slicer.slice(c.graph(), c.buffers()));
            assertTrue(e.getMessage().contains(c.expectError()), e.getMessage());
            return;
        }
        SlicedGraph g = slicer.slice(c.graph(), c.buffers());
        Map<Object, TaskSlice> got = g.byCanonicalKey();
        Map<Object, Set<Object>> expected = new LinkedHashMap<>();
        for (Map<String, Object> t : c.tasks()) {
            Set<Object> deps = new HashSet<>();
            for (Object d : (List<?>) t.get("deps")) {
                deps.add(PickleValues.canonicalKey(Corpus.key(d)));
            }
            expected.put(PickleValues.canonicalKey(Corpus.key(t.get("key"))), deps);
        }
        assertEquals(expected.keySet(), got.keySet(), "keys");
        assertEquals(c.taskCount(), g.tasks().size());
        for (Map.Entry<Object, Set<Object>> e : expected.entrySet()) {
            TaskSlice t = got.get(e.getKey());
            Set<Object> deps = new HashSet<>();
            t.dependencies().forEach(d -> deps.add(PickleValues.canonicalKey(d)));
            assertEquals(e.getValue(), deps, "dependencies of " + t.key());
            assertEquals(t.dependencies().size(), deps.size(), "no duplicate dependencies for " + t.key());
            assertEquals(0x80, t.runSpec()[0] & 0xff);
            assertEquals(5, t.runSpec()[1]);
            assertEquals('.', t.runSpec()[t.runSpec().length - 1]);
            // a slice is a complete pickle on its own: the reader accepts it with its buffers
            ParsedPickle p = new PickleReader().read(t.runSpec(), t.bufferFrames().length);
            assertEquals(t.bufferFrames().length, p.buffersUsed());
            for (int f : t.bufferFrames()) {
                assertTrue(f >= 1 && f <= c.buffers(), "frame index " + f);
            }
        }
        assertEquals(c.buffers(), g.buffersUsed(), "every out-of-band buffer belongs to the graph pickle");
        // the layers as Python lists them, with their plain annotations
        assertEquals(c.layers().size(), g.layers().size());
        for (int i = 0; i < g.layers().size(); i++) {
            Map<String, Object> want = c.layers().get(i);
            SlicedGraph.Layer layer = g.layers().get(i);
            assertEquals(want.get("class"), layer.className());
            assertEquals(PickleValues.canonicalKey(Corpus.key(want.get("name"))), PickleValues.canonicalKey(layer.name()));
            @SuppressWarnings("unchecked")
            Map<String, Object> ann = (Map<String, Object>) want.get("annotations");
            if (ann == null) {
                assertTrue(layer.annotations().isEmpty() && layer.opaqueAnnotations().isEmpty());
                continue;
            }
            for (Map.Entry<String, Object> a : ann.entrySet()) {
                if (a.getValue() instanceof Map<?, ?> m && String.valueOf(m.get("callable")).endsWith("._key_priority")) {
                    // a shuffle layer's own priority: applied per key (split keys 1, others 0)
                    assertEquals("priority", a.getKey());
                    assertTrue(layer.splitName() != null && !layer.opaqueAnnotations().contains("priority"));
                } else if (a.getValue() instanceof Map<?, ?> m && m.containsKey("callable")) {
                    assertTrue(layer.opaqueAnnotations().contains(a.getKey()), a.getKey());
                } else {
                    assertEquals(a.getValue(), layer.annotations().get(a.getKey()), a.getKey());
                }
            }
        }
    }

    @Test
    void corpusCoversWhatTheBriefAsksFor() {
        Set<String> names = new HashSet<>();
        Corpus.cases().forEach(c -> names.add(c.name()));
        for (String n : List.of("submit_inc", "map3", "map100", "submit_tuple_key", "submit_dependent_alias",
                "numpy_arg", "delayed_chain", "array_optimized", "bag_fold", "map_lambda", "map_closure",
                "blockwise_unoptimized", "cap24_graph6", "df_sum", "df_groupby_agg", "df_merge_hash",
                "df_merge_broadcast", "df_set_index", "df_shuffle", "df_shuffle_stages", "df_from_map",
                "array_matmul", "array_drop_axis", "array_overlap", "array_rechunk", "array_block_info", "df_groupby_apply",
                "df_to_delayed", "array_rechunk_p2p")) {
            assertTrue(names.contains(n), n);
        }
    }

    /**
     * client.map tasks written from the compact form (the function's part once, each task's
     * arguments' bytes) are byte for byte those written from the parsed graph, also when a second
     * write of the same task follows; arguments that do not stand alone (numpy buffers) keep the
     * parsed graph.
     */
    @ParameterizedTest
    @ValueSource(strings = {"map3", "map100", "map_lambda", "map_closure", "map_numpy"})
    void compactMapTasksWriteTheSameBytes(String name) {
        Corpus.Case c = Corpus.get(name);
        GraphSlicer full = new GraphSlicer();
        full.compactMapLayers = false;
        SlicedGraph a = new GraphSlicer().slice(c.graph(), c.buffers());
        SlicedGraph b = full.slice(c.graph(), c.buffers());
        assertEquals(b.tasks().size(), a.tasks().size());
        assertEquals(!name.equals("map_numpy"), MapLayerTasks.compact(a.tasks().get(0).pickle()), "compact form");
        assertEquals(false, MapLayerTasks.compact(b.tasks().get(0).pickle()));
        for (int i = 0; i < a.tasks().size(); i++) {
            TaskSlice x = a.tasks().get(i);
            TaskSlice y = b.tasks().get(i);
            assertArrayEquals(y.runSpec(), x.runSpec(), x.key() + ": compact and full differ");
            assertArrayEquals(y.bufferFrames(), x.bufferFrames(), x.key() + ": buffers");
            assertArrayEquals(x.runSpec(), x.runSpec(), x.key() + ": a second write differs");
        }
    }

    @Test
    void mapLayerTaskHasTheSlotsOfARealTask() {
        SlicedGraph g = new GraphSlicer().slice(Corpus.get("map3").graph(), 0);
        TaskSlice t = g.tasks().get(0);
        assertEquals(TaskSlice.Kind.MAP_TASK, t.kind());
        PickleValue root = new PickleReader().read(t.runSpec()).root();
        TaskSpec.Obj o = TaskSpec.object(root);
        assertTrue(o.is("dask._task_spec", "Task"));
        assertEquals(List.of("func", "args", "kwargs", "_token", "_is_coro", "_repr", "key", "_dependencies"),
                List.copyOf(o.attrs().keySet()));
        assertEquals(t.key(), PickleValues.toKey(o.attr("key")));
    }

    @Test
    void capturedSubmitSliceIsTheTaskBytesPlusItsKey() {
        // cap24 graph1: the Task reads one memo entry from outside itself: its key (the mapping key)
        Corpus.Case c = Corpus.get("cap24_graph1");
        SlicedGraph g = new GraphSlicer().slice(c.graph(), 0);
        assertEquals(1, g.tasks().size());
        TaskSlice t = g.tasks().get(0);
        assertEquals(TaskSlice.Kind.NODE, t.kind());
        assertEquals(List.of(), t.dependencies());
        assertArrayEquals(new int[0], t.bufferFrames());
        byte[] spec = t.runSpec();
        // PROTO 5, the key str + MEMOIZE + POP, then the Task
        assertEquals(0x8c, spec[2] & 0xff);
        String key = (String) t.key();
        assertEquals(key.length(), spec[3]);
        assertEquals(0x94, spec[4 + key.length()] & 0xff);
        assertEquals('0', spec[5 + key.length()]);
    }

    @Test
    void numpyBuffersAreRenumberedPerSlice() {
        SlicedGraph g = new GraphSlicer().slice(Corpus.get("map_numpy").graph(), 3);
        Set<Integer> used = new HashSet<>();
        for (TaskSlice t : g.tasks()) {
            assertEquals(1, t.bufferFrames().length, t.toString());
            used.add(t.bufferFrames()[0]);
        }
        assertEquals(Set.of(1, 2, 3), used);
        SlicedGraph shared = new GraphSlicer().slice(Corpus.get("numpy_shared_readonly").graph(), 2);
        assertArrayEquals(new int[]{1, 2}, shared.tasks().get(0).bufferFrames());
    }
}
