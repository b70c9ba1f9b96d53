package org.cloudviper.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.cloudviper.protocol.TestWire.bytes;
import static org.cloudviper.protocol.TestWire.canonical;
import static org.cloudviper.protocol.TestWire.concat;
import static org.cloudviper.protocol.TestWire.frames;
import static org.cloudviper.protocol.TestWire.hex;
import static org.cloudviper.protocol.TestWire.pack;
import static org.cloudviper.protocol.TestWire.releaseTree;
import static org.cloudviper.protocol.TestWire.subObjects;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class MessageCodecTest {
    // ---- values ------------------------------------------------------------------------------

    /** Value and the bytes Python's msgpack 1.0.3 writes for it ({@code use_bin_type=True}). */
    private static final Object[][] PYTHON_SCALARS = {
            {0L, "00"}, {127L, "7f"}, {128L, "cc80"}, {255L, "ccff"}, {256L, "cd0100"}, {65535L, "cdffff"},
            {65536L, "ce00010000"}, {4294967295L, "ceffffffff"}, {4294967296L, "cf0000000100000000"},
            {Long.MAX_VALUE, "cf7fffffffffffffff"}, {new BigInteger("18446744073709551615"), "cfffffffffffffffff"},
            {-1L, "ff"}, {-32L, "e0"}, {-33L, "d0df"}, {-128L, "d080"}, {-129L, "d1ff7f"}, {-32768L, "d18000"},
            {-32769L, "d2ffff7fff"}, {-2147483648L, "d280000000"}, {-2147483649L, "d3ffffffff7fffffff"},
            {Long.MIN_VALUE, "d38000000000000000"},
            {1.5, "cb3ff8000000000000"}, {-0.0, "cb8000000000000000"}, {Double.POSITIVE_INFINITY, "cb7ff0000000000000"},
            {Double.NaN, "cb7ff8000000000000"},
            {null, "c0"}, {true, "c3"}, {false, "c2"},
            {"", "a0"}, {"é", "a2c3a9"}, {"😀", "a4f09f9880"},
            {new byte[0], "c400"}, {new byte[3], "c403000000"},
            {List.of(), "90"}, {Map.of(), "80"},
    };

    @Test
    void scalarsEncodeLikePythonAndDecodeBack() {
        for (Object[] row : PYTHON_SCALARS) {
            byte[] wire = hex((String) row[1]);
            assertArrayEquals(wire, pack(row[0]), "encoding of " + row[0]);
            Object back = MessageCodec.decodeValue(Unpooled.wrappedBuffer(wire));
            assertEquals(canonical(row[0]), canonical(back), "decoding of " + row[1]);
            if (row[0] != null && !(row[0] instanceof List) && !(row[0] instanceof Map)) {
                assertSame(row[0].getClass(), back.getClass(), "type of " + row[1]);
            }
        }
    }

    /** Header bytes Python writes for strings, binaries, arrays and maps at each length boundary. */
    @Test
    void containerHeadersLikePython() {
        Object[][] strings = {{31, "bf"}, {32, "d920"}, {255, "d9ff"}, {256, "da0100"}, {65535, "daffff"},
                {65536, "db00010000"}};
        for (Object[] row : strings) {
            int n = (Integer) row[0];
            assertHeader(hex((String) row[1]), "a".repeat(n), n);
        }
        // multi-byte text: the header counts UTF-8 bytes, whatever the Java string length (600 chars here)
        assertHeader(hex("da04b0"), "é".repeat(600), 1200);
        assertHeader(hex("d9ff"), "é".repeat(127) + "a", 255);
        assertHeader(hex("db00030000"), "€".repeat(65536), 3 * 65536);
        Object[][] bins = {{255, "c4ff"}, {256, "c50100"}, {65535, "c5ffff"}, {65536, "c600010000"}};
        for (Object[] row : bins) {
            int n = (Integer) row[0];
            assertHeader(hex((String) row[1]), new byte[n], n);
        }
        Object[][] arrays = {{15, "9f", "8f"}, {16, "dc0010", "de0010"}, {65535, "dcffff", "deffff"},
                {65536, "dd00010000", "df00010000"}};
        for (Object[] row : arrays) {
            int n = (Integer) row[0];
            assertHeader(hex((String) row[1]), Collections.nCopies(n, null), n);
            Map<Object, Object> m = new LinkedHashMap<>();
            for (long i = 0; i < n; i++) {
                m.put(i, null);
            }
            byte[] h = hex((String) row[2]);
            byte[] b = pack(m);
            assertArrayEquals(h, Arrays.copyOf(b, h.length), "map of " + n);
            assertEquals(m, MessageCodec.decodeValue(Unpooled.wrappedBuffer(b)));
        }
    }

    private static void assertHeader(byte[] header, Object value, int payload) {
        byte[] b = pack(value);
        assertArrayEquals(header, Arrays.copyOf(b, header.length), "header for " + payload);
        assertEquals(header.length + payload, b.length, "size for " + payload);
        assertEquals(canonical(value), canonical(MessageCodec.decodeValue(Unpooled.wrappedBuffer(b))));
    }

    @Test
    void roundTripOfAValueTree() {
        Map<Object, Object> m = new LinkedHashMap<>();
        m.put("op", "compute-task");
        m.put("priority", List.of(0L, 1L, -3L));
        m.put("duration", 3.552436828613281e-05);
        m.put("run_spec", null);
        m.put("function", new byte[] {(byte) 0x80, 5, (byte) 0x95});
        m.put("actor", false);
        m.put(List.of("sum-1", 0L, 1L), Map.of("nested", List.of(List.of(), Map.of())));
        m.put(7L, "int key");
        m.put(2.5, "float key");
        m.put("thread", 139730261350080L);
        m.put("big", new BigInteger("18446744073709551615"));
        m.put("ünïcödé ✓ 😀", "😀".repeat(100));
        m.put("__Set__", true);
        byte[] wire = pack(m);
        Object back = MessageCodec.decodeValue(Unpooled.wrappedBuffer(wire));
        assertEquals(canonical(m), canonical(back));
        assertEquals(new ArrayList<>(m.keySet()).toString(), new ArrayList<>(((Map<?, ?>) back).keySet()).toString(),
                "key order");
        assertArrayEquals(wire, pack(back));
    }

    /**
     * Short strs come from a per-thread cache of recent ones: thousands of distinct ones (so slots
     * are shared and overwritten), multi-byte ones, and ones differing only in their last byte or
     * their length must all decode to themselves, twice over.
     */
    @Test
    void shortStringsDecodeExactlyThroughTheCache() {
        List<Object> strs = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            strs.add("k" + i);
            strs.add("key-" + Integer.toHexString(i * 7919));
        }
        strs.addAll(List.of("", "a", "ab", "abc", "abd", "é", "ü✓", "😀😀", "x".repeat(23), "x".repeat(24),
                "x".repeat(25), "y".repeat(24)));
        byte[] wire = pack(strs);
        for (int round = 0; round < 2; round++) {
            assertEquals(strs, MessageCodec.decodeValue(Unpooled.wrappedBuffer(wire)), "round " + round);
        }
        // A str the cache holds, then one byte off and invalid: still rejected, not served from the cache.
        assertEquals("ab", MessageCodec.decodeValue(Unpooled.wrappedBuffer(hex("a2 6162"))));
        assertRejected("msgpack str of 2 bytes is not valid UTF-8", hex("a2 61ff"));
    }

    enum Color { RED }

    @Test
    void javaOnlyTypesEncodeAsTheirMsgpackEquivalents() {
        assertArrayEquals(hex("cd0100"), pack(256));
        assertArrayEquals(hex("d0df"), pack((short) -33));
        assertArrayEquals(hex("7f"), pack((byte) 127));
        assertArrayEquals(hex("cb3ff8000000000000"), pack(1.5f));
        assertArrayEquals(hex("92 01 02"), pack(new LinkedHashSet<>(List.of(1L, 2L))));
        assertArrayEquals(hex("92 a1 61 c0"), pack(new Object[] {"a", null}));
        assertArrayEquals(hex("a3 524544"), pack(Color.RED));
        assertArrayEquals(hex("92 81 a1 61 01 c3"), pack(List.of(new RawMsgpack(hex("81 a1 61 01")), true)));
    }

    /**
     * The per-thread packing array is reused: a message after a large one, after a failed one and
     * after a small one each encodes to exactly what a fresh msgpack packer writes.
     */
    @Test
    void encodingsStayExactAcrossReuseOfThePackingBuffer() throws Exception {
        Map<String, Object> small = new java.util.LinkedHashMap<>();
        small.put("op", "task-finished");
        small.put("key", "inc-1");
        small.put("nbytes", 28L);
        Map<String, Object> large = new java.util.LinkedHashMap<>();
        large.put("op", "big");
        large.put("payload", new byte[3 << 20]);
        Map<String, Object> bad = new java.util.LinkedHashMap<>();
        bad.put("op", "x");
        bad.put("what", new Object());
        for (Object m : new Object[] {small, large, small, bad, small, large, large, small}) {
            if (m == bad) {
                assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(bad));
                continue;
            }
            Frames f = MessageCodec.encode(m);
            org.msgpack.core.MessageBufferPacker fresh = org.msgpack.core.MessagePack.newDefaultBufferPacker();
            fresh.packMapHeader(((Map<?, ?>) m).size());
            for (Map.Entry<?, ?> e : ((Map<?, ?>) m).entrySet()) {
                fresh.packString((String) e.getKey());
                if (e.getValue() instanceof String v) {
                    fresh.packString(v);
                } else if (e.getValue() instanceof Long v) {
                    fresh.packLong(v);
                } else {
                    byte[] b = (byte[]) e.getValue();
                    fresh.packBinaryHeader(b.length);
                    fresh.writePayload(b);
                }
            }
            assertArrayEquals(fresh.toByteArray(), bytes(f.frames().get(0)));
            f.release();
        }
    }

    @Test
    void encodeRejectsUnknownTypesWithoutLeakingSubObjectFrames() {
        SubObject s = new SubObject(SubObject.Kind.PICKLED, Unpooled.wrappedBuffer(hex("81 ae 6e756d2d7375622d6672616d6573 00")), List.of());
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(List.of(s, new Object())));
        assertEquals(1, s.header().refCnt());
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.pack(s)); // holds a sub-object
        assertEquals(1, s.header().refCnt());
        s.release();
        assertEquals(0, s.header().refCnt());
    }

    /**
     * A deferred sub-object is written where it stands, from what materialize returns, even when
     * materialize packs its own header with the codec mid-message; what it returned is released.
     */
    @Test
    void deferredSubObjectIsMaterializedInPlaceAndReleased() {
        List<SubObject> made = new ArrayList<>();
        DeferredSubObject deferred = () -> {
            byte[] h = MessageCodec.pack(Map.of("num-sub-frames", 1L, "pickled-obj", new byte[] {7, 8}));
            SubObject s = new SubObject(SubObject.Kind.PICKLED, Unpooled.wrappedBuffer(h),
                    List.of(Unpooled.wrappedBuffer(new byte[] {9})));
            made.add(s);
            return s;
        };
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", "compute-task");
        msg.put("run_spec", deferred);
        msg.put("key", "after-the-sub-object");
        Frames f = MessageCodec.encode(msg);
        assertEquals(1, made.size());
        assertEquals(0, made.get(0).refCnt(), "the encoder keeps only its own references");
        assertEquals(3, f.count());
        Map<?, ?> back = (Map<?, ?>) MessageCodec.decode(f);
        assertEquals("after-the-sub-object", back.get("key"));
        SubObject s = assertInstanceOf(SubObject.class, back.get("run_spec"));
        Map<?, ?> header = (Map<?, ?>) MessageCodec.decodeValue(s.header());
        assertArrayEquals(new byte[] {7, 8}, (byte[]) header.get("pickled-obj"));
        assertArrayEquals(new byte[] {9}, bytes(s.frames().get(0)));
        MessageCodec.release(back);
    }

    /**
     * A message past one chunk of the packer's output comes out as a composite of its chunks, and
     * decodes to what was encoded (two payloads that straddle the chunk boundary, then a small one).
     */
    @Test
    void messagePastOneChunkRoundTrips() {
        byte[] a = new byte[ReusableBufferOutput.CHUNK / 2 + 11];
        byte[] b = new byte[ReusableBufferOutput.CHUNK / 2 + 13];
        Arrays.fill(a, (byte) 1);
        Arrays.fill(b, (byte) 2);
        a[a.length - 1] = 7;
        b[0] = 9;
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("a", a);
        msg.put("b", b);
        msg.put("c", "after");
        Frames f = MessageCodec.encode(msg);
        assertEquals(1, f.count());
        assertEquals(a.length + b.length + 30, f.frames().get(0).readableBytes(), 20);
        Map<?, ?> back = (Map<?, ?>) MessageCodec.decode(f);
        assertArrayEquals(a, (byte[]) back.get("a"));
        assertArrayEquals(b, (byte[]) back.get("b"));
        assertEquals("after", back.get("c"));
        // the thread's packer starts small again
        Frames small = MessageCodec.encode(Map.of("op", "x"));
        assertEquals(Map.of("op", "x"), MessageCodec.decode(small));
    }

    // ---- sub-objects -------------------------------------------------------------------------

    private static byte[] header(long numSubFrames) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("serializer", "pickle");
        h.put("writeable", List.of());
        h.put("compression", Collections.nCopies((int) Math.max(0, Math.min(numSubFrames, 4)), null));
        h.put("num-sub-frames", numSubFrames);
        return pack(h);
    }

    private static byte[] placeholder(String marker, long index) {
        return pack(Map.of(marker, index));
    }

    private static void assertFramesUnshared(Frames f) {
        for (ByteBuf b : f.frames()) {
            assertEquals(1, b.refCnt(), "a frame is still referenced by a sub-object");
        }
    }

    /**
     * Placeholders point at absolute frame indexes, whatever order they appear in frame 0; this
     * message names frame 3 before frame 1 and nests them in lists and maps.
     */
    /**
     * withDecoded is the one ownership path of a received message: the consumer sees the sub-objects
     * alive, and afterwards neither the frames nor the sub-objects hold a reference; a consumer that
     * throws still releases everything.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void withDecodedReleasesFramesAndSubObjects(boolean consumerThrows) {
        byte[] f0 = concat(hex("81 a1 61"), placeholder("__Serialized__", 1));
        byte[] h1 = header(1), d1 = "one".getBytes(StandardCharsets.US_ASCII);
        Frames in = frames(f0, h1, d1);
        List<ByteBuf> all = new ArrayList<>(in.frames());
        byte[][] seen = {null};
        Runnable call = () -> MessageCodec.withDecoded(in, tree -> {
            SubObject s = assertInstanceOf(SubObject.class, ((Map<?, ?>) tree).get("a"));
            seen[0] = bytes(s.frames().get(0));
            if (consumerThrows) {
                throw new IllegalStateException("consumer failed");
            }
        });
        if (consumerThrows) {
            assertThrows(IllegalStateException.class, call::run);
        } else {
            call.run();
        }
        assertArrayEquals(d1, seen[0]);
        TestWire.assertAllReleased(all);
    }

    /** A message that does not decode still has its frames released, and the error names the cause. */
    @Test
    void withDecodedReleasesFramesOfABadMessage() {
        Frames in = frames(hex("c1"));
        List<ByteBuf> all = new ArrayList<>(in.frames());
        assertThrows(ProtocolException.class, () -> MessageCodec.withDecoded(in, tree -> fail("not decoded")));
        TestWire.assertAllReleased(all);
    }

    @Test
    void subObjectsResolveAbsoluteIndexesWhereverTheyAre() {
        byte[] f0 = concat(hex("82 a1 61 92"), placeholder("__Pickled__", 3),
                hex("81 a1 78"), placeholder("__Serialized__", 1),
                hex("a1 62"), placeholder("__Serialized__", 6));
        byte[] h1 = header(1), d1 = "one".getBytes(StandardCharsets.US_ASCII);
        byte[] h3 = pack(Map.of("num-sub-frames", 2L, "pickled-obj", new byte[] {1, 2})), d3a = {10}, d3b = {};
        byte[] h6 = header(0);
        Frames in = frames(f0, h1, d1, h3, d3a, d3b, h6);
        Object v = MessageCodec.decode(in);

        Map<?, ?> m = (Map<?, ?>) v;
        List<?> a = (List<?>) m.get("a");
        SubObject pickled = assertInstanceOf(SubObject.class, a.get(0));
        SubObject serialized = assertInstanceOf(SubObject.class, ((Map<?, ?>) a.get(1)).get("x"));
        SubObject empty = assertInstanceOf(SubObject.class, m.get("b"));
        assertEquals(SubObject.Kind.PICKLED, pickled.kind());
        assertArrayEquals(h3, bytes(pickled.header()));
        assertEquals(2, pickled.frames().size());
        assertArrayEquals(d3a, bytes(pickled.frames().get(0)));
        assertArrayEquals(d3b, bytes(pickled.frames().get(1)));
        assertEquals(SubObject.Kind.SERIALIZED, serialized.kind());
        assertArrayEquals(h1, bytes(serialized.header()));
        assertArrayEquals(d1, bytes(serialized.frames().get(0)));
        assertEquals(3, serialized.dataBytes());
        assertEquals(0, empty.frames().size());
        assertArrayEquals(h6, bytes(empty.header()));

        // sub-objects own their frames: they outlive the message's own references
        in.release();
        assertArrayEquals(d1, bytes(serialized.frames().get(0)));

        // re-encoding numbers them in encounter order, as Python's dumps does
        Frames out = MessageCodec.encode(v);
        List<byte[]> outBytes = TestWire.bytes(out);
        assertArrayEquals(concat(hex("82 a1 61 92"), placeholder("__Pickled__", 1),
                hex("81 a1 78"), placeholder("__Serialized__", 4),
                hex("a1 62"), placeholder("__Serialized__", 6)), outBytes.get(0));
        List<byte[]> expected = List.of(h3, d3a, d3b, h1, d1, h6);
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), outBytes.get(i + 1), "frame " + (i + 1));
        }
        Object again = MessageCodec.decode(out);
        assertEquals(canonical(v), canonical(again));

        List<ByteBuf> all = new ArrayList<>(in.frames());
        all.addAll(out.frames());
        releaseTree(again);
        out.release();
        releaseTree(v);
        TestWire.assertAllReleased(all);
        assertEquals(0, pickled.refCnt());
    }

    /** When placeholders come in frame order (as Python writes them), frames round-trip exactly. */
    @Test
    void pythonOrderedMessageRoundTripsByteForByte() {
        byte[] f0 = concat(hex("92"), placeholder("__Serialized__", 1), placeholder("__Serialized__", 3));
        Frames in = frames(f0, header(1), hex("80044b022e"), header(2), hex("01"), hex("02"));
        Object v = MessageCodec.decode(in);
        Frames out = MessageCodec.encode(v);
        assertEquals(in.count(), out.count());
        for (int i = 0; i < in.count(); i++) {
            assertArrayEquals(bytes(in.frames().get(i)), bytes(out.frames().get(i)), "frame " + i);
        }
        releaseTree(v);
        out.release();
        assertFramesUnshared(in);
        in.release();
    }

    @Test
    void markersThatAreNotPlaceholdersStayMaps() {
        Object[] values = {
                Map.of("__Serialized__", true),
                new LinkedHashMap<>(Map.of("__Serialized__", true, "data", List.of(new byte[] {1}, new byte[] {2}))),
                new LinkedHashMap<>(Map.of("__Set__", true, "as-list", List.of("a", "b"))),
                Map.of("__serialized__", 1L),
        };
        for (Object value : values) {
            byte[] wire = pack(value);
            Frames in = frames(wire, header(0));
            Object back = MessageCodec.decode(in);
            assertEquals(canonical(value), canonical(back));
            assertTrue(subObjects(back).isEmpty());
            assertFramesUnshared(in);
            in.release();
        }
    }

    private static void assertRejected(String expectedMessage, byte[]... frameBytes) {
        Frames in = frames(frameBytes);
        ProtocolException e = assertThrows(ProtocolException.class, () -> MessageCodec.decode(in));
        if (expectedMessage != null) {
            assertEquals(expectedMessage, e.getMessage());
        }
        assertFramesUnshared(in); // sub-objects resolved before the failure were released
        in.release();
    }

    @Test
    void badPlaceholderIndexes() {
        byte[] h = header(1), d = hex("c0");
        // a good sub-object first, so a leak of its frames would show
        for (long bad : new long[] {0, -1, 3, 1L << 40}) {
            byte[] f0 = concat(hex("92"), placeholder("__Serialized__", 1), placeholder("__Serialized__", bad));
            assertRejected("__Serialized__ frame index: " + bad + " (expected: 1 .. 2)", f0, h, d);
        }
        assertRejected("__Pickled__ frame index: 1 (expected: 1 .. 0)", placeholder("__Pickled__", 1));
        byte[] big = concat(hex("81 ae"), "__Serialized__".getBytes(StandardCharsets.US_ASCII), hex("cf ffffffffffffffff"));
        assertRejected("__Serialized__ frame index: 18446744073709551615 (expected: 1 .. 2)", big, h, d);
    }

    @Test
    void numSubFramesBeyondTheMessage() {
        byte[] f0 = concat(hex("92"), placeholder("__Serialized__", 1), placeholder("__Pickled__", 3));
        byte[] h1 = header(1), d1 = hex("01");
        assertRejected("__Pickled__ num-sub-frames: 2 (expected: <= 1)", f0, h1, d1, header(2), hex("02"));
        assertRejected("__Pickled__ num-sub-frames: -1 (expected: <= 0)", f0, h1, d1, header(-1));
        assertRejected("__Pickled__ num-sub-frames: 9223372036854775807 (expected: <= 0)", f0, h1, d1,
                header(Long.MAX_VALUE));
    }

    @Test
    void malformedSubHeaders() {
        byte[] f0 = concat(hex("92"), placeholder("__Serialized__", 1), placeholder("__Serialized__", 3));
        byte[] h1 = header(1), d1 = hex("01");
        assertRejected("sub-object header has no num-sub-frames", f0, h1, d1, pack(Map.of("serializer", "pickle")));
        assertRejected("sub-object header is not a msgpack map", f0, h1, d1, pack(List.of(1L)));
        assertRejected(null, f0, h1, d1, new byte[0]);
        assertRejected(null, f0, h1, d1, Arrays.copyOf(header(1), 10));
        assertRejected(null, f0, h1, d1, pack(Map.of("num-sub-frames", "one")));
        assertRejected(null, f0, h1, d1, hex("df ffffffff"));
    }

    // ---- hostile frame 0 ---------------------------------------------------------------------

    @Test
    void deepNestingIsRefusedNotAStackOverflow() {
        int depth = 10_000;
        byte[] arrays = new byte[depth + 1];
        Arrays.fill(arrays, (byte) 0x91);
        arrays[depth] = (byte) 0xc0;
        assertRejected("message nesting: 257 (expected: <= 256)", arrays);

        byte[] maps = new byte[3 * depth + 1];
        for (int i = 0; i < depth; i++) {
            maps[3 * i] = (byte) 0x81;
            maps[3 * i + 1] = (byte) 0xa1;
            maps[3 * i + 2] = 'k';
        }
        maps[3 * depth] = (byte) 0xc0;
        assertRejected("message nesting: 257 (expected: <= 256)", maps);

        // in a sub-object's position too, after a resolved sub-object
        byte[] mixed = concat(hex("92"), placeholder("__Serialized__", 1), arrays);
        assertRejected("message nesting: 257 (expected: <= 256)", mixed, header(0));

        Object deep = null;
        for (int i = 0; i < depth; i++) {
            deep = Collections.singletonList(deep);
        }
        Object tooDeep = deep;
        assertThrows(IllegalArgumentException.class, () -> MessageCodec.encode(tooDeep));
    }

    @Test
    void nestingUpToTheLimitIsAccepted() {
        byte[] arrays = new byte[MessageCodec.MAX_DEPTH + 1];
        Arrays.fill(arrays, (byte) 0x91);
        arrays[MessageCodec.MAX_DEPTH] = (byte) 0xc0;
        Object v = MessageCodec.decodeValue(Unpooled.wrappedBuffer(arrays));
        assertArrayEquals(arrays, pack(v));
    }

    /** Every proper prefix of a message is truncated msgpack. */
    @Test
    void truncatedFrame0() throws Exception {
        List<byte[]> samples = new ArrayList<>();
        Map<Object, Object> m = new LinkedHashMap<>();
        for (Object[] row : PYTHON_SCALARS) {
            m.put("k" + m.size(), row[0]);
        }
        samples.add(pack(m));
        samples.add(CapturedMessagesTest.frame0("worker-to-scheduler.register-worker.bin"));
        samples.add(CapturedMessagesTest.frame0("worker-to-scheduler.task-erred.bin"));
        for (byte[] s : samples) {
            for (int i = 0; i < s.length; i++) {
                final byte[] prefix = Arrays.copyOf(s, i);
                ProtocolException e = assertThrows(ProtocolException.class,
                        () -> MessageCodec.decode(frames(prefix, header(0), header(0), header(0), header(0))),
                        "prefix of " + i + " bytes");
                assertTrue(e.getMessage().startsWith("malformed msgpack") || e.getMessage().startsWith("msgpack length"),
                        e.getMessage());
            }
        }
    }

    @Test
    void trailingBytes() {
        assertRejected("frame 0 has trailing bytes after the msgpack value", hex("c0 c0"));
        assertRejected("frame 0 has trailing bytes after the msgpack value",
                concat(placeholder("__Serialized__", 1), hex("00")), header(0));
    }

    @Test
    void emptyMessages() {
        assertEquals("message has no frames (expected: >= 1)",
                assertThrows(ProtocolException.class, () -> MessageCodec.decode(new Frames(List.of()))).getMessage());
        assertRejected(null, new byte[0]);
    }

    /** A declared length larger than the frame is refused before anything is allocated for it. */
    @ParameterizedTest
    @ValueSource(strings = {"dd 7fffffff", "dd 80000000", "dd ffffffff", "df 7fffffff", "df ffffffff",
            "db 7fffffff", "db ffffffff", "c6 7fffffff", "c6 ffffffff", "dc ffff", "de ffff", "da ffff", "c5 ffff"})
    void hugeDeclaredLengths(String head) {
        byte[] frame = Arrays.copyOf(hex(head), 10); // the header plus a few zero bytes: 10 bytes in all
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        Frames in = frames(frame);
        assertThrows(ProtocolException.class, () -> MessageCodec.decode(in));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < (1 << 20), "allocated " + allocated + " bytes for a 10-byte frame");
        in.release();
    }

    @Test
    void lengthLimitMessage() {
        assertRejected("msgpack length: 2147483647 (expected: <= 5)", Arrays.copyOf(hex("dd 7fffffff"), 10));
    }

    @Test
    void extensionAndReservedTypes() {
        assertRejected("msgpack extension types are not part of the Dask protocol", hex("d4 01 00"));
        assertRejected("msgpack extension types are not part of the Dask protocol", hex("91 c7 01 05 00"));
        assertRejected(null, hex("c1"));
    }

    /** Python decodes with {@code raw=False}: a str that is not UTF-8 is an error there too. */
    @Test
    void strictUtf8() {
        assertRejected("msgpack str of 1 bytes is not valid UTF-8", hex("a1 ff"));
        assertRejected("msgpack str of 3 bytes is not valid UTF-8", hex("81 a3 eda080 c0")); // a UTF-16 surrogate
        assertRejected("msgpack str of 2 bytes is not valid UTF-8", hex("a2 c0af")); // overlong "/"
        assertEquals("\u0000", MessageCodec.decodeValue(Unpooled.wrappedBuffer(hex("a1 00"))));
        // ASCII is checked eight bytes at a time: a high byte in the tail or in a later word counts
        assertRejected("msgpack str of 17 bytes is not valid UTF-8", hex("b1 6162636465666768 6162636465666768 ff"));
        assertRejected("msgpack str of 16 bytes is not valid UTF-8", hex("b0 6162636465666768 61626364656667c0"));
        assertEquals("abcdefghijklmnop\u00e9", MessageCodec.decodeValue(Unpooled.wrappedBuffer(
                hex("b2 6162636465666768 696a6b6c6d6e6f70 c3a9"))));
        assertEquals("abcdefghijklmnop", MessageCodec.decodeValue(Unpooled.wrappedBuffer(
                hex("b0 6162636465666768 696a6b6c6d6e6f70"))));
    }

    @Test
    void duplicateMapKeys() {
        byte[] f0 = concat(hex("82 a1 61"), placeholder("__Serialized__", 1), hex("a1 61 c0"));
        assertRejected("duplicate map key: a", f0, header(1), hex("01"));
        assertRejected("duplicate map key: [1, 2]", hex("82 92 01 02 c0 92 01 02 c3"));
    }

    @Test
    void directAndOffsetBuffersDecode() {
        byte[] f0 = concat(hex("92"), placeholder("__Serialized__", 1), pack("x".repeat(1000)));
        byte[] h = header(1);
        List<ByteBuf> bufs = new ArrayList<>();
        for (byte[] b : List.of(f0, h, hex("0102"))) {
            ByteBuf d = Unpooled.directBuffer(b.length + 7);
            d.writeZero(7).writeBytes(b).skipBytes(7);
            bufs.add(d);
        }
        Frames in = new Frames(bufs);
        Object v = MessageCodec.decode(in);
        List<?> l = (List<?>) v;
        assertEquals("x".repeat(1000), l.get(1));
        assertArrayEquals(hex("0102"), bytes(((SubObject) l.get(0)).frames().get(0)));
        Frames out = MessageCodec.encode(v);
        assertArrayEquals(f0, bytes(out.frames().get(0)));
        out.release();
        releaseTree(v);
        assertFramesUnshared(in);
        in.release();
    }

    /**
     * Random corruptions of real messages: decoding either succeeds or throws ProtocolException,
     * never anything else, and never keeps a reference to the message's frames after a failure.
     */
    @Test
    void corruptedMessagesFailCleanly() throws Exception {
        List<List<byte[]>> seeds = new ArrayList<>();
        for (String name : List.of("worker-to-scheduler.task-erred.bin", "scheduler-to-client.gather-reply-five-results.bin",
                "client-to-scheduler.update-graph-hlg-submit.bin", "scheduler-to-worker.compute-task-batch.bin")) {
            seeds.add(CapturedMessagesTest.frameBytes(name));
        }
        Random rnd = new Random(42);
        int ok = 0, rejected = 0;
        for (int round = 0; round < 4000; round++) {
            List<byte[]> seed = seeds.get(round % seeds.size());
            byte[][] mutated = new byte[seed.size()][];
            for (int i = 0; i < seed.size(); i++) {
                mutated[i] = seed.get(i).clone();
            }
            int target = rnd.nextInt(4) == 0 ? rnd.nextInt(mutated.length) : 0;
            byte[] f = mutated[target];
            int edits = 1 + rnd.nextInt(4);
            for (int e = 0; e < edits && f.length > 0; e++) {
                int pos = rnd.nextInt(f.length);
                switch (rnd.nextInt(3)) {
                    case 0 -> f[pos] = (byte) rnd.nextInt(256);
                    case 1 -> f[pos] ^= (byte) (1 << rnd.nextInt(8));
                    default -> f = mutated[target] = Arrays.copyOf(f, pos);
                }
            }
            Frames in = frames(mutated);
            try {
                Object v = MessageCodec.decode(in);
                ok++;
                Frames out = MessageCodec.encode(v);
                out.release();
                releaseTree(v);
            } catch (ProtocolException e) {
                rejected++;
            } catch (Throwable t) {
                fail("round " + round + ": " + t, t);
            }
            assertFramesUnshared(in);
            in.release();
        }
        assertTrue(ok > 100 && rejected > 100, "ok " + ok + ", rejected " + rejected);
    }

    @Test
    void decodeValueOfNil() {
        assertNull(MessageCodec.decodeValue(Unpooled.wrappedBuffer(hex("c0"))));
    }
}
