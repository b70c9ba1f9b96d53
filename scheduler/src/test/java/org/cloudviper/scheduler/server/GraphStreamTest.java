package org.cloudviper.scheduler.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.cloudviper.protocol.DeferredSubObject;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.protocol.layers.LayerLimits;
import org.cloudviper.scheduler.server.graph.GraphUpdates;
import org.cloudviper.scheduler.server.graph.HlgGraph;
import org.cloudviper.scheduler.server.graph.KeyTable;
import org.cloudviper.scheduler.server.graph.PickledGraph;
import org.cloudviper.scheduler.state.GraphUpdate;
import org.cloudviper.testkit.Captures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graph read while it arrives ({@link GraphStream}) gives exactly what the same message read whole
 * gives ({@link MessageCodec} tree, {@link HlgGraph} / {@link PickledGraph}), however its frame 0 is
 * cut into pieces; a malformed or cut-short frame is a {@link ProtocolException} and every piece
 * it took is released.
 */
class GraphStreamTest {
    private static final ByteBufAllocator UNTRACKED = new UnpooledByteBufAllocator(false, true);

    static Stream<String[]> graphCaptures() {
        List<String[]> out = new ArrayList<>();
        for (String generation : List.of(Captures.DASK_2022, Captures.DASK_2024)) {
            for (String name : Captures.names(generation)) {
                if (name.startsWith("client-to-scheduler.update-graph")) {
                    out.add(new String[]{generation, name});
                }
            }
        }
        assertTrue(out.size() >= 6, "captured graphs of both generations");
        return out.stream();
    }

    /** Every captured graph of both generations, cut at every offset and into pieces of several sizes. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("graphCaptures")
    void aCapturedGraphReadInPiecesIsTheGraphReadWhole(String generation, String name) {
        Generation g = generation.equals(Captures.DASK_2022) ? Generation.DASK_2022 : Generation.DASK_2024;
        List<byte[]> frames = Captures.frames(generation, name);
        List<String> whole = readWhole(frames, g);
        byte[] f0 = frames.get(0);
        for (int cut = 1; cut < f0.length; cut++) {
            assertEquals(whole, readStreamed(frames, g, new int[]{cut}), name + " cut at " + cut);
        }
        for (int size : new int[]{1, 2, 3, 7, 64, 1000}) {
            assertEquals(whole, readStreamed(frames, g, new int[]{size, size}), name + " in pieces of " + size);
        }
    }

    /**
     * A 2022 graph with what the captures lack: several thousand tasks, Serialized tasks (sub-objects of
     * later frames), dependencies as lists and as sets, per-key and plain annotations, a key the
     * dependencies name twice across layers, messages before and after it in the batch.
     */
    @Test
    void aLargeGraphWithEveryKindOfTaskReadInRandomPiecesIsTheGraphReadWhole() {
        List<byte[]> frames = syntheticHlg(3000, false);
        List<String> whole = readWhole(frames, Generation.DASK_2022);
        assertTrue(whole.size() == 3 && whole.get(1).contains("tasks=6000"), whole.get(1).substring(0, 200));
        Random random = new Random(7);
        for (int run = 0; run < 8; run++) {
            int[] sizes = random.ints(8, 1, 4000).toArray();
            assertEquals(whole, readStreamed(frames, Generation.DASK_2022, sizes), "pieces " + Arrays.toString(sizes));
        }
    }

    static Stream<Arguments> keyOrders() {
        return Stream.of(Arguments.of(Generation.DASK_2024, false), Arguments.of(Generation.DASK_2022, false),
                Arguments.of(Generation.DASK_2022, true));
    }

    /**
     * A client.map graph whose {@code keys} (kept as bytes while streamed) hold what the captures
     * lack: a non-ASCII key, a tuple key, a key twice, keys no task has; its order
     * ({@code internal_priority}, 2022's {@code priority}) names keys not in {@code keys} and gives one
     * a value that is not a number; and the order sent before the keys, which no client does.
     */
    @ParameterizedTest(name = "{0}, order first: {1}")
    @MethodSource("keyOrders")
    void keysAndOrderOfAGraphReadAsBytesAreTheKeysReadWhole(Generation g, boolean orderFirst) {
        boolean pickled = g == Generation.DASK_2024;
        String orderField = pickled ? "internal_priority" : "priority";
        List<byte[]> frames = pickled ? Captures.frames(Captures.DASK_2024, "client-to-scheduler.update-graph-map.bin")
                : Captures.frames(Captures.DASK_2022, "client-to-scheduler.update-graph-hlg-map.bin");
        Object tree = MessageCodec.decode(frames(frames));
        List<byte[]> altered = new ArrayList<>();
        try {
            List<Object> batch = new ArrayList<>(tree instanceof List<?> l ? l : List.of(tree));
            int at = 0;
            while (!String.valueOf(((Map<?, ?>) batch.get(at)).get("op")).startsWith("update-graph")) {
                at++;
            }
            Map<Object, Object> msg = new LinkedHashMap<>((Map<?, ?>) batch.get(at));
            List<Object> keys = new ArrayList<>(Fields.list(msg.get("keys")));
            Map<Object, Object> priority = new LinkedHashMap<>((Map<?, ?>) msg.get(orderField));
            assertTrue(keys.size() >= 3 && keys.get(0) instanceof String, String.valueOf(keys));
            keys.add(keys.get(1));
            keys.addAll(List.of("gr\u00fc\u00dfe-\u6f22", List.of("x", 3L), "not-a-task"));
            priority.put("gr\u00fc\u00dfe-\u6f22", 7L);
            priority.put("only-ordered", 9L);
            priority.put(List.of("y", 1L), 10L);
            priority.put(keys.get(0), "first");
            if (orderFirst) {
                msg.remove("keys");
                msg.remove(orderField);
                msg.put(orderField, priority);
            }
            msg.put("keys", keys);
            msg.put(orderField, priority);
            batch.set(at, msg);
            for (ByteBuf b : MessageCodec.encode(batch).frames()) {
                altered.add(ByteBufUtil.getBytes(b));
                b.release();
            }
        } finally {
            MessageCodec.release(tree);
        }
        List<String> whole = readWhole(altered, g);
        assertTrue(whole.toString().contains("gr\u00fc\u00dfe-\u6f22") && whole.toString().contains("x, Long:3"),
                whole.toString());
        for (int size : new int[]{1, 5, 300}) {
            assertEquals(whole, readStreamed(altered, g, new int[]{size}), "pieces of " + size);
        }
    }

    /** A key the order names twice is refused as any map with a repeated key is. */
    @Test
    void aKeyOrderedTwiceIsAClearError() {
        KeyTable t = new KeyTable();
        byte[] a = "a-1".getBytes(StandardCharsets.UTF_8);
        t.add(a, a.length);
        t.addOther(List.of("b", 2L));
        t.seal();
        assertEquals(0, t.find(a, a.length));
        assertEquals(1, t.indexOf(List.of("b", 2L)));
        assertEquals(-1, t.indexOf("a-2"));
        t.order(0, null, 5);
        ProtocolException e = assertThrows(ProtocolException.class, () -> t.order(0, null, 6));
        assertEquals("duplicate map key: a-1", e.getMessage());
        assertEquals(5, t.orderOf(0, "a-1", -1));
        assertEquals(-1, t.orderOf(1, List.of("b", 2L), -1));
        assertEquals(List.of("a-1", List.of("b", 2L)), t);
        assertEquals(Map.of("a-1", 5L), t.priorities());
    }

    /** A layer only Python could expand is refused the same way whether the graph was read whole or streamed. */
    @Test
    void aLayerOfAnotherKindGoesWholeToTheLayerDispatch() {
        List<byte[]> frames = syntheticHlg(50, true);
        List<String> whole = readWhole(frames, Generation.DASK_2022);
        assertTrue(whole.get(1).startsWith("refused: ") && whole.get(1).contains("mylib.layers.CustomLayer"), whole.get(1));
        assertEquals(whole, readStreamed(frames, Generation.DASK_2022, new int[]{5, 300}));
    }

    @Test
    void aFrameCutShortIsAClearErrorAndReleasesWhatItTook() {
        List<byte[]> frames = syntheticHlg(200, false);
        byte[] f0 = frames.get(0);
        List<ByteBuf> pieces = new ArrayList<>();
        GraphStream s = new GraphStream(ByteBufAllocator.DEFAULT, f0.length + 10, true);
        for (int off = 0; off < f0.length; off += 100) {
            ByteBuf b = Unpooled.directBuffer(100).writeBytes(f0, off, Math.min(100, f0.length - off));
            pieces.add(b);
            s.piece(b);
        }
        ProtocolException e = assertThrows(ProtocolException.class, () -> s.end(rest(frames), Generation.DASK_2022));
        assertEquals("frame 0 ended early", e.getMessage());
        s.close();
        for (ByteBuf b : pieces) {
            assertEquals(0, b.refCnt(), "every piece released");
        }
    }

    /** A task key a layer's dsk gives twice is refused, read whole or streamed, after hundreds of others. */
    @Test
    void aTaskKeyGivenTwiceIsAClearError() {
        List<byte[]> frames = syntheticHlg(1000, false);
        byte[] f0 = frames.get(0).clone();
        byte[] second = "inc-0-456".getBytes(StandardCharsets.US_ASCII);
        byte[] first = "inc-0-123".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(first, 0, f0, indexOf(f0, second), first.length);
        List<byte[]> bad = new ArrayList<>(frames);
        bad.set(0, f0);
        ProtocolException whole = assertThrows(ProtocolException.class, () -> readWhole(bad, Generation.DASK_2022));
        assertEquals("duplicate map key: inc-0-123", whole.getMessage());
        for (int size : new int[]{1, 100, f0.length}) {
            ProtocolException e = assertThrows(ProtocolException.class,
                    () -> readStreamed(bad, Generation.DASK_2022, new int[]{size}));
            assertEquals("duplicate map key: inc-0-123", e.getMessage(), "pieces of " + size);
        }
    }

    @Test
    void malformedMsgpackInsideATaskIsAClearError() {
        List<byte[]> frames = syntheticHlg(200, false);
        byte[] f0 = frames.get(0).clone();
        // the first "args" bin's length header (c4 NN) becomes 0xc1, a byte msgpack never uses
        int at = indexOf(f0, "args".getBytes(StandardCharsets.US_ASCII)) + 4;
        f0[at] = (byte) 0xc1;
        List<byte[]> bad = new ArrayList<>(frames);
        bad.set(0, f0);
        assertThrows(ProtocolException.class, () -> readWhole(bad, Generation.DASK_2022));
        List<ByteBuf> pieces = new ArrayList<>();
        ProtocolException e = assertThrows(ProtocolException.class, () -> {
            try (GraphStream s = new GraphStream(ByteBufAllocator.DEFAULT, f0.length, true)) {
                for (int off = 0; off < f0.length; off += 64) {
                    ByteBuf b = Unpooled.directBuffer(64).writeBytes(f0, off, Math.min(64, f0.length - off));
                    pieces.add(b);
                    s.piece(b);
                }
                s.end(rest(bad), Generation.DASK_2022);
            }
        });
        assertTrue(e.getMessage().contains("0xc1"), e.getMessage());
        for (ByteBuf b : pieces) {
            assertEquals(0, b.refCnt(), "every piece released");
        }
    }

    @Test
    void aLengthBeyondTheFrameIsRefusedBeforeAnythingIsAllocated() {
        // [{"op": "update-graph", "graph_frames": [bin32 of 2 GiB - 1]}] in a frame of 40 bytes
        byte[] head = MessageCodec.pack(List.of(new LinkedHashMap<>(Map.of("op", "update-graph"))));
        ByteBuf f0 = Unpooled.buffer();
        f0.writeByte(0x91).writeByte(0x82);
        f0.writeBytes(head, 2, head.length - 2); // "op": "update-graph"
        f0.writeByte(0xac).writeBytes("graph_frames".getBytes(StandardCharsets.US_ASCII));
        f0.writeByte(0x91).writeByte(0xc6).writeInt(Integer.MAX_VALUE);
        try (GraphStream s = new GraphStream(ByteBufAllocator.DEFAULT, f0.readableBytes() + 8, true)) {
            ProtocolException e = assertThrows(ProtocolException.class, () -> s.piece(f0));
            assertTrue(e.getMessage().startsWith("msgpack length: 2147483647 (expected: <= "), e.getMessage());
        }
    }

    @Test
    void framesThatAreNotAGraphAreReadAsOneValue() {
        List<byte[]> frames = Captures.frames(Captures.DASK_2022, "client-to-scheduler.scatter.bin");
        Object whole = MessageCodec.decode(frames(frames));
        try (GraphStream s = new GraphStream(ByteBufAllocator.DEFAULT, frames.get(0).length, false)) {
            s.piece(Unpooled.wrappedBuffer(frames.get(0)));
            List<Object> items = s.end(rest(frames), Generation.DASK_2022);
            assertEquals(1, items.size());
            assertEquals(describe(whole), describe(items.get(0)));
            MessageCodec.release(items.get(0));
        }
        MessageCodec.release(whole);
    }

    // ------------------------------------------------------------------------------------------

    private static Frames frames(List<byte[]> frames) {
        List<ByteBuf> b = new ArrayList<>();
        for (byte[] f : frames) {
            b.add(Unpooled.wrappedBuffer(f));
        }
        return new Frames(b);
    }

    private static Frames rest(List<byte[]> frames) {
        return frames(frames.subList(1, frames.size()));
    }

    /** The messages of the frame read whole, each as a comparable text (a graph: its update). */
    private static List<String> readWhole(List<byte[]> frames, Generation g) {
        Object tree = MessageCodec.decode(frames(frames));
        try {
            List<Object> messages = tree instanceof List<?> l ? new ArrayList<>(l) : List.of(tree);
            List<String> out = new ArrayList<>();
            for (Object m : messages) {
                if (m instanceof Map<?, ?> map && String.valueOf(map.get("op")).startsWith("update-graph")) {
                    ClientToScheduler msg = ClientToScheduler.decode(map, g);
                    out.add(update(msg, g, () -> HlgGraph.read((ClientToScheduler.UpdateGraphHlg) msg, "c", 1.0, "s")));
                } else {
                    out.add(describe(m));
                }
            }
            return out;
        } finally {
            MessageCodec.release(tree);
        }
    }

    /** The same frames through {@link GraphStream}, frame 0 in pieces of the sizes given, the last repeated. */
    private static List<String> readStreamed(List<byte[]> frames, Generation g, int[] sizes) {
        byte[] f0 = frames.get(0);
        List<String> out = new ArrayList<>();
        List<ByteBuf> pieces = new ArrayList<>();
        // Untracked buffers: paranoid leak detection records every read of a tracked one, which made
        // these thousands of whole-graph reads take minutes; the pieces' release is checked below.
        try (GraphStream s = new GraphStream(UNTRACKED, f0.length, true)) {
            int off = 0;
            for (int i = 0; off < f0.length; i++) {
                int n = Math.min(sizes[Math.min(i, sizes.length - 1)], f0.length - off);
                ByteBuf piece = UNTRACKED.buffer(n).writeBytes(f0, off, n);
                pieces.add(piece);
                s.piece(piece);
                off += n;
            }
            Frames rest = rest(frames);
            for (Object item : s.end(rest, g)) {
                if (item instanceof StreamedGraph read) {
                    try {
                        ClientToScheduler msg = read.message();
                        out.add(update(msg, g, () -> {
                            ClientToScheduler.UpdateGraphHlg hlg = (ClientToScheduler.UpdateGraphHlg) msg;
                            HlgGraph.Layers layers = new HlgGraph.Layers(hlg, LayerLimits.DEFAULT);
                            read.addLayers(layers);
                            return layers.update(hlg, "c", 1.0, "s");
                        }));
                    } finally {
                        read.release();
                    }
                } else {
                    out.add(describe(item));
                    MessageCodec.release(item);
                }
            }
        }
        for (ByteBuf b : pieces) {
            assertEquals(0, b.refCnt(), "every piece released");
        }
        return out;
    }

    private static String update(ClientToScheduler msg, Generation g, java.util.function.Supplier<GraphUpdate> hlg) {
        GraphUpdate u;
        try {
            u = msg instanceof ClientToScheduler.UpdateGraph pickled ? new PickledGraph().read(pickled, g, "c", 1.0, "s")
                    : hlg.get();
        } catch (HlgGraph.UnsupportedLayer e) {
            return "refused: " + e.getMessage();
        }
        try {
            return describe(u);
        } finally {
            GraphUpdates.release(u);
        }
    }

    private static String describe(GraphUpdate u) {
        StringBuilder b = new StringBuilder("update client=").append(u.client()).append(" tasks=").append(u.tasks().size())
                .append(" wanted=").append(describe(u.wanted())).append(" clientOrder=").append(u.clientOrder())
                .append(" fifo=").append(u.fifoTimeout()).append('\n');
        for (GraphUpdate.NewTask t : u.tasks()) {
            RunSpec s = t.runSpec();
            b.append(describe(t.key())).append(" f=").append(describe(s.function())).append(" a=").append(describe(s.args()))
                    .append(" k=").append(describe(s.kwargs())).append(" r=").append(describe(s.runSpec()))
                    .append(" deps=").append(describe(t.dependencies())).append(" opts=").append(describe(t.options()))
                    .append(" order=").append(t.order()).append('\n');
        }
        return b.toString();
    }

    private static String describe(GraphUpdate.TaskOptions o) {
        return o.userPriority() + "," + o.retries() + "," + o.workers() + "," + o.allowOtherWorkers() + ","
                + o.resources() + "," + describe(o.annotations());
    }

    /** A decoded value as text: bins by content, sub-objects by kind and bytes, maps in order. */
    static String describe(Object v) {
        if (v instanceof DeferredSubObject d) { // a run spec written when sent: what it writes
            SubObject s = d.materialize();
            try {
                return "deferred " + describe(s);
            } finally {
                s.release();
            }
        }
        if (v instanceof byte[] b) {
            return "b'" + ByteBufUtil.hexDump(b) + "'";
        }
        if (v instanceof SubObject s) {
            StringBuilder b = new StringBuilder(s.kind().marker()).append('(').append(ByteBufUtil.hexDump(s.header()));
            for (ByteBuf f : s.frames()) {
                b.append(',').append(ByteBufUtil.hexDump(f));
            }
            return b.append(')').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(describe(e.getKey())).append(": ").append(describe(e.getValue())).append(", ");
            }
            return b.append('}').toString();
        }
        if (v instanceof List<?> l) {
            StringBuilder b = new StringBuilder("[");
            for (Object o : l) {
                b.append(describe(o)).append(", ");
            }
            return b.append(']').toString();
        }
        return v == null ? "nil" : v.getClass().getSimpleName() + ":" + v;
    }

    /**
     * [{"op": "heartbeat-client"}, update-graph-hlg with two materialized layers (and one of a class
     * no one expands with {@code withUnknownLayer}), {"op": "client-desires-keys", ...}] as a 2022 client packs
     * them; every seventh task of the first layer is a Serialized task of its own frames.
     */
    static List<byte[]> syntheticHlg(int perLayer, boolean withUnknownLayer) {
        List<byte[]> subFrames = new ArrayList<>();
        byte[] function = new byte[300];
        new Random(1).nextBytes(function);
        List<Object> layers = new ArrayList<>();
        Map<Object, Object> priority = new LinkedHashMap<>();
        List<Object> keys = new ArrayList<>();
        for (int layer = 0; layer < 2; layer++) {
            Map<Object, Object> dsk = new LinkedHashMap<>();
            Map<Object, Object> deps = new LinkedHashMap<>();
            Map<Object, Object> expanded = new LinkedHashMap<>();
            expanded.put("__expanded_annotations__", true);
            for (int i = 0; i < perLayer; i++) {
                String key = "inc-" + layer + "-" + i;
                if (layer == 0 && i % 7 == 3) {
                    dsk.put(key, new RawSub(subFrames.size() + 1));
                    subFrames.add(MessageCodec.pack(Map.of("serializer", "pickle", "num-sub-frames", 1L)));
                    subFrames.add(("task " + i).getBytes(StandardCharsets.US_ASCII));
                } else {
                    Map<String, Object> spec = new LinkedHashMap<>();
                    spec.put("function", i % 11 == 5 ? ("other" + (i % 3)).getBytes(StandardCharsets.US_ASCII) : function);
                    spec.put("args", ("args " + i).getBytes(StandardCharsets.US_ASCII));
                    if (i % 5 == 0) {
                        spec.put("kwargs", ("kw " + i).getBytes(StandardCharsets.US_ASCII));
                    }
                    dsk.put(key, spec);
                }
                priority.put(key, (long) (layer * perLayer + i));
                if (i % 97 == 0) {
                    keys.add(key);
                }
                if (i % 3 == 1) {
                    expanded.put(key, (long) i);
                }
            }
            // dependencies in another order than the tasks, some as sets, one naming an earlier layer's key
            for (int i = perLayer - 1; i >= 0; i--) {
                String key = "inc-" + layer + "-" + i;
                if (i % 4 == 0) {
                    continue; // no entry: no dependencies
                }
                List<Object> d = i == 0 ? List.of() : List.of("inc-" + layer + "-" + (i - 1));
                deps.put(key, i % 2 == 0 ? Fields.set(d) : d);
            }
            deps.put("inc-0-0", List.of("not-in-this-layer"));
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("dsk", dsk);
            state.put("dependencies", deps);
            Map<String, Object> annotations = new LinkedHashMap<>();
            annotations.put("retries", 2L);
            annotations.put("priority", expanded);
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("__module__", "dask.highlevelgraph");
            l.put("__name__", "MaterializedLayer");
            l.put("state", state);
            l.put("annotations", layer == 0 ? annotations : Map.of());
            layers.add(l);
        }
        if (withUnknownLayer) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("__module__", "mylib.layers");
            l.put("__name__", "CustomLayer");
            l.put("state", Map.of("output", "x", "indices", List.of()));
            l.put("annotations", Map.of());
            layers.add(l);
        }
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", "update-graph-hlg");
        msg.put("hlg", Map.of("layers", layers));
        msg.put("keys", keys);
        msg.put("priority", priority);
        msg.put("submitting_task", null);
        msg.put("fifo_timeout", "100 ms");
        msg.put("actors", null);
        msg.put("code", "client.map(inc, range(n))");
        List<Object> batch = List.of(Map.of("op", "heartbeat-client"), msg,
                new LinkedHashMap<>(Map.of("op", "client-desires-keys", "keys", List.of("inc-0-1"))));
        List<byte[]> out = new ArrayList<>();
        out.add(RawSub.pack(batch));
        out.addAll(subFrames);
        return out;
    }

    /** {"__Serialized__": index} as a client writes it, for {@link #syntheticHlg}. */
    private record RawSub(int index) {
        static byte[] pack(Object v) {
            return MessageCodec.pack(replace(v));
        }

        private static Object replace(Object v) {
            if (v instanceof RawSub r) {
                return Map.of("__Serialized__", (long) r.index);
            }
            if (v instanceof Map<?, ?> m) {
                Map<Object, Object> out = new LinkedHashMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    out.put(e.getKey(), replace(e.getValue()));
                }
                return out;
            }
            if (v instanceof List<?> l) {
                List<Object> out = new ArrayList<>();
                for (Object o : l) {
                    out.add(replace(o));
                }
                return out;
            }
            return v;
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new IllegalArgumentException("not found");
    }

    @Test
    void theSyntheticGraphIsWhatAClientSends() {
        Object tree = MessageCodec.decode(frames(syntheticHlg(10, false)));
        try {
            Map<?, ?> msg = (Map<?, ?>) ((List<?>) tree).get(1);
            assertInstanceOf(ClientToScheduler.UpdateGraphHlg.class, ClientToScheduler.decode(msg, Generation.DASK_2022));
        } finally {
            MessageCodec.release(tree);
        }
    }
}
