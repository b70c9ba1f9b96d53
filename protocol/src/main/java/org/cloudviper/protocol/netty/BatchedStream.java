package org.cloudviper.protocol.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A long-lived Dask stream from our side (a client's or worker's connection to the scheduler): the
 * handshake, one opening message written alone (register-client / register-worker), then messages
 * gathered per event-loop turn and written as one list frame, the shape of distributed's
 * {@code BatchedSend}. Received list frames are unpacked and handed to the {@link Listener} one
 * message at a time.
 *
 * <p>{@link #send} may be called from any thread; messages keep their order.
 */
public final class BatchedStream {
    /** Called on the stream's event loop. */
    public interface Listener {
        /** One received message; its sub-objects are released after this returns (retain to keep). */
        void onMessage(Object message);

        /** The connection is gone; {@code cause} is null after {@link #close()}. Called once. */
        void onClosed(Throwable cause);
    }

    private final EventLoop loop;
    private final Channel channel;
    private List<Object> pending = new ArrayList<>();
    /** What to run once the pending batch is encoded (or dropped): releasing the senders' references. */
    private List<Runnable> afterWrite = new ArrayList<>();
    private boolean flushScheduled;

    private BatchedStream(EventLoop loop, Channel channel) {
        this.loop = loop;
        this.channel = channel;
    }

    /**
     * Connects to {@code address}, writes the handshake and then {@code opening}; completes once
     * {@code opening} is written. Messages the peer sends arrive at {@code listener} from then on.
     */
    public static CompletableFuture<BatchedStream> open(EventLoop loop, FrameLimits limits, String address,
                                                        Object opening, Listener listener) {
        CompletableFuture<BatchedStream> result = new CompletableFuture<>();
        ChannelFuture cf;
        try {
            cf = new Bootstrap().group(loop).channel(Transports.socketChannel(loop))
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            c.pipeline().addLast(new FrameDecoder(limits), FrameEncoder.INSTANCE, new Handshake(),
                                    new Reader(new BatchedStream(loop, c), opening, listener, result));
                        }
                    })
                    .connect(RpcClient.parseAddress(address));
        } catch (IllegalArgumentException e) {
            result.completeExceptionally(e);
            return result;
        }
        cf.addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(f.cause());
            }
        });
        return result;
    }

    /**
     * Queues {@code message}; everything queued in one loop turn leaves as one list frame. Sub-objects
     * in it must stay alive until the end of that turn (encoding retains what it writes).
     */
    public void send(Object message) {
        send(message, null);
    }

    /**
     * As {@link #send(Object)}; {@code afterWrite} (if not null) runs on the loop once the batch
     * holding {@code message} is encoded, or dropped because the connection is gone. A sender that
     * owns sub-objects in the message releases them there.
     */
    public void send(Object message, Runnable afterWrite) {
        if (loop.inEventLoop()) {
            queue(message, afterWrite);
        } else {
            loop.execute(() -> queue(message, afterWrite));
        }
    }

    private void queue(Object message, Runnable after) {
        pending.add(message);
        if (after != null) {
            afterWrite.add(after);
        }
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(this::flush);
        }
    }

    /** Writes what is queued now, as one list frame (also called at the end of each loop turn). */
    public void flush() {
        if (!loop.inEventLoop()) {
            loop.execute(this::flush);
            return;
        }
        flushScheduled = false;
        if (pending.isEmpty()) {
            return;
        }
        List<Object> batch = pending;
        pending = new ArrayList<>();
        List<Runnable> after = afterWrite;
        if (!after.isEmpty()) {
            afterWrite = new ArrayList<>();
        }
        try {
            if (channel.isActive()) {
                channel.writeAndFlush(MessageCodec.encode(batch));
            }
        } finally {
            after.forEach(Runnable::run);
        }
    }

    public boolean isActive() {
        return channel.isActive();
    }

    /** Writes what is queued and closes the connection. */
    public CompletableFuture<Void> close() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            flush();
            channel.close().addListener(f -> done.complete(null));
        });
        return done;
    }

    private static final class Reader extends ChannelInboundHandlerAdapter {
        private final BatchedStream stream;
        private final Object opening;
        private final Listener listener;
        private final CompletableFuture<BatchedStream> opened;
        private boolean closedReported;

        Reader(BatchedStream stream, Object opening, Listener listener, CompletableFuture<BatchedStream> opened) {
            this.stream = stream;
            this.opening = opening;
            this.listener = listener;
            this.opened = opened;
        }

        /** {@link Handshake} has written ours by now, so the opening message follows it. */
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            super.channelActive(ctx);
            ctx.writeAndFlush(MessageCodec.encode(opening)).addListener(f -> {
                if (f.isSuccess()) {
                    opened.complete(stream);
                } else {
                    opened.completeExceptionally(f.cause());
                    ctx.close();
                }
            });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            MessageCodec.withDecoded((Frames) msg, tree -> {
                if (tree instanceof List<?> batch) {
                    for (Object o : batch) {
                        listener.onMessage(o);
                    }
                } else {
                    listener.onMessage(tree);
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            opened.completeExceptionally(new IOException("connection closed before the stream opened"));
            report(null);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            opened.completeExceptionally(cause);
            report(cause);
            ctx.close();
        }

        private void report(Throwable cause) {
            if (!closedReported) {
                closedReported = true;
                listener.onClosed(cause);
            }
        }
    }
}
