package org.cloudviper.scheduler.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The end of every connection's pipeline: decodes each message into its record, by what the
 * connection is ({@link Peer.Role}) and its peer's generation, and hands it to the
 * {@link RequestHandlers} or the {@link StreamHandlers}. A peer that breaks the protocol is logged
 * and disconnected; every other connection goes on.
 */
@ChannelHandler.Sharable
final class Dispatcher extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

    /** What a closed stream means to the server. */
    interface Closures {
        /** The stream of a registered worker or client closed. */
        void streamClosed(Peer peer);
    }

    private final RequestHandlers requests;
    private final StreamHandlers streams;
    private final StreamBatcher batcher;
    private final Closures closures;
    private final CoordinationCalls coordination;

    Dispatcher(RequestHandlers requests, StreamHandlers streams, StreamBatcher batcher, Closures closures,
               CoordinationCalls coordination) {
        this.requests = requests;
        this.streams = streams;
        this.batcher = batcher;
        this.closures = closures;
        this.coordination = coordination;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.channel().attr(Peer.KEY).set(new Peer(ctx.channel()));
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        batcher.onRead();
        MessageCodec.withDecoded((Frames) msg, tree -> onMessage(Peer.of(ctx.channel()), tree));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        batcher.onReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Peer peer = Peer.of(ctx.channel());
        if (peer != null) {
            batcher.forget(peer);
            if (peer.role != Peer.Role.RPC) {
                closures.streamClosed(peer);
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (c instanceof ProtocolException || c instanceof IOException) {
            log.warn("Closing connection from {}: {}", ctx.channel().remoteAddress(), c.getMessage());
        } else {
            log.error("Closing connection from {} after an internal error", ctx.channel().remoteAddress(), c);
        }
        ctx.close();
    }

    private void onMessage(Peer peer, Object msg) {
        if (peer.role == Peer.Role.RPC) {
            if (!(msg instanceof Map<?, ?> m)) {
                throw new ProtocolException("request is not a map: " + DataRelay.brief(msg));
            }
            onRequest(peer, m);
        } else if (msg instanceof List<?> batch) {
            // distributed/core.py handle_stream: "OK" ends the batch, close-stream the stream
            for (Object o : batch) {
                if ("OK".equals(o) || !onStreamMessage(peer, o)) {
                    return;
                }
            }
        } else if (!"OK".equals(msg)) {
            onStreamMessage(peer, msg);
        }
    }

    private void onRequest(Peer peer, Map<?, ?> m) {
        if (m.get("op") == null && m.containsKey("status")) {
            return; // a 2024 nanny confirms register_nanny's reply with {"status": "ok"}
        }
        boolean wantsReply = Rpc.wantsReply(m);
        boolean closeAfter = Rpc.closesAfter(m);
        Channel ch = peer.channel;
        Consumer<Object> reply = value -> {
            if (wantsReply && ch.isActive()) {
                Peer.send(ch, value);
            }
            if (closeAfter) {
                ch.close();
            }
        };
        SchedulerRequest request = SchedulerRequest.decode(m, peer.generation);
        if (!(request instanceof SchedulerRequest.Unknown) || !coordination.handle(peer, m, reply)) {
            requests.handle(peer, request, reply);
        }
    }

    /** Returns false when the stream ended. */
    private boolean onStreamMessage(Peer peer, Object o) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new ProtocolException("stream message is not a map: " + DataRelay.brief(o));
        }
        // the coordination primitives' ops are none of the families': only unknown ops are offered to them
        if (peer.role == Peer.Role.WORKER) {
            if ("close-stream".equals(m.get("op"))) {
                peer.channel.close();
                return false;
            }
            WorkerToScheduler message = WorkerToScheduler.decode(m, peer.generation);
            if (!(message instanceof WorkerToScheduler.Unknown) || !coordination.fromStream(peer, m)) {
                streams.fromWorker(peer, message);
            }
            return true;
        }
        ClientToScheduler message = ClientToScheduler.decode(m, peer.generation);
        if (message instanceof ClientToScheduler.Unknown && coordination.fromStream(peer, m)) {
            return true;
        }
        if (message == ClientToScheduler.CloseStream.INSTANCE) {
            endClientStream(peer);
            return false;
        }
        streams.fromClient(peer, message);
        return true;
    }

    /** close-stream: the scheduler answers stream-closed, then closes the connection. */
    private void endClientStream(Peer peer) {
        if (!peer.closing) {
            peer.closing = true;
            batcher.queue(peer, SchedulerToClient.StreamClosed.INSTANCE.encode(peer.generation));
            batcher.flushNow(peer);
        }
        peer.channel.close();
    }
}
