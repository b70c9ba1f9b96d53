package org.cloudviper.protocol.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RpcClient and BatchedStream against a local server built from the same codec: what the server
 * receives in which order (raw, handshake included), pooling, the get_data "OK" confirmation, and
 * failures. Compatibility with real Dask peers is covered by the worker's interop tests (its RPCs
 * and the Java client's stream to a stock Python scheduler).
 */
@Timeout(30)
class RpcClientTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final EventLoop loop = group.next();
    /** Every message the server received, decoded, in order, per connection id. */
    private final BlockingQueue<List<Object>> received = new LinkedBlockingQueue<>();
    private final AtomicInteger connections = new AtomicInteger();
    private Channel server;

    /** Starts a server that answers each message (after the handshake) with {@code reply(message)}. */
    private String serve(BiConsumer<ChannelHandlerContext, Object> onMessage) throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        int id = connections.incrementAndGet();
                        ch.pipeline().addLast(new FrameDecoder(FrameLimits.DEFAULT), FrameEncoder.INSTANCE,
                                new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        Frames f = (Frames) msg;
                                        Object m;
                                        try {
                                            m = MessageCodec.decode(f);
                                        } finally {
                                            f.release();
                                        }
                                        received.add(List.of(id, m));
                                        if (m instanceof Map<?, ?> mm && mm.containsKey("pickle-protocol")) {
                                            ctx.writeAndFlush(MessageCodec.encode(Handshake.ours()));
                                        } else {
                                            onMessage.accept(ctx, m);
                                        }
                                    }
                                });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        return "tcp://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close().awaitUninterruptibly();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private Object call(RpcClient rpc, String address, Object request, boolean confirm) throws Exception {
        CompletableFuture<Object> r = new CompletableFuture<>();
        loop.execute(() -> rpc.call(address, request, confirm, (v, e) -> {
            if (e != null) {
                r.completeExceptionally(e);
            } else {
                r.complete(v);
            }
        }));
        return r.get(10, TimeUnit.SECONDS);
    }

    private static Map<String, Object> op(String op) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        m.put("reply", true);
        return m;
    }

    @Test
    void handshakeFirstThenRequestAndConnectionsArePooled() throws Exception {
        String address = serve((ctx, m) -> ctx.writeAndFlush(MessageCodec.encode(Map.of("status", "OK", "echo",
                ((Map<?, ?>) m).get("op")))));
        RpcClient rpc = new RpcClient(loop, FrameLimits.DEFAULT);
        assertEquals(Map.of("status", "OK", "echo", "a"), call(rpc, address, op("a"), false));
        assertEquals(Map.of("status", "OK", "echo", "b"), call(rpc, address, op("b"), false));

        List<Object> first = received.poll(5, TimeUnit.SECONDS);
        assertTrue(((Map<?, ?>) first.get(1)).containsKey("pickle-protocol"), "first message: " + first);
        assertEquals(List.of(1, op("a")), received.poll(5, TimeUnit.SECONDS));
        assertEquals(List.of(1, op("b")), received.poll(5, TimeUnit.SECONDS), "second call reuses the connection");
        assertEquals(1, connections.get());
        loop.submit(rpc::close).get();
    }

    @Test
    void confirmsOnlyAnOkReply() throws Exception {
        String address = serve((ctx, m) -> {
            if (m instanceof Map<?, ?> mm) {
                String status = "busy-please".equals(mm.get("op")) ? "busy" : "OK";
                ctx.writeAndFlush(MessageCodec.encode(Map.of("status", status)));
            }
        });
        RpcClient rpc = new RpcClient(loop, FrameLimits.DEFAULT);
        call(rpc, address, op("busy-please"), true);
        call(rpc, address, op("get_data"), true);
        List<Object> seen = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            seen.add(received.poll(5, TimeUnit.SECONDS).get(1));
        }
        assertEquals(op("busy-please"), seen.get(1));
        assertEquals(op("get_data"), seen.get(2), "no OK after a busy reply");
        assertEquals("OK", seen.get(3));
        loop.submit(rpc::close).get();
    }

    @Test
    void failuresReachTheCallback() throws Exception {
        String address = serve((ctx, m) -> ctx.close());
        RpcClient rpc = new RpcClient(loop, FrameLimits.DEFAULT);
        ExecutionException closed = assertThrows(ExecutionException.class, () -> call(rpc, address, op("x"), false));
        assertInstanceOf(IOException.class, closed.getCause());
        assertTrue(closed.getCause().getMessage().contains("closed before it replied"), closed.getCause().getMessage());

        ExecutionException bad = assertThrows(ExecutionException.class, () -> call(rpc, "tcp://nowhere", op("x"), false));
        assertEquals("address without port: tcp://nowhere", bad.getCause().getMessage());

        loop.submit(rpc::close).get();
        ExecutionException after = assertThrows(ExecutionException.class, () -> call(rpc, address, op("x"), false));
        assertEquals("rpc client is closed", after.getCause().getMessage());
    }

    @Test
    void parseAddressChecksThePort() {
        assertEquals(new InetSocketAddress("::1", 8786), RpcClient.parseAddress("tcp://[::1]:8786"));
        assertEquals(new InetSocketAddress("127.0.0.1", 1), RpcClient.parseAddress("127.0.0.1:1"));
        assertEquals("port: 70000 (expected: 0 .. 65535) in tcp://h:70000",
                assertThrows(IllegalArgumentException.class, () -> RpcClient.parseAddress("tcp://h:70000")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> RpcClient.parseAddress("tcp://h:x"));
    }

    @Test
    void batchedStreamOpensThenBatchesPerLoopTurn() throws Exception {
        String address = serve((ctx, m) -> {
            if (m instanceof Map<?, ?> mm && "register".equals(mm.get("op"))) {
                ctx.writeAndFlush(MessageCodec.encode(List.of(Map.of("op", "stream-start"), Map.of("op", "two"))));
            }
        });
        BlockingQueue<Object> got = new LinkedBlockingQueue<>();
        CompletableFuture<Throwable> closed = new CompletableFuture<>();
        BatchedStream s = BatchedStream.open(loop, FrameLimits.DEFAULT, address, Map.of("op", "register"),
                new BatchedStream.Listener() {
                    @Override
                    public void onMessage(Object message) {
                        got.add(message);
                    }

                    @Override
                    public void onClosed(Throwable cause) {
                        closed.complete(cause);
                    }
                }).get(10, TimeUnit.SECONDS);
        assertEquals(Map.of("op", "stream-start"), got.poll(5, TimeUnit.SECONDS));
        assertEquals(Map.of("op", "two"), got.poll(5, TimeUnit.SECONDS));

        loop.submit(() -> {
            s.send(Map.of("op", "m1"));
            s.send(Map.of("op", "m2"));
        }).get();
        s.send(Map.of("op", "m3")); // from another thread: a later turn

        assertTrue(((Map<?, ?>) received.poll(5, TimeUnit.SECONDS).get(1)).containsKey("pickle-protocol"));
        assertEquals(Map.of("op", "register"), received.poll(5, TimeUnit.SECONDS).get(1), "opening message alone");
        assertEquals(List.of(Map.of("op", "m1"), Map.of("op", "m2")), received.poll(5, TimeUnit.SECONDS).get(1),
                "one list frame per loop turn");
        assertEquals(List.of(Map.of("op", "m3")), received.poll(5, TimeUnit.SECONDS).get(1));

        // A sender's sub-object stays alive until its batch is encoded, then the sender releases it.
        SubObject owned = new SubObject(SubObject.Kind.SERIALIZED,
                Unpooled.wrappedBuffer(MessageCodec.pack(Map.of("serializer", "msgpack", "num-sub-frames", 1L))),
                List.of(Unpooled.wrappedBuffer(MessageCodec.pack(7L))));
        CompletableFuture<Integer> refCntAtRelease = new CompletableFuture<>();
        s.send(Map.of("op", "m4", "value", owned), () -> {
            refCntAtRelease.complete(owned.refCnt());
            owned.release();
        });
        Object m4 = received.poll(5, TimeUnit.SECONDS).get(1);
        assertEquals("m4", ((Map<?, ?>) ((List<?>) m4).get(0)).get("op"));
        MessageCodec.release(m4);
        assertEquals(1, refCntAtRelease.get(5, TimeUnit.SECONDS), "released by its sender only after encoding");

        s.close().get(5, TimeUnit.SECONDS);
        assertEquals(null, closed.get(5, TimeUnit.SECONDS));
        // Sent after the connection is gone: dropped, and the sender still gets to release.
        CompletableFuture<Boolean> ran = new CompletableFuture<>();
        s.send(Map.of("op", "late"), () -> ran.complete(true));
        assertTrue(ran.get(5, TimeUnit.SECONDS));
    }
}
