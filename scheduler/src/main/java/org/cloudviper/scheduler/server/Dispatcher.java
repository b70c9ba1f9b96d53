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
import org.cloudviper.protocol.netty.StreamedMessage;
import org.slf4j.Logger;

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
    private static final Logger log = SchedulerLogs.logger(Dispatcher.class);

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
        if (msg instanceof StreamedMessage part) {
            onPart(ctx, Peer.of(ctx.channel()), part);
            return;
        }
        MessageCodec.withDecoded((Frames) msg, tree -> onMessage(Peer.of(ctx.channel()), tree));
    }

    /**
     * A message with a large frame 0, arriving: a client's stream has its graphs read as they come
     * ({@link GraphStream}); on any other connection the frame is read whole at its end.
     */
    private void onPart(ChannelHandlerContext ctx, Peer peer, StreamedMessage part) {
        if (part instanceof StreamedMessage.Start s) {
            closeInbound(peer);
            peer.inbound = new GraphStream(ctx.alloc(), s.frame0Length(), peer.role == Peer.Role.CLIENT);
        } else if (part instanceof StreamedMessage.Piece p) {
            if (peer.inbound == null) {
                p.release(); // the message already failed; its connection is closing
                return;
            }
            try {
                peer.inbound.piece(p.bytes());
            } catch (RuntimeException e) {
                closeInbound(peer);
                throw e;
            }
        } else if (part instanceof StreamedMessage.End e) {
            GraphStream g = peer.inbound;
            peer.inbound = null;
            if (g == null) {
                e.release();
                return;
            }
            try {
                onItems(peer, g.end(e.rest(), peer.generation), g.tookGraphsApart());
            } finally {
                g.close();
                e.release();
            }
        }
    }

    /**
     * The messages of a streamed frame, in order; each decoded value's sub-objects and each graph's
     * are released once handled, as {@link MessageCodec#withDecoded} does for a message read whole.
     */
    private void onItems(Peer peer, List<Object> items, boolean batch) {
        int i = 0;
        try {
            if (!batch) {
                Object tree = items.get(i++);
                try {
                    onMessage(peer, tree);
                } finally {
                    MessageCodec.release(tree);
                }
                return;
            }
            boolean open = true;
            for (; i < items.size() && open; i++) {
                Object o = items.get(i);
                if (o instanceof StreamedGraph read) {
                    streams.fromClient(peer, read);
                } else {
                    try {
                        open = !"OK".equals(o) && onStreamMessage(peer, o);
                    } finally {
                        MessageCodec.release(o);
                    }
                }
            }
        } finally {
            for (; i < items.size(); i++) {
                if (items.get(i) instanceof StreamedGraph read) {
                    read.release();
                } else {
                    MessageCodec.release(items.get(i));
                }
            }
        }
    }

    private static void closeInbound(Peer peer) {
        if (peer != null && peer.inbound != null) {
            peer.inbound.close();
            peer.inbound = null;
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        batcher.onReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Peer peer = Peer.of(ctx.channel());
        if (peer != null && peer.inbound != null) {
            log.warn("Connection from {} closed in the middle of a message ({} of its frame 0 read)",
                    ctx.channel().remoteAddress(), peer.inbound.progress());
            closeInbound(peer);
        }
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
        SchedulerRequest request;
        try {
            request = SchedulerRequest.decode(m, peer.generation);
        } catch (ProtocolException e) {
            // A request that lacks a field its handler needs is answered, as Dask answers a handler's
            // TypeError; the connection stays (only a broken frame or stream closes it).
            if (wantsReply) {
                Peer.send(peer.channel, PeerReply.error("TypeError", "bad request: " + e.getMessage()));
            }
            return;
        }
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
        if (!(request instanceof SchedulerRequest.Unknown) || !coordination.handle(peer, m, reply)) {
            requests.handle(peer, request, reply);
        }
    }

    /** Returns false when the stream ended. */
    private boolean onStreamMessage(Peer peer, Object o) {
        if (!(o instanceof Map<?, ?> m)) {
            throw new ProtocolException("stream message is not a map: " + DataRelay.brief(o));
        }
        try {
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
            return onClientMessage(peer, message);
        } catch (ProtocolException e) {
            // one message that lacks a field its handler needs is dropped (Dask's stream handler
            // logs its TypeError and goes on); the stream and the rest of its batch stay
            log.warn("Ignoring {} from {}: {}", m.get("op"), peer.id, e.getMessage());
            return true;
        }
    }

    private boolean onClientMessage(Peer peer, ClientToScheduler message) {
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
