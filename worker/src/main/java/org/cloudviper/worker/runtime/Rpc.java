package org.cloudviper.worker.runtime;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.AttributeKey;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.cloudviper.protocol.netty.Handshake;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Request/reply calls to the scheduler (versions, heartbeat_worker, unregister) and to peers
 * (get_data), over connections pooled per address (distributed/core.py ConnectionPool), all on the
 * worker's event loop. The callback owns the decoded reply and releases it with {@link Trees#release}.
 */
final class Rpc {
    private static final AttributeKey<Call> CALL = AttributeKey.valueOf("cloudviper.worker.call");
    private static final AttributeKey<String> ADDRESS = AttributeKey.valueOf("cloudviper.worker.address");

    private final EventLoop loop;
    private final FrameLimits limits;
    private final Map<String, ArrayDeque<Channel>> idle = new HashMap<>();
    private boolean closed;

    private record Call(Object request, boolean confirm, BiConsumer<Object, Throwable> done) {
    }

    Rpc(EventLoop loop, FrameLimits limits) {
        this.loop = loop;
        this.limits = limits;
    }

    /**
     * Sends {@code request} to {@code address}; {@code done} gets the reply or the failure, on the
     * loop. With {@code confirm}, writes the msgpack string "OK" after the reply, as get_data
     * requires (distributed/worker.py get_data_from_worker). Call on the loop.
     */
    void call(String address, Object request, boolean confirm, BiConsumer<Object, Throwable> done) {
        if (closed) {
            done.accept(null, new IOException("worker is closing"));
            return;
        }
        Call call = new Call(request, confirm, done);
        ArrayDeque<Channel> pool = idle.get(address);
        Channel ch;
        while (pool != null && (ch = pool.poll()) != null) {
            if (ch.isActive()) {
                send(ch, call);
                return;
            }
        }
        InetSocketAddress target;
        try {
            target = parse(address);
        } catch (IllegalArgumentException e) {
            done.accept(null, e);
            return;
        }
        Bootstrap b = new Bootstrap().group(loop).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.attr(ADDRESS).set(address);
                        c.pipeline().addLast(new FrameDecoder(limits), FrameEncoder.INSTANCE, new Handshake(),
                                new ReplyHandler());
                    }
                });
        ChannelFuture f = b.connect(target);
        f.addListener(x -> {
            if (!x.isSuccess()) {
                done.accept(null, x.cause());
            } else {
                // The handshake is written in channelActive, which runs after this listener: send next turn.
                loop.execute(() -> send(f.channel(), call));
            }
        });
    }

    private void send(Channel ch, Call call) {
        ch.attr(CALL).set(call);
        ch.writeAndFlush(MessageCodec.encode(call.request())).addListener(x -> {
            if (!x.isSuccess()) {
                fail(ch, x.cause());
            }
        });
    }

    private void fail(Channel ch, Throwable cause) {
        Call call = ch.attr(CALL).getAndSet(null);
        ch.close();
        if (call != null) {
            call.done().accept(null, cause);
        }
    }

    /** Closes idle connections; later calls fail at once. */
    void close() {
        closed = true;
        for (ArrayDeque<Channel> q : idle.values()) {
            for (Channel c : q) {
                c.close();
            }
        }
        idle.clear();
    }

    static InetSocketAddress parse(String address) {
        String a = address.startsWith("tcp://") ? address.substring(6) : address;
        int colon = a.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("address without port: " + address);
        }
        String host = a.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(a.substring(colon + 1)));
    }

    private final class ReplyHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Frames frames = (Frames) msg;
            Call call = ctx.channel().attr(CALL).getAndSet(null);
            Object reply;
            try {
                reply = MessageCodec.decode(frames);
            } catch (RuntimeException e) {
                ctx.close();
                if (call != null) {
                    call.done().accept(null, e);
                }
                return;
            } finally {
                frames.release();
            }
            if (call == null) {
                Trees.release(reply); // nobody asked
                ctx.close();
                return;
            }
            if (call.confirm() && reply instanceof Map<?, ?> m && "OK".equals(m.get("status"))) {
                ctx.writeAndFlush(MessageCodec.encode("OK"));
            }
            if (!closed) {
                idle.computeIfAbsent(ctx.channel().attr(ADDRESS).get(), k -> new ArrayDeque<>()).add(ctx.channel());
            } else {
                ctx.close();
            }
            call.done().accept(reply, null);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            ArrayDeque<Channel> q = idle.get(ctx.channel().attr(ADDRESS).get());
            if (q != null) {
                q.remove(ctx.channel());
            }
            Call call = ctx.channel().attr(CALL).getAndSet(null);
            if (call != null) {
                call.done().accept(null, new IOException("connection to " + ctx.channel().attr(ADDRESS).get()
                        + " closed before it replied"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx.channel(), cause);
        }
    }
}
