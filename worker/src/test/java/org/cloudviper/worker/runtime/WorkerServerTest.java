package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.cloudviper.protocol.netty.Handshake;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.worker.Worker;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.testing.StubScheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker's listener as peers use it, in-process and without Python (registered with a
 * {@link StubScheduler}): scatter (update_data) keeps the value's bytes, get_data serves them back
 * verbatim and answers "busy" over its limit.
 */
@Timeout(30)
class WorkerServerTest {
    StubScheduler scheduler;
    Worker worker;
    EventLoopGroup group;

    @BeforeEach
    void start() throws Exception {
        scheduler = StubScheduler.start();
        worker = Worker.start(WorkerConfig.defaults(scheduler.address()).withNthreads(1).withMemoryLimit(1L << 30));
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void stop() {
        if (worker != null) {
            worker.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    /** A request on a connection of its own (each RpcClient pools its own connections). */
    Object call(Map<String, Object> request, boolean confirm) throws Exception {
        EventLoop loop = group.next();
        RpcClient rpc = new RpcClient(loop, FrameLimits.DEFAULT);
        CompletableFuture<Object> reply = new CompletableFuture<>();
        loop.execute(() -> rpc.call(worker.address(), request, confirm, (r, e) -> {
            if (e != null) {
                reply.completeExceptionally(e);
            } else {
                reply.complete(r);
            }
        }));
        return reply.get(10, TimeUnit.SECONDS);
    }

    @Test
    void scatteredValueIsServedVerbatimAndBusyOverTheLimit() throws Exception {
        SubObject value = Serde.encode(List.of(1L, "two", 3.0));
        String header = ByteBufUtil.hexDump(value.header());
        String frame = ByteBufUtil.hexDump(value.frames().get(0));
        Map<String, Object> update = new LinkedHashMap<>();
        update.put("op", "update_data");
        update.put("data", Map.of("k", value));
        update.put("report", false);
        update.put("reply", true);
        Map<?, ?> r = assertInstanceOf(Map.class, call(update, false));
        value.release();
        assertEquals("OK", r.get("status"));
        assertTrue(((Map<?, ?>) r.get("nbytes")).containsKey("k"));

        assertEquals(List.of("k"), call(Map.of("op", "keys", "reply", true), false));

        // First get_data never confirms: that transfer stays open and uses the only slot.
        Map<String, Object> get = new LinkedHashMap<>();
        get.put("op", "get_data");
        get.put("keys", List.of("k", "absent"));
        get.put("who", null);
        get.put("max_connections", 1L);
        get.put("reply", true);
        Map<?, ?> first = assertInstanceOf(Map.class, call(get, false));
        try {
            assertEquals("OK", first.get("status"));
            Map<?, ?> data = (Map<?, ?>) first.get("data");
            assertEquals(List.of("k"), List.copyOf(data.keySet()));
            SubObject served = assertInstanceOf(SubObject.class, data.get("k"));
            assertEquals(header, ByteBufUtil.hexDump(served.header()));
            assertEquals(frame, ByteBufUtil.hexDump(served.frames().get(0)));
        } finally {
            Trees.release(first);
        }
        assertEquals(Map.of("status", "busy"), call(get, true));

        // Unlimited (the scheduler's gather sends max_connections=False) still gets it.
        get.put("max_connections", false);
        Map<?, ?> third = assertInstanceOf(Map.class, call(get, true));
        assertEquals("OK", third.get("status"));
        Trees.release(third);
    }

    /**
     * Dask's {@code Server.handle_comm} (distributed/core.py) answers an op it has no handler for
     * with None and goes on reading the same connection; so does the worker.
     */
    @Test
    void unknownOperationsAreAnsweredWithNil() throws Exception {
        assertEquals(null, call(Map.of("op", "no-such-op", "reply", true), false));
        Map<?, ?> id = assertInstanceOf(Map.class, call(Map.of("op", "identity", "reply", true), false));
        assertEquals("Worker", id.get("type"));
        assertEquals("pong", call(Map.of("op", "ping", "reply", true), false));
        // On one connection (RpcClient would hide a closed one by opening another): nil, then pong.
        URI uri = URI.create(worker.address());
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            socket.setSoTimeout(10_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            assertEquals(Handshake.ours().keySet(), assertInstanceOf(Map.class, readMessage(in)).keySet());
            write(out, Handshake.ours());
            write(out, Map.of("op", "no-such-op", "reply", true));
            assertNull(readMessage(in), "the reply to an unknown op");
            write(out, Map.of("op", "ping", "reply", true));
            assertEquals("pong", assertDoesNotThrow(() -> readMessage(in),
                    "the connection is still open after the unknown op"), "the next request on the same connection");
        }
    }

    private static void write(OutputStream out, Object message) throws IOException {
        ByteBuf b = FrameEncoder.toBuffer(UnpooledByteBufAllocator.DEFAULT, MessageCodec.encode(message));
        try {
            out.write(ByteBufUtil.getBytes(b));
            out.flush();
        } finally {
            b.release();
        }
    }

    /** One message as the worker framed it (Dask's prelude: u64 L, u64 n, n u64 lengths), decoded. */
    private static Object readMessage(DataInputStream in) throws IOException {
        ByteBuf whole = Unpooled.buffer();
        whole.writeLongLE(Long.reverseBytes(in.readLong()));
        long n = Long.reverseBytes(in.readLong());
        whole.writeLongLE(n);
        long bytes = 0;
        for (long i = 0; i < n; i++) {
            long length = Long.reverseBytes(in.readLong());
            whole.writeLongLE(length);
            bytes += length;
        }
        byte[] frameBytes = new byte[Math.toIntExact(bytes)];
        in.readFully(frameBytes);
        whole.writeBytes(frameBytes);
        Frames frames = FrameDecoder.tryRead(whole, FrameLimits.DEFAULT);
        whole.release();
        assertTrue(frames != null, "not one whole message");
        Object[] decoded = new Object[1];
        MessageCodec.withDecoded(frames, tree -> decoded[0] = tree);
        return decoded[0];
    }
}
