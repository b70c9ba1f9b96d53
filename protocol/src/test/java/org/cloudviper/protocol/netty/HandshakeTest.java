package org.cloudviper.protocol.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.TrackingAllocator;
import org.cloudviper.testkit.Captures;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.cloudviper.protocol.TestWire.bytes;
import static org.cloudviper.protocol.TestWire.concat;
import static org.cloudviper.protocol.TestWire.hex;
import static org.cloudviper.protocol.TestWire.message;
import static org.cloudviper.protocol.TestWire.pack;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HandshakeTest {
    /** What a 2022 peer with compression off would send: {compression: nil, python: [3,11,2], pickle-protocol: 5}. */
    private static final byte[] OURS = message(hex(
            "83 ab 636f6d7072657373696f6e c0 a6 707974686f6e 93 03 0b 02 af 7069636b6c652d70726f746f636f6c 05"));

    private static byte[] capture(String name) {
        return Captures.raw(Captures.DASK_2022, name);
    }

    /** Records what passes the handshake: messages and user events. */
    private static final class Recorder extends ChannelInboundHandlerAdapter {
        final List<Object> events = new ArrayList<>();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            events.add(evt);
        }
    }

    private final TrackingAllocator alloc = new TrackingAllocator(false);
    private Recorder recorder;

    private EmbeddedChannel channel() {
        recorder = new Recorder();
        EmbeddedChannel ch = new EmbeddedChannel(false, false,
                new FrameDecoder(FrameLimits.DEFAULT), FrameEncoder.INSTANCE, new Handshake(), recorder);
        ch.config().setAllocator(alloc);
        try {
            ch.register(); // activates the channel with our allocator in place
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return ch;
    }

    private void assertOursWasWritten(EmbeddedChannel ch) {
        // The encoder writes the prelude and each frame as separate buffers: together they are
        // exactly the handshake message and nothing else.
        java.io.ByteArrayOutputStream written = new java.io.ByteArrayOutputStream();
        for (ByteBuf out; (out = ch.readOutbound()) != null; ) {
            written.writeBytes(bytes(out));
            out.release();
        }
        assertArrayEquals(OURS, written.toByteArray(), "only the handshake is written");
    }

    @Test
    void oursIsWrittenOnActivationAndMatchesWhatPythonWrites() throws IOException {
        EmbeddedChannel ch = channel();
        assertOursWasWritten(ch);
        // the same bytes as a captured 2022 handshake, except for "lz4" (a3 6c7a34) where we say nil (c0)
        byte[] captured = capture("handshake.bin");
        String f0 = HexFormat.of().formatHex(Arrays.copyOfRange(captured, 24, captured.length));
        assertTrue(f0.contains("a36c7a34"), f0);
        assertArrayEquals(OURS, message(hex(f0.replace("a36c7a34", "c0"))));
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    @Test
    void peersHandshakeIsConsumedAndStoredThenMessagesPassThrough() throws IOException {
        EmbeddedChannel ch = channel();
        assertOursWasWritten(ch);
        byte[] hello = capture("handshake.bin");
        byte[] register = capture("worker-to-scheduler.register-worker.bin");
        byte[] stream = concat(hello, register, register);
        // fragments that cut the handshake and the first message
        ch.writeInbound(alloc.input(Arrays.copyOf(stream, 30)));
        assertNull(ch.attr(Handshake.PEER).get());
        ch.writeInbound(alloc.input(Arrays.copyOfRange(stream, 30, hello.length + 100)));
        assertEquals(Map.of("compression", "lz4", "python", List.of(3L, 11L, 2L), "pickle-protocol", 5L),
                ch.attr(Handshake.PEER).get());
        assertEquals(1, recorder.events.size());
        Handshake.Completed done = assertInstanceOf(Handshake.Completed.class, recorder.events.get(0));
        assertEquals(ch.attr(Handshake.PEER).get(), done.peer());
        assertNull(ch.readInbound(), "the handshake is not passed on");

        ch.writeInbound(alloc.input(Arrays.copyOfRange(stream, hello.length + 100, stream.length)));
        for (int i = 0; i < 2; i++) {
            Frames f = ch.readInbound();
            Map<?, ?> m = (Map<?, ?>) MessageCodec.decode(f);
            assertEquals("register-worker", m.get("op"));
            f.release();
        }
        assertNull(ch.readInbound());
        assertEquals(1, recorder.events.size(), "Completed fires once");
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    @Test
    void aHandshakeAndAMessageInOneRead() throws IOException {
        EmbeddedChannel ch = channel();
        assertOursWasWritten(ch);
        ch.writeInbound(alloc.input(concat(OURS, capture("client-to-scheduler.identity.bin"))));
        assertEquals(Arrays.asList(null, 5L), Arrays.asList(ch.attr(Handshake.PEER).get().get("compression"),
                ch.attr(Handshake.PEER).get().get("pickle-protocol")));
        Frames f = ch.readInbound();
        assertEquals(Map.of("op", "identity", "reply", true), MessageCodec.decode(f));
        f.release();
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    private void assertRefused(byte[] first) throws IOException {
        EmbeddedChannel ch = channel();
        assertOursWasWritten(ch);
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> ch.writeInbound(alloc.input(concat(first, OURS))));
        assertTrue(e.getMessage().matches("(handshake: |malformed msgpack|msgpack length).*"), e.getMessage());
        assertFalse(ch.isOpen(), "a connection without a handshake is closed");
        assertNull(ch.attr(Handshake.PEER).get(), "a valid handshake after a bad one is not taken");
        assertNull(ch.readInbound());
        assertTrue(recorder.events.isEmpty());
        assertFalse(ch.finish());
        alloc.assertAllReleased();
    }

    @Test
    void aListFirstMessageIsRefused() throws IOException {
        assertRefused(capture("client-to-scheduler.close-client.bin"));
    }

    @Test
    void aMapWithoutTheMandatoryKeysIsRefused() throws IOException {
        assertRefused(capture("client-to-scheduler.identity.bin"));
        assertRefused(message(pack(Map.of("compression", "lz4", "python", List.of(3L)))));
        assertRefused(message(pack(Map.of("compression", 1L, "pickle-protocol", 5L))));
        assertRefused(message(pack(Map.of("compression", "lz4", "pickle-protocol", "5"))));
    }

    @Test
    void nilAndMalformedFirstMessagesAreRefused() throws IOException {
        assertRefused(message(hex("c0")));
        assertRefused(message(hex("83 a1")));
    }

    /** Sub-objects in a bogus first message own references to its frames; refusing it frees them. */
    @Test
    void subObjectsInARefusedHandshakeAreReleased() throws IOException {
        byte[] header = pack(Map.of("num-sub-frames", 1L));
        // {"compression": {"__Pickled__": 1}, "pickle-protocol": 5}
        byte[] withSub = concat(hex("82 ab 636f6d7072657373696f6e 81 ab 5f5f5069636b6c65645f5f 01"),
                hex("af 7069636b6c652d70726f746f636f6c 05"));
        assertRefused(message(withSub, header, hex("0102")));
        assertRefused(message(concat(hex("91 81 ae"), "__Serialized__".getBytes(), hex("01")), header, hex("03")));
    }
}
