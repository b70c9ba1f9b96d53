package org.cloudviper.protocol.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.TrackingAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.cloudviper.protocol.TestWire.bytes;
import static org.cloudviper.protocol.TestWire.concat;
import static org.cloudviper.protocol.TestWire.hex;
import static org.cloudviper.protocol.TestWire.message;
import static org.cloudviper.protocol.TestWire.randomFragments;
import static org.cloudviper.protocol.TestWire.u64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameDecoderTest {
    /**
     * {@code [{"op":"close-client"},{"op":"close-stream"}]}, the example of docs/dask-protocol.md §1.1 (both
     * strings are 12 bytes, fixstr {@code ac}), byte for byte as a 2022 client sent it.
     */
    private static final byte[] CLOSE_MSGPACK = hex("92 81 a2 6f70 ac 636c6f73652d636c69656e74 81 a2 6f70 ac 636c6f73652d73747265616d");
    private static final byte[] CLOSE_WIRE = concat(hex("3300000000000000 0100000000000000 2300000000000000"), CLOSE_MSGPACK);

    /** Several messages back to back: one frame, sub-object frames, an empty frame, 2024-style L. */
    private static final List<List<byte[]>> STREAM_FRAMES = List.of(
            List.of(CLOSE_MSGPACK),
            List.of(hex("81 a4 64617461 81 ae 5f5f53657269616c697a65645f5f 01"), // {"data": {"__Serialized__": 1}}
                    hex("81 ae 6e756d2d7375622d6672616d6573 02"), // {"num-sub-frames": 2}
                    "first".getBytes(StandardCharsets.US_ASCII), new byte[0]),
            List.of(hex("c0")),
            List.of(hex("90"), new byte[300]));

    private static byte[] wire(List<byte[]> frames) {
        return message(frames.toArray(new byte[0][]));
    }

    /** The last message of the stream is written 2024-style: L covers only the prelude and frame 0. */
    private static byte[] stream() {
        List<byte[]> parts = new ArrayList<>();
        for (int i = 0; i < STREAM_FRAMES.size() - 1; i++) {
            parts.add(wire(STREAM_FRAMES.get(i)));
        }
        List<byte[]> last = STREAM_FRAMES.get(STREAM_FRAMES.size() - 1);
        parts.add(message(8 + 8 * 2 + last.get(0).length, 2, last.get(0), last.get(1)));
        return concat(parts.toArray(new byte[0][]));
    }

    private static EmbeddedChannel channel(TrackingAllocator alloc, FrameLimits limits) {
        EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(limits));
        ch.config().setAllocator(alloc);
        return ch;
    }

    private static TrackingAllocator alloc(String kind) {
        return new TrackingAllocator("direct".equals(kind));
    }

    /** Reads every decoded message, compares it with the expected frames and releases it. */
    private static void assertDecoded(EmbeddedChannel ch, List<List<byte[]>> expected, String context) {
        for (int m = 0; m < expected.size(); m++) {
            Object o = ch.readInbound();
            assertInstanceOf(Frames.class, o, context + ": message " + m);
            Frames f = (Frames) o;
            try {
                List<byte[]> want = expected.get(m);
                assertEquals(want.size(), f.count(), context + ": frame count of message " + m);
                for (int i = 0; i < want.size(); i++) {
                    assertArrayEquals(want.get(i), bytes(f.frames().get(i)), context + ": message " + m + " frame " + i);
                }
            } finally {
                f.release();
            }
        }
        assertNull(ch.readInbound(), context + ": unexpected extra message");
    }

    private static void feedAndCheck(TrackingAllocator alloc, List<byte[]> fragments, String context) {
        EmbeddedChannel ch = channel(alloc, FrameLimits.DEFAULT);
        for (byte[] f : fragments) {
            ch.writeInbound(alloc.input(f));
        }
        assertDecoded(ch, STREAM_FRAMES, context);
        assertFalse(ch.finish(), context + ": pending messages after finish");
        alloc.assertAllReleased();
    }

    @Test
    void docExampleDecodes() {
        TrackingAllocator alloc = new TrackingAllocator(false);
        EmbeddedChannel ch = channel(alloc, FrameLimits.DEFAULT);
        assertArrayEquals(wire(List.of(CLOSE_MSGPACK)), CLOSE_WIRE);
        ch.writeInbound(alloc.input(CLOSE_WIRE));
        assertDecoded(ch, List.of(List.of(CLOSE_MSGPACK)), "doc example");
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    @ParameterizedTest
    @ValueSource(strings = {"heap", "direct"})
    void splitAtEveryOffset(String kind) {
        byte[] s = stream();
        for (int i = 0; i <= s.length; i++) {
            TrackingAllocator alloc = alloc(kind);
            feedAndCheck(alloc, List.of(Arrays.copyOfRange(s, 0, i), Arrays.copyOfRange(s, i, s.length)), "split at " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"heap", "direct"})
    void splitAtEveryPairOfOffsets(String kind) {
        byte[] s = stream();
        for (int i = 0; i <= s.length; i += 3) {
            for (int j = i; j <= s.length; j += 5) {
                TrackingAllocator alloc = alloc(kind);
                feedAndCheck(alloc, List.of(Arrays.copyOfRange(s, 0, i), Arrays.copyOfRange(s, i, j),
                        Arrays.copyOfRange(s, j, s.length)), "split at " + i + ", " + j);
            }
        }
    }

    @Test
    void oneByteAtATime() {
        byte[] s = stream();
        List<byte[]> fragments = new ArrayList<>();
        for (byte b : s) {
            fragments.add(new byte[] {b});
        }
        feedAndCheck(new TrackingAllocator(true), fragments, "byte by byte");
    }

    @ParameterizedTest
    @ValueSource(strings = {"heap", "direct"})
    void randomFragmentSizes(String kind) {
        Random rnd = new Random(20221201);
        byte[] s = stream();
        for (int round = 0; round < 300; round++) {
            int max = 1 + rnd.nextInt(round % 2 == 0 ? 16 : s.length);
            feedAndCheck(alloc(kind), randomFragments(s, rnd, max), "round " + round + " max " + max);
        }
    }

    @Test
    void messagesAreEmittedAsSoonAsComplete() {
        TrackingAllocator alloc = new TrackingAllocator(false);
        EmbeddedChannel ch = channel(alloc, FrameLimits.DEFAULT);
        byte[] first = wire(STREAM_FRAMES.get(0));
        byte[] second = wire(STREAM_FRAMES.get(1));
        ch.writeInbound(alloc.input(concat(first, Arrays.copyOf(second, 20))));
        assertDecoded(ch, List.of(STREAM_FRAMES.get(0)), "first");
        ch.writeInbound(alloc.input(Arrays.copyOfRange(second, 20, second.length)));
        assertDecoded(ch, List.of(STREAM_FRAMES.get(1)), "second");
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    /**
     * distributed 2024 (comm/tcp.py _add_frames_header) sets L to the prelude plus a leading run of
     * frames; the large buffers after it are read by their prelude lengths.
     */
    @Test
    void lCoveringOnlyAPrefixOfTheFrames() {
        byte[] f0 = hex("81 a4 64617461 81 ae 5f5f53657269616c697a65645f5f 01");
        byte[] h1 = hex("81 ae 6e756d2d7375622d6672616d6573 01");
        byte[] big = new byte[5000];
        new Random(1).nextBytes(big);
        long prefixL = 8 + 8 * 3 + f0.length + h1.length;
        byte[] m2024 = message(prefixL, 3, f0, h1, big);
        byte[] m2022 = wire(List.of(CLOSE_MSGPACK));
        byte[] s = concat(m2024, m2022, m2024);
        List<List<byte[]>> expected = List.of(List.of(f0, h1, big), List.of(CLOSE_MSGPACK), List.of(f0, h1, big));
        for (int i = 0; i <= s.length; i += 7) {
            TrackingAllocator alloc = new TrackingAllocator(i % 2 == 0);
            EmbeddedChannel ch = channel(alloc, FrameLimits.DEFAULT);
            ch.writeInbound(alloc.input(Arrays.copyOfRange(s, 0, i)));
            ch.writeInbound(alloc.input(Arrays.copyOfRange(s, i, s.length)));
            assertDecoded(ch, expected, "2024 split at " + i);
            assertFalse(ch.finish());
            alloc.assertAllReleased();
        }
    }

    @Test
    void tryReadLeavesIncompleteInputUntouched() {
        byte[] m = wire(STREAM_FRAMES.get(1));
        TrackingAllocator alloc = new TrackingAllocator(false);
        for (int i = 0; i < m.length; i++) {
            ByteBuf b = alloc.input(Arrays.copyOf(m, i));
            assertNull(FrameDecoder.tryRead(b, FrameLimits.DEFAULT), "prefix " + i);
            assertEquals(0, b.readerIndex());
            b.release();
        }
        ByteBuf b = alloc.input(concat(m, hex("01 02")));
        Frames f = FrameDecoder.tryRead(b, FrameLimits.DEFAULT);
        assertEquals(m.length, b.readerIndex());
        assertEquals(4, f.count());
        f.release();
        b.release();
        alloc.assertAllReleased();
    }

    @Test
    void truncatedStreamLeavesNothingBehind() {
        byte[] m = wire(STREAM_FRAMES.get(1));
        TrackingAllocator alloc = new TrackingAllocator(false);
        EmbeddedChannel ch = channel(alloc, FrameLimits.DEFAULT);
        ch.writeInbound(alloc.input(Arrays.copyOf(m, 10)));
        ch.writeInbound(alloc.input(Arrays.copyOfRange(m, 10, m.length - 1)));
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
        alloc.assertAllReleased(); // the cumulation holding the partial message was freed on close
    }

    // ---- limits ------------------------------------------------------------------------------

    /**
     * Feeds {@code bad} one byte at a time after {@code good}; the failure must come as soon as the
     * offending prelude field is complete, at byte {@code failAt} of {@code bad}, never later.
     */
    private static void assertRejected(FrameLimits limits, byte[] bad, int failAt, String expectedMessage) {
        byte[] good = wire(STREAM_FRAMES.get(0));
        TrackingAllocator alloc = new TrackingAllocator(false);
        EmbeddedChannel ch = channel(alloc, limits);
        ch.writeInbound(alloc.input(good));
        assertDecoded(ch, List.of(STREAM_FRAMES.get(0)), "before the bad message");
        for (int i = 0; i < failAt - 1; i++) {
            ch.writeInbound(alloc.input(new byte[] {bad[i]}));
        }
        DecoderException e = assertThrows(DecoderException.class,
                () -> ch.writeInbound(alloc.input(new byte[] {bad[failAt - 1]})));
        ProtocolException pe = assertInstanceOf(ProtocolException.class, e.getCause());
        assertEquals(expectedMessage, pe.getMessage());

        // the decoder reads nothing more from this peer, not even a well-formed message
        ch.writeInbound(alloc.input(Arrays.copyOfRange(bad, failAt, bad.length)));
        ch.writeInbound(alloc.input(good));
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    @Test
    void frameCountLimit() {
        byte[] bad = concat(u64(100), u64(1L << 40), u64(1));
        assertRejected(FrameLimits.DEFAULT, bad, 16, "frame count: 1099511627776 (expected: <= 1000000)");
    }

    @Test
    void frameCountAboveSignedRange() {
        byte[] bad = concat(u64(100), u64(-1), u64(1));
        assertRejected(FrameLimits.DEFAULT, bad, 16, "frame count: 18446744073709551615 (expected: <= 1000000)");
    }

    @Test
    void frameCountThatNoBufferCouldHold() {
        // 300 million lengths would be a 2.4 GB prelude: more than an int-indexed buffer can hold
        FrameLimits limits = new FrameLimits(Long.MAX_VALUE, 1000, Long.MAX_VALUE);
        byte[] bad = concat(u64(Long.MAX_VALUE), u64(300_000_000L), u64(1));
        assertRejected(limits, bad, 16, "frame count: 300000000 (expected: <= 268435453)");
    }

    @Test
    void frameSizeLimit() {
        byte[] bad = concat(u64(8 + 16 + 5), u64(2), u64(5), u64(3_000_000_000L), new byte[5]);
        assertRejected(FrameLimits.DEFAULT, bad, 32, "frame size: 3000000000 (expected: <= 2147483647)");
    }

    @Test
    void frameSizeLimitConfigured() {
        byte[] bad = concat(u64(8 + 8 + 101), u64(1), u64(101), new byte[101]);
        assertRejected(new FrameLimits(10, 100, 1000), bad, 24, "frame size: 101 (expected: <= 100)");
    }

    @Test
    void frameSizeAboveSignedRange() {
        byte[] bad = concat(u64(8 + 8), u64(1), u64(-2));
        assertRejected(FrameLimits.DEFAULT, bad, 24, "frame size: 18446744073709551614 (expected: <= 2147483647)");
    }

    @Test
    void messageSizeLimit() {
        byte[] bad = concat(u64(8 + 24), u64(3), u64(100), u64(60), u64(40), new byte[200]);
        assertRejected(new FrameLimits(10, 100, 150), bad, 40, "message size: 160 (expected: <= 150)");
    }

    /**
     * The default limits allow 16 GiB messages, but this decoder holds a whole message in one
     * int-indexed cumulation buffer: a 2 GiB - 1 frame (under maxFrameSize) plus its prelude must fail
     * at the prelude, not after buffering gigabytes and overflowing the cumulation. L is written
     * 2024-style (prelude only) so that only the frame lengths can tell.
     */
    @Test
    void messageSizeBeyondOneBuffer() {
        byte[] bad = concat(u64(8 + 16), u64(2), u64(Integer.MAX_VALUE), u64(Integer.MAX_VALUE));
        assertRejected(FrameLimits.DEFAULT, bad, 32, "message size: 2147483647 (expected: <= 2147483615)");
    }

    @Test
    void lLargerThanAnyAllowedMessage() {
        byte[] bad = concat(u64(8 + 8 + 1001), u64(1), u64(1), hex("c0"));
        assertRejected(new FrameLimits(10, 1000, 1000), bad, 16, "message length: 1017 (expected: <= 1016)");
    }

    @Test
    void lAboveSignedRange() {
        byte[] bad = concat(u64(-1), u64(1), u64(1), hex("c0"));
        assertRejected(FrameLimits.DEFAULT, bad, 16, "message length: 18446744073709551615 (expected: <= 2147483639)");
    }

    @Test
    void lSmallerThanThePrelude() {
        byte[] bad = concat(u64(8 + 8 * 2 - 1), u64(2), u64(1), u64(1), hex("c0 c0"));
        assertRejected(FrameLimits.DEFAULT, bad, 16, "message length: 23 (expected: >= 24)");
    }

    @Test
    void messagesBeforeTheBadOneInTheSameReadAreDelivered() {
        TrackingAllocator alloc = new TrackingAllocator(false);
        EmbeddedChannel ch = channel(alloc, FrameLimits.DEFAULT);
        byte[] good = wire(STREAM_FRAMES.get(1));
        byte[] bad = concat(u64(8), u64(2_000_000), u64(1));
        assertThrows(DecoderException.class, () -> ch.writeInbound(alloc.input(concat(good, good, bad, good))));
        assertDecoded(ch, List.of(STREAM_FRAMES.get(1), STREAM_FRAMES.get(1)), "before failure");
        ch.writeInbound(alloc.input(good));
        assertNull(ch.readInbound());
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    @Test
    void limitsAreValidated() {
        assertEquals("maxFrames: 0 (expected: >= 1)",
                assertThrows(IllegalArgumentException.class, () -> new FrameLimits(0, 1, 1)).getMessage());
        assertEquals("maxFrameSize: 2147483648 (expected: 1 .. 2147483647)",
                assertThrows(IllegalArgumentException.class, () -> new FrameLimits(1, 1L << 31, 1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FrameLimits(1, 1, 0));
    }

    // ---- encoder -----------------------------------------------------------------------------

    @Test
    void encoderWritesFullLengthPreludeAndConsumesFrames() {
        TrackingAllocator alloc = new TrackingAllocator(false);
        List<byte[]> frames = STREAM_FRAMES.get(1);
        List<ByteBuf> bufs = new ArrayList<>();
        for (byte[] f : frames) {
            bufs.add(alloc.input(f));
        }
        EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
        ch.config().setAllocator(alloc);
        assertTrue(ch.writeOutbound(new Frames(bufs)));
        ByteBuf prelude = ch.readOutbound();
        List<ByteBuf> written = new ArrayList<>(List.of(prelude));
        for (ByteBuf f : bufs) {
            ByteBuf out = ch.readOutbound();
            // Zero copy: each frame reaches the channel as the very buffer it was given, so a direct
            // frame is written without being copied, whatever the other frames are.
            assertSame(f, out, "frames are passed through, not copied");
            written.add(out);
        }
        assertNull(ch.readOutbound(), "prelude and frames only");
        ByteBuf all = Unpooled.wrappedBuffer(written.toArray(ByteBuf[]::new));
        assertArrayEquals(wire(frames), bytes(all));
        all.release();
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    @Test
    void largeHeapFramesGoOutInSlicesThatShareTheirMemory() {
        for (boolean direct : new boolean[] {false, true}) {
            TrackingAllocator alloc = new TrackingAllocator(direct);
            byte[] big = new byte[(5 * FrameEncoder.HEAP_SLICE_BYTES) / 2 + 3];
            new Random(3).nextBytes(big);
            List<byte[]> frames = List.of(CLOSE_MSGPACK, big);
            ByteBuf header = alloc.input(CLOSE_MSGPACK);
            ByteBuf frame = alloc.input(big);
            EmbeddedChannel ch = new EmbeddedChannel(FrameEncoder.INSTANCE);
            ch.config().setAllocator(alloc);
            assertTrue(ch.writeOutbound(new Frames(List.of(header, frame))));
            List<ByteBuf> written = new ArrayList<>();
            for (ByteBuf out; (out = ch.readOutbound()) != null; ) {
                written.add(out);
            }
            assertSame(header, written.get(1));
            if (direct) {
                // the channel writes direct memory as it is: the frame goes out whole
                assertEquals(3, written.size());
                assertSame(frame, written.get(2));
            } else {
                // prelude, header, then three slices of at most 1 MiB, views of the frame's own array
                assertEquals(5, written.size());
                for (ByteBuf slice : written.subList(2, 5)) {
                    assertTrue(slice.readableBytes() <= FrameEncoder.HEAP_SLICE_BYTES);
                    assertSame(frame.array(), slice.array(), "a view, not a copy");
                }
            }
            ByteBuf all = Unpooled.wrappedBuffer(written.toArray(ByteBuf[]::new));
            assertArrayEquals(wire(frames), bytes(all));
            all.release();
            assertFalse(ch.finish());
            alloc.assertAllReleased();
        }
    }

    @Test
    void encodedStreamDecodesBack() {
        TrackingAllocator alloc = new TrackingAllocator(true);
        EmbeddedChannel enc = new EmbeddedChannel(FrameEncoder.INSTANCE);
        enc.config().setAllocator(alloc);
        EmbeddedChannel dec = channel(alloc, FrameLimits.DEFAULT);
        for (List<byte[]> m : STREAM_FRAMES) {
            List<ByteBuf> bufs = new ArrayList<>();
            for (byte[] f : m) {
                bufs.add(alloc.input(f));
            }
            enc.writeOutbound(new Frames(bufs));
            for (Object out; (out = enc.readOutbound()) != null; ) {
                dec.writeInbound(out);
            }
        }
        assertDecoded(dec, STREAM_FRAMES, "encoder to decoder");
        assertFalse(enc.finish());
        assertFalse(dec.finish());
        alloc.assertAllReleased();
    }
}
