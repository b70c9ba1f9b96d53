package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.TestWire;
import org.cloudviper.testkit.Captures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Graphs a real distributed 2024.1.1 client sent, cut into {@code (function, args, kwargs)} run
 * specs, against the run specs the real 2024.1.1 scheduler sent its worker for the same keys
 * (captures of {@code dask-2024.1.1}): the same structure once read (memo numbering and framing
 * aside), and the same dependencies.
 */
class CallTuplesTest {

    @ParameterizedTest
    @CsvSource({
            // update-graph capture, compute-task capture: what the scheduler sent for the keys they share
            "client-to-scheduler.update-graph-submit.bin, scheduler-to-worker.compute-task.bin",
            "client-to-scheduler.update-graph-map.bin, scheduler-to-worker.compute-task-batch.bin",
            "client-to-scheduler.update-graph-dask-array-batch.bin, scheduler-to-worker.compute-task-dask-array-aggregate.bin",
            "client-to-scheduler.update-graph-future-argument.bin, scheduler-to-worker.compute-task-future-argument.bin",
            "client-to-scheduler.update-graph-keyword-arguments.bin, scheduler-to-worker.compute-task-keyword-arguments.bin",
            "client-to-scheduler.update-graph-nested-batch.bin, scheduler-to-worker.compute-task-data.bin",
            "client-to-scheduler.update-graph-nested-batch.bin, scheduler-to-worker.compute-task-key-argument.bin",
            "client-to-scheduler.update-graph-nested-batch.bin, scheduler-to-worker.compute-task-nested.bin",
    })
    void slicesAsTheRefereeSchedulerSendsThem(String graphCapture, String computeCapture) {
        SlicedGraph g = slice(graphCapture);
        Map<Object, TaskSlice> byKey = g.byCanonicalKey();
        int compared = 0;
        for (Map<?, ?> task : computeTasks(computeCapture)) {
            Object key = PickleValues.canonicalKey(task.get("key"));
            TaskSlice mine = byKey.get(key);
            assertNotNull(mine, key + " not among " + byKey.keySet());
            assertEquals(TaskSlice.Kind.CALL_TUPLE, mine.kind());
            assertEquals(canonicalKeys(((Map<?, ?>) task.get("who_has")).keySet()),
                    canonicalKeys(mine.dependencies()), key + ": dependencies");
            assertEquals(structure(pythons(task)), structure(new PickleReader().read(mine.runSpec(),
                    mine.bufferFrames().length).root()), key + ": run spec");
            compared++;
        }
        assertTrue(compared > 0);
    }

    @Test
    void aFutureArgumentBecomesItsKeyAndADependency() {
        SlicedGraph g = slice("client-to-scheduler.update-graph-future-argument.bin");
        assertEquals(1, g.tasks().size());
        TaskSlice t = g.tasks().get(0);
        assertEquals(1, t.dependencies().size());
        String dep = (String) t.dependencies().get(0);
        assertTrue(dep.startsWith("int-"), dep);
        String s = structure(new PickleReader().read(t.runSpec()).root());
        assertTrue(s.contains("('" + dep + "', 2)"), s);
        assertTrue(!s.contains("distributed.client"), "no Future is left for the worker to build: " + s);
    }

    @Test
    void theTaskNodeFormRefusesNothingOfIt() {
        // the same graph still goes the 2024.12 way (convert_legacy_graph on unpickling)
        SlicedGraph g = new GraphSlicer().slice(graph("client-to-scheduler.update-graph-nested-batch.bin"), 0);
        assertEquals(3, g.tasks().size());
        assertTrue(g.tasks().stream().allMatch(t -> t.kind() == TaskSlice.Kind.LEGACY));
    }

    @Test
    void aFutureInsideAnObjectIsRefusedNamingIt() {
        // {"k": (f, SomeObject(Future("x")))}: Python leaves that Future in place, bound to the worker's client
        byte[] pickle = oneTaskGraph("k", new PickleWriter().global("builtins", "len")
                .global("collections", "OrderedDict").global("distributed.client", "Future").str("x").tupleEnd(1)
                .reduce().tupleEnd(1).tupleEnd(1).reduce().tupleEnd(2).toByteArray());
        UnsupportedGraphException e = assertThrows(UnsupportedGraphException.class,
                () -> new GraphSlicer().slice(pickle, 0, GraphSlicer.Form.CALL_TUPLES));
        assertTrue(e.getMessage().contains("holds a distributed Future inside a collections.OrderedDict"),
                e.getMessage());
    }

    @Test
    void aFutureInACollectionIsUnpackedWhereverItStands() {
        // {"k": (len, [Future("x"), {"a": Future("x")}])}: both become "x", the Future's memo entry too
        byte[] pickle = oneTaskGraph("k", new PickleWriter().global("builtins", "len").mark()
                .global("distributed.client", "Future").str("x").tupleEnd(1).reduce().memoize()
                .emptyDict().str("a").get(0).setItem().op('l').tupleEnd(2).toByteArray());
        TaskSlice t = new GraphSlicer().slice(pickle, 0, GraphSlicer.Form.CALL_TUPLES).tasks().get(0);
        assertEquals(List.of("x"), t.dependencies());
        assertEquals("(builtins.len, (['x', {'a': 'x'}],), {})", structure(new PickleReader().read(t.runSpec()).root()));
    }

    @Test
    void aValueThatIsItsOwnKeyIsDropped() {
        // {"k": Future("k")}, the key object shared (a persisted collection): nothing to compute
        PickleWriter w = new PickleWriter().proto();
        graphHead(w);
        w.str("k").memoize().global("distributed.client", "Future").get(memoOfKey).tupleEnd(1).reduce();
        graphTail(w);
        assertEquals(List.of(), new GraphSlicer().slice(w.toByteArray(), 0, GraphSlicer.Form.CALL_TUPLES).tasks());
    }

    // ---------------------------------------------------------------------------------------------

    /** A HighLevelGraph of one MaterializedLayer {key: value}, {@code value} given as pickle opcodes. */
    static byte[] oneTaskGraph(String key, byte[] value) {
        PickleWriter w = new PickleWriter().proto();
        graphHead(w);
        w.str(key).raw(value);
        graphTail(w);
        return w.toByteArray();
    }

    /** Memo entries the head defines: the key written right after it gets this index. */
    private static int memoOfKey = 0;

    private static void graphHead(PickleWriter w) {
        w.global("dask.highlevelgraph", "HighLevelGraph").emptyTuple().newobj().emptyDict().mark().str("layers")
                .emptyDict().mark().str("layer").global("dask.highlevelgraph", "MaterializedLayer").emptyTuple()
                .newobj().emptyDict().mark().str("annotations").none().str("mapping").emptyDict().mark();
    }

    private static void graphTail(PickleWriter w) {
        w.setItems().setItems().build().setItems().setItems().build().stop();
    }


    static SlicedGraph slice(String capture) {
        return new GraphSlicer().slice(graph(capture), 0, GraphSlicer.Form.CALL_TUPLES);
    }

    /** graph_frames[0] of the update-graph in a capture (alone or in a batch). */
    static byte[] graph(String capture) {
        for (Map<?, ?> m : messages(capture)) {
            if ("update-graph".equals(m.get("op"))) {
                return (byte[]) ((List<?>) m.get("graph_frames")).get(0);
            }
        }
        throw new AssertionError("no update-graph in " + capture);
    }

    static List<Map<?, ?>> computeTasks(String capture) {
        List<Map<?, ?>> out = new ArrayList<>();
        for (Map<?, ?> m : messages(capture)) {
            if ("compute-task".equals(m.get("op"))) {
                out.add(m);
            }
        }
        return out;
    }

    /** The capture's stream messages, decoded; sub-objects are kept as their pickled objects. */
    static List<Map<?, ?>> messages(String capture) {
        Frames frames = TestWire.frames(Captures.frames(Captures.DASK_2024_1, capture).toArray(new byte[0][]));
        Object tree;
        try {
            tree = MessageCodec.decode(frames);
        } finally {
            frames.release();
        }
        List<Map<?, ?>> out = new ArrayList<>();
        for (Object o : tree instanceof List<?> l ? l : List.of(tree)) {
            Map<?, ?> m = (Map<?, ?>) o;
            if (m.get("run_spec") instanceof SubObject s) {
                Map<?, ?> h = (Map<?, ?>) MessageCodec.decodeValue(s.header());
                Map<Object, Object> copy = new java.util.LinkedHashMap<>(m);
                copy.put("run_spec", h.get("pickled-obj"));
                m = copy;
            }
            out.add(m);
        }
        MessageCodec.release(tree);
        return out;
    }

    static PickleValue pythons(Map<?, ?> computeTask) {
        return new PickleReader().read((byte[]) computeTask.get("run_spec")).root();
    }

    static java.util.Set<Object> canonicalKeys(java.util.Collection<?> keys) {
        java.util.Set<Object> out = new HashSet<>();
        for (Object k : keys) {
            out.add(PickleValues.canonicalKey(k));
        }
        return out;
    }

    /** What a pickle builds, memo references followed: the same text for the same object graph. */
    static String structure(PickleValue v) {
        StringBuilder sb = new StringBuilder();
        structure(v, sb, 0, new HashSet<>());
        return sb.toString();
    }

    private static void structure(PickleValue v, StringBuilder sb, int depth, java.util.Set<Integer> path) {
        if (depth > 200) {
            throw new AssertionError("too deep");
        }
        PickleValue r = v instanceof PickleValue.Ref ref ? ref.target() : v;
        if (!path.add(r.id())) {
            sb.append("<itself>"); // a recursive object: cloudpickle's functions refer to themselves
            return;
        }
        structureOf(r, sb, depth, path);
        path.remove(r.id());
    }

    private static void structureOf(PickleValue r, StringBuilder sb, int depth, java.util.Set<Integer> path) {
        if (r instanceof PickleValue.Str s) {
            sb.append('\'').append(s.value()).append('\'');
        } else if (r instanceof PickleValue.Int i) {
            sb.append(i.fitsLong() ? Long.toString(i.longValue()) : i.big().toString());
        } else if (r instanceof PickleValue.Float f) {
            sb.append(f.value());
        } else if (r instanceof PickleValue.Bool b) {
            sb.append(b.value() ? "True" : "False");
        } else if (r instanceof PickleValue.None) {
            sb.append("None");
        } else if (r instanceof PickleValue.Bytes b) {
            sb.append("b").append(java.util.HexFormat.of().formatHex(b.value()));
        } else if (r instanceof PickleValue.Tuple t) {
            items(t.items(), "(", t.size() == 1 ? ",)" : ")", sb, depth, path);
        } else if (r instanceof PickleValue.PyList l) {
            items(l.items(), "[", "]", sb, depth, path);
        } else if (r instanceof PickleValue.PySet s) {
            items(s.items(), "{", "}", sb, depth, path);
        } else if (r instanceof PickleValue.PyDict d) {
            sb.append('{');
            for (int i = 0; i < d.size(); i++) {
                structure(d.key(i), sb, depth + 1, path);
                sb.append(": ");
                structure(d.value(i), sb, depth + 1, path);
                sb.append(i + 1 < d.size() ? ", " : "");
            }
            sb.append('}');
        } else if (r instanceof PickleValue.Global g) {
            sb.append(g.module()).append('.').append(g.name());
        } else if (r instanceof PickleValue.Reduce c) {
            structure(c.callee(), sb, depth + 1, path);
            structure(c.args(), sb, depth + 1, path);
        } else if (r instanceof PickleValue.NewObj o) {
            sb.append("new ");
            structure(o.cls(), sb, depth + 1, path);
            structure(o.args(), sb, depth + 1, path);
        } else if (r instanceof PickleValue.Build b) {
            structure(b.obj(), sb, depth + 1, path);
            sb.append(".__setstate__");
            structure(b.state(), sb, depth + 1, path);
        } else {
            sb.append(r.describe());
        }
        for (PickleValue e : r.sideEffects()) {
            sb.append(" + ");
            structure(e, sb, depth + 1, path);
        }
    }

    private static void items(List<PickleValue> items, String open, String close, StringBuilder sb, int depth,
                              java.util.Set<Integer> path) {
        sb.append(open);
        for (int i = 0; i < items.size(); i++) {
            structure(items.get(i), sb, depth + 1, path);
            sb.append(i + 1 < items.size() ? ", " : "");
        }
        sb.append(close);
    }
}
