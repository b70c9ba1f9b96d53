package org.cloudviper.protocol.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Request/reply calls over Dask comms (distributed/core.py {@code rpc} with its ConnectionPool):
 * one outstanding call per connection, idle connections pooled per address and reused. Every
 * connection writes our handshake first ({@link Handshake}), then the request.
 *
 * <p>Confined to one event loop: call {@link #call} and {@link #close} on it; callbacks run on it.
 * The callback owns the decoded reply and releases it with {@link MessageCodec#release}.
 */
public final class RpcClient {
    private final EventLoop loop;
    private final FrameLimits limits;
    private final Map<String, ArrayDeque<Channel>> idle = new HashMap<>();
    private boolean closed;

    public RpcClient(EventLoop loop, FrameLimits limits) {
        this.loop = loop;
        this.limits = limits;
    }

    /**
     * Sends {@code request} to {@code address} ({@code tcp://host:port} or {@code host:port});
     * {@code done} gets the reply or the failure, exactly once. With {@code confirm}, a reply whose
     * status is "OK" is acknowledged by writing the msgpack string "OK", as get_data requires
     * (distributed/worker.py get_data_from_worker); the connection is pooled only afterwards.
     */
    public void call(String address, Object request, boolean confirm, BiConsumer<Object, Throwable> done) {
        if (closed) {
            done.accept(null, new IOException("rpc client is closed"));
            return;
        }
        Call call = new Call(address, request, confirm, done);
        ArrayDeque<Channel> pool = idle.get(address);
        Channel ch;
        while (pool != null && (ch = pool.poll()) != null) {
            if (ch.isActive()) {
                ((CallHandler) ch.pipeline().last()).send(ch, call);
                return;
            }
        }
        InetSocketAddress target;
        try {
            target = parseAddress(address);
        } catch (IllegalArgumentException e) {
            done.accept(null, e);
            return;
        }
        CallHandler handler = new CallHandler(call);
        new Bootstrap().group(loop).channel(Transports.socketChannel(loop))
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                .option(ChannelOption.RCVBUF_ALLOCATOR, Reads.LARGE)
                .option(ChannelOption.ALLOCATOR, RecyclingReadAllocator.SHARED)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline().addLast(new FrameDecoder(limits), FrameEncoder.INSTANCE, new Handshake(), handler);
                    }
                })
                .connect(target).addListener(f -> {
                    if (!f.isSuccess()) {
                        handler.finish(null, f.cause());
                    }
                });
    }

    /** Closes idle connections; calls in flight still complete, later calls fail at once. */
    public void close() {
        closed = true;
        for (ArrayDeque<Channel> q : idle.values()) {
            for (Channel c : q) {
                c.close();
            }
        }
        idle.clear();
    }

    /** {@code tcp://host:port}, {@code host:port} or {@code tcp://[v6]:port} as a socket address. */
    public static InetSocketAddress parseAddress(String address) {
        String a = address.startsWith("tcp://") ? address.substring(6) : address;
        int colon = a.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("address without port: " + address);
        }
        String host = a.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(a.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("address with a bad port: " + address);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0 .. 65535) in " + address);
        }
        return new InetSocketAddress(host, port);
    }

    private record Call(String address, Object request, boolean confirm, BiConsumer<Object, Throwable> done) {
    }

    /** The last handler of each pooled connection; holds the call awaiting its reply. */
    private final class CallHandler extends ChannelInboundHandlerAdapter {
        private Call current;

        CallHandler(Call first) {
            this.current = first;
        }

        /** Our handshake was written by {@link Handshake#channelActive}, before this runs. */
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            super.channelActive(ctx);
            if (current != null) {
                send(ctx.channel(), current);
            }
        }

        void send(Channel ch, Call call) {
            current = call;
            ch.writeAndFlush(MessageCodec.encode(call.request())).addListener(f -> {
                if (!f.isSuccess()) {
                    ch.close();
                    finish(null, f.cause());
                }
            });
        }

        /** Completes the outstanding call once. */
        void finish(Object reply, Throwable error) {
            Call c = current;
            current = null;
            if (c != null) {
                c.done().accept(reply, error);
            } else {
                MessageCodec.release(reply);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Frames frames = (Frames) msg;
            Object reply;
            try {
                reply = MessageCodec.decode(frames);
            } catch (RuntimeException e) {
                ctx.close();
                finish(null, e);
                return;
            } finally {
                frames.release();
            }
            Call c = current;
            if (c == null) {
                MessageCodec.release(reply); // nobody asked: the peer broke request/reply
                ctx.close();
                return;
            }
            if (c.confirm() && reply instanceof Map<?, ?> m && "OK".equals(m.get("status"))) {
                ctx.writeAndFlush(MessageCodec.encode("OK"));
            }
            if (closed) {
                ctx.close();
            } else {
                idle.computeIfAbsent(c.address(), k -> new ArrayDeque<>()).add(ctx.channel());
            }
            finish(reply, null);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            Call c = current;
            if (c != null) {
                ArrayDeque<Channel> q = idle.get(c.address());
                if (q != null) {
                    q.remove(ctx.channel());
                }
                finish(null, new IOException("connection to " + c.address() + " closed before it replied"));
            } else {
                idle.values().forEach(q -> q.remove(ctx.channel()));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
            finish(null, cause);
        }
    }
}
