package org.cloudviper.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.cloudviper.testkit.Captures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.cloudviper.protocol.TestWire.bytes;
import static org.cloudviper.protocol.TestWire.concat;
import static org.cloudviper.protocol.TestWire.hex;
import static org.cloudviper.protocol.TestWire.randomFragments;
import static org.cloudviper.protocol.TestWire.releaseTree;
import static org.cloudviper.protocol.TestWire.subObjects;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Messages captured from real distributed 2022.12.1 peers (see the README next to them) must
 * survive FrameDecoder, MessageCodec.decode, MessageCodec.encode and FrameEncoder byte for byte:
 * the scheduler relays what it does not understand, and Python peers compare nothing but bytes.
 */
class CapturedMessagesTest {
    static Stream<String> captures() {
        return Captures.names(Captures.DASK_2022).stream();
    }

    static byte[] raw(String name) {
        return Captures.raw(Captures.DASK_2022, name);
    }

    /** The frames of a capture, split by hand from the prelude (independent of FrameDecoder). */
    static List<byte[]> frameBytes(String name) {
        return Captures.frames(Captures.DASK_2022, name);
    }

    static byte[] frame0(String name) {
        return frameBytes(name).get(0);
    }

    @Test
    void aRepresentativeSelectionIsThere() {
        List<String> names = captures().toList();
        assertTrue(names.size() >= 25, names.toString());
        long total = 0;
        for (String n : names) {
            total += raw(n).length;
        }
        assertTrue(total < 200_000, "captures take " + total + " bytes");
    }

    @ParameterizedTest
    @MethodSource("captures")
    void roundTripsByteForByte(String name) {
        byte[] raw = raw(name);
        Random rnd = new Random(name.hashCode());
        for (int round = 0; round < 6; round++) {
            TrackingAllocator alloc = new TrackingAllocator(round % 2 == 1);
            List<byte[]> fragments = round == 0 ? List.of(raw) : randomFragments(raw, rnd, 1 + rnd.nextInt(round < 3 ? 64 : raw.length));
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(FrameLimits.DEFAULT));
            ch.config().setAllocator(alloc);
            for (byte[] f : fragments) {
                ch.writeInbound(alloc.input(f));
            }
            Frames frames = ch.readInbound();
            assertNull(ch.readInbound(), name + ": one message per capture");
            assertFalse(ch.finish());

            Object message = MessageCodec.decode(frames);
            frames.release();
            ByteBuf out = FrameEncoder.toBuffer(alloc, MessageCodec.encode(message));
            try {
                assertArrayEquals(raw, bytes(out), name + " round " + round);
            } finally {
                out.release();
                releaseTree(message);
            }
            alloc.assertAllReleased();
        }
    }

    /** All captures of one peer's direction back to back, as one TCP stream, in random fragments. */
    @Test
    void aWholeStreamOfCaptures() {
        List<String> names = captures().filter(n -> n.startsWith("client-to-scheduler.")).toList();
        List<byte[]> raws = names.stream().map(CapturedMessagesTest::raw).toList();
        byte[] stream = concat(raws.toArray(new byte[0][]));
        Random rnd = new Random(7);
        for (int round = 0; round < 20; round++) {
            TrackingAllocator alloc = new TrackingAllocator(round % 2 == 0);
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(FrameLimits.DEFAULT));
            ch.config().setAllocator(alloc);
            for (byte[] f : randomFragments(stream, rnd, 1 + rnd.nextInt(3000))) {
                ch.writeInbound(alloc.input(f));
            }
            for (int i = 0; i < raws.size(); i++) {
                Frames frames = ch.readInbound();
                Object message = MessageCodec.decode(frames);
                frames.release();
                ByteBuf out = FrameEncoder.toBuffer(alloc, MessageCodec.encode(message));
                assertArrayEquals(raws.get(i), bytes(out), names.get(i));
                out.release();
                releaseTree(message);
            }
            assertNull(ch.readInbound());
            assertFalse(ch.finish());
            alloc.assertAllReleased();
        }
    }

    private static Object decode(String name) {
        List<byte[]> f = frameBytes(name);
        Frames frames = TestWire.frames(f.toArray(new byte[0][]));
        try {
            return MessageCodec.decode(frames);
        } finally {
            frames.release();
        }
    }

    // ---- what the round trip carried: spot checks of the decoded values ----------------------

    @Test
    void handshake() {
        Object v = decode("handshake.bin");
        assertEquals(Map.of("compression", "lz4", "python", List.of(3L, 11L, 2L), "pickle-protocol", 5L), v);
    }

    @Test
    void registerWorker() {
        Map<?, ?> m = (Map<?, ?>) decode("worker-to-scheduler.register-worker.bin");
        assertEquals("register-worker", m.get("op"));
        assertEquals(false, m.get("reply"));
        assertEquals(12638255104L, m.get("memory_limit"));
        assertEquals(List.of(), m.get("keys"));
        assertInstanceOf(Double.class, m.get("now"));
        Map<?, ?> reply = (Map<?, ?>) decode("scheduler-to-worker.register-worker-reply.bin");
        assertEquals("OK", reply.get("status"));
        assertEquals(0.5, reply.get("heartbeat-interval"));
    }

    @Test
    void streamBatchesAreLists() {
        List<?> batch = (List<?>) decode("scheduler-to-worker.compute-task-batch.bin");
        assertEquals(2, batch.size());
        Map<?, ?> task = (Map<?, ?>) batch.get(0);
        assertEquals("compute-task", task.get("op"));
        assertEquals(List.of(0L, 1L, 0L), task.get("priority"));
        assertInstanceOf(byte[].class, task.get("function"));
        assertNull(task.get("run_spec"));
        List<?> close = (List<?>) decode("client-to-scheduler.close-client.bin");
        assertEquals(List.of(Map.of("op", "close-client"), Map.of("op", "close-stream")), close);
    }

    @Test
    void graphKeysAreStringified() {
        List<?> batch = (List<?>) decode("client-to-scheduler.update-graph-hlg-dask-array.bin");
        Map<?, ?> m = (Map<?, ?>) batch.get(0);
        assertEquals("update-graph-hlg", m.get("op"));
        for (Object key : (List<?>) m.get("keys")) {
            assertInstanceOf(String.class, key);
        }
        Map<?, ?> hlg = (Map<?, ?>) m.get("hlg");
        assertFalse(((List<?>) hlg.get("layers")).isEmpty());
    }

    @Test
    void taskErredCarriesOpaqueSerializedExceptionAndTraceback() {
        for (String name : List.of("worker-to-scheduler.task-erred.bin", "scheduler-to-client.task-erred.bin")) {
            Object v = decode(name);
            Map<?, ?> m = (Map<?, ?>) ((List<?>) v).get(0);
            assertEquals("task-erred", m.get("op"));
            SubObject exc = assertInstanceOf(SubObject.class, m.get("exception"));
            SubObject tb = assertInstanceOf(SubObject.class, m.get("traceback"));
            assertEquals(SubObject.Kind.SERIALIZED, exc.kind());
            Map<?, ?> header = (Map<?, ?>) MessageCodec.decodeValue(exc.header());
            assertEquals("dask", header.get("serializer"));
            assertEquals("bytes", header.get("type"));
            assertEquals(1L, header.get("num-sub-frames"));
            assertEquals(747, exc.dataBytes());
            assertEquals(368, tb.dataBytes());
            releaseTree(v);
        }
        // the scheduler forwards the worker's sub-frames unchanged
        List<byte[]> fromWorker = frameBytes("worker-to-scheduler.task-erred.bin");
        List<byte[]> toClient = frameBytes("scheduler-to-client.task-erred.bin");
        for (int i = 1; i < 5; i++) {
            assertArrayEquals(fromWorker.get(i), toClient.get(i));
        }
    }

    @Test
    void gatherReplyResultsInFrameOrder() {
        Object v = decode("scheduler-to-client.gather-reply-five-results.bin");
        Map<?, ?> data = (Map<?, ?>) ((Map<?, ?>) v).get("data");
        for (Object o : data.values()) {
            assertEquals(1, ((SubObject) o).frames().size());
        }
        // pickle protocol 4 ints 4, 3, 2, 5, 1 (80 04 4b xx 2e): the scheduler's outgoing links say 4
        assertEquals(List.of(4, 3, 2, 5, 1), data.values().stream()
                .map(o -> (int) TestWire.bytes(((SubObject) o).frames().get(0))[3]).toList());
        for (Object o : data.values()) {
            assertArrayEquals(hex("80 04 4b"), Arrays.copyOf(TestWire.bytes(((SubObject) o).frames().get(0)), 3));
        }
        assertEquals(5, subObjects(v).size());
        releaseTree(v);
    }

    @Test
    void scatterAndPublishCarrySerializedData() {
        Object scatter = decode("client-to-scheduler.scatter.bin");
        SubObject s = (SubObject) ((Map<?, ?>) ((Map<?, ?>) scatter).get("data")).values().iterator().next();
        assertArrayEquals(hex("80 05 4b 29 2e"), TestWire.bytes(s.frames().get(0))); // 41, pickled by the client
        releaseTree(scatter);
        Object publish = decode("client-to-scheduler.publish_put.bin");
        assertInstanceOf(SubObject.class, ((Map<?, ?>) publish).get("data"));
        releaseTree(publish);
    }

    @Test
    void nilReply() {
        assertNull(decode("scheduler-to-client.cancel-reply-nil.bin"));
        assertEquals(List.of("int-517c6834275f1aa7cd8be9d33eca6516"), decode("scheduler-to-client.scatter-reply.bin"));
    }
}
