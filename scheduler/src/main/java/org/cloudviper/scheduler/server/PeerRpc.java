package org.cloudviper.scheduler.server;

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

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Request/reply calls from the scheduler to workers (get_data, update_data), over pooled
 * connections on the scheduler's own event loop. Replies arrive as decoded trees that the callback
 * owns (and must release with {@link Trees#release}).
 */
final class PeerRpc {
    private static final AttributeKey<Call> CALL = AttributeKey.valueOf("cloudviper.call");

    private final EventLoop loop;
    private final FrameLimits limits;
    private final Map<String, ArrayDeque<Channel>> idle = new HashMap<>();

    /** One outstanding call: the request, whether to confirm with "OK", and who gets the reply. */
    private record Call(String address, Object request, boolean confirm, BiConsumer<Object, Throwable> done) {
    }

    PeerRpc(EventLoop loop, FrameLimits limits) {
        this.loop = loop;
        this.limits = limits;
    }

    /**
     * Sends {@code request} to {@code address} and calls {@code done} with the reply or the failure,
     * on the event loop. With {@code confirm}, writes the msgpack string "OK" after the reply, as
     * get_data requires (distributed/worker.py get_data_from_worker).
     */
    void call(String address, Object request, boolean confirm, BiConsumer<Object, Throwable> done) {
        Call call = new Call(address, request, confirm, done);
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
                .option(ChannelOption.RCVBUF_ALLOCATOR, Reads.LARGE)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline().addLast(new FrameDecoder(limits), FrameEncoder.INSTANCE, new Handshake(),
                                new ReplyHandler());
                    }
                });
        ChannelFuture f = b.connect(target);
        f.addListener(x -> {
            if (!x.isSuccess()) {
                done.accept(null, x.cause());
            } else {
                // The connect promise completes before channelActive, where the handshake is written;
                // our handshake must go first, so send on the next loop turn.
                f.channel().eventLoop().execute(() -> send(f.channel(), call));
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

    void close() {
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
                frames.release();
                fail(ctx.channel(), e);
                if (call != null) {
                    call.done().accept(null, e);
                }
                return;
            }
            frames.release();
            if (call == null) {
                MessageCodec.release(reply);
                ctx.close();
                return;
            }
            if (call.confirm()) {
                ctx.writeAndFlush(MessageCodec.encode("OK"));
            }
            idle.computeIfAbsent(call.address(), k -> new ArrayDeque<>()).add(ctx.channel());
            call.done().accept(reply, null);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Call call = ctx.channel().attr(CALL).getAndSet(null);
            ArrayDeque<Channel> q = idle.get(addressOf(ctx.channel()));
            if (q != null) {
                q.remove(ctx.channel());
            }
            if (call != null) {
                call.done().accept(null, new java.io.IOException("connection to " + call.address() + " closed"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx.channel(), cause);
        }

        private String addressOf(Channel ch) {
            for (Map.Entry<String, ArrayDeque<Channel>> e : idle.entrySet()) {
                if (e.getValue().contains(ch)) {
                    return e.getKey();
                }
            }
            return "";
        }
    }
}
