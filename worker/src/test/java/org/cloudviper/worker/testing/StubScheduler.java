package org.cloudviper.worker.testing;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.cloudviper.protocol.netty.Handshake;

import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Just enough of a Dask 2022.12.1 scheduler for a Java worker to register and stay registered,
 * without Python and without cloudviper's scheduler (the worker module depends on protocol only):
 * it answers {@code versions}, {@code register-worker} (distributed's {@code Scheduler.add_worker}
 * reply), {@code heartbeat_worker} and {@code unregister}, answers other requests with nil, and
 * records the op of every message it receives, stream messages included. Assigns no tasks.
 */
public final class StubScheduler implements AutoCloseable {
    private static final double HEARTBEAT_INTERVAL_S = 0.5;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final List<String> ops = new CopyOnWriteArrayList<>();
    private volatile Map<?, ?> services;
    private final Channel listener;
    private final String distributed;

    private StubScheduler(String distributed) throws InterruptedException {
        this.distributed = distributed;
        listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FrameDecoder(FrameLimits.DEFAULT), FrameEncoder.INSTANCE,
                                new Handshake(), new Handler());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    /** Listens on 127.0.0.1, a free port. */
    public static StubScheduler start() throws InterruptedException {
        return new StubScheduler("2022.12.1");
    }

    /** The same, its {@code versions} reply naming distributed {@code version}. */
    public static StubScheduler start(String distributed) throws InterruptedException {
        return new StubScheduler(distributed);
    }

    /** {@code tcp://127.0.0.1:PORT}, what a worker's configuration names. */
    public String address() {
        return "tcp://127.0.0.1:" + ((InetSocketAddress) listener.localAddress()).getPort();
    }

    /** The op of every message received so far, in arrival order. */
    public List<String> ops() {
        return List.copyOf(ops);
    }

    /** The {@code services} of the last register-worker received, or null before one. */
    public Map<?, ?> services() {
        return services;
    }

    @Override
    public void close() {
        listener.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            MessageCodec.withDecoded((Frames) msg, tree -> {
                if (tree instanceof List<?> batch) { // a batched stream message
                    batch.forEach(m -> ops.add(String.valueOf(((Map<?, ?>) m).get("op"))));
                } else if (tree instanceof Map<?, ?> m) {
                    String op = String.valueOf(m.get("op"));
                    ops.add(op);
                    if (op.equals("register-worker")) {
                        services = (Map<?, ?>) m.get("services");
                    }
                    Object reply = reply(op);
                    if (op.equals("register-worker") || !Boolean.FALSE.equals(m.get("reply"))) {
                        ctx.writeAndFlush(MessageCodec.encode(reply));
                    }
                }
            });
        }

        private Object reply(String op) {
            double now = System.currentTimeMillis() / 1000.0;
            return switch (op) {
                case "versions" -> Map.of("scheduler", Map.of("packages", Map.of("distributed", distributed)));
                case "register-worker" -> {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("status", "OK");
                    r.put("time", now);
                    r.put("heartbeat-interval", HEARTBEAT_INTERVAL_S);
                    r.put("worker-plugins", Map.of());
                    yield r;
                }
                case "heartbeat_worker" -> Map.of("status", "OK", "time", now, "heartbeat-interval", HEARTBEAT_INTERVAL_S);
                case "unregister" -> "OK";
                default -> null;
            };
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
