package org.cloudviper.worker.runtime;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.message.WorkerRequest;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.state.Event;
import org.cloudviper.worker.state.WorkerState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What peers, the scheduler and clients ask of a worker on its listener (distributed
 * Worker.handlers): its data (get_data, with Dask's limit on concurrent transfers), new data
 * (update_data, from scatter), and who it is. Runs on the worker's event loop, next to the state.
 */
final class PeerService {
    private static final Logger log = LoggerFactory.getLogger(PeerService.class);
    private static final AttributeKey<Boolean> AWAITING_OK = AttributeKey.valueOf("cloudviper.worker.awaitingOk");

    /** What the service needs of its worker. */
    interface Worker {
        WorkerState state();

        SchedulerLink link();

        String serverId();

        /** Feeds the state machine. */
        void handle(Event e);

        void closeAsync(String reason);
    }

    private final WorkerConfig config;
    private final Worker worker;
    private final Supplier<InetSocketAddress> listenAddress;
    /** get_data replies sent and not yet confirmed, and all ever sent. */
    private int outgoingTransfers;
    private long outgoingTransfersTotal;

    PeerService(WorkerConfig config, Worker worker, Supplier<InetSocketAddress> listenAddress) {
        this.config = config;
        this.worker = worker;
        this.listenAddress = listenAddress;
    }

    int outgoingTransfers() {
        return outgoingTransfers;
    }

    long outgoingTransfersTotal() {
        return outgoingTransfersTotal;
    }

    /** The handler at the end of each accepted connection's pipeline. */
    ChannelInboundHandlerAdapter handler() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                MessageCodec.withDecoded((Frames) msg, tree -> onRequest(ctx.channel(), tree));
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (Boolean.TRUE.equals(ctx.channel().attr(AWAITING_OK).getAndSet(null))) {
                    outgoingTransfers--;
                }
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
                        ? cause.getCause() : cause;
                if (c instanceof ProtocolException || c instanceof IOException) {
                    log.warn("Closing connection from {}: {}", ctx.channel().remoteAddress(), c.getMessage());
                } else {
                    log.error("Closing connection from {} after an internal error", ctx.channel().remoteAddress(), c);
                }
                ctx.close();
            }
        };
    }

    private void onRequest(Channel ch, Object msg) {
        if (Boolean.TRUE.equals(ch.attr(AWAITING_OK).get())) {
            // get_data's second step: the requester confirms it has the data (distributed Worker.get_data).
            ch.attr(AWAITING_OK).set(null);
            outgoingTransfers--;
            if (!"OK".equals(msg)) {
                throw new ProtocolException("expected \"OK\" after get_data, got " + Trees.brief(msg));
            }
            return;
        }
        if (!(msg instanceof Map<?, ?> m)) {
            throw new ProtocolException("request is not a map: " + Trees.brief(msg));
        }
        WorkerRequest request = WorkerRequest.decode(m, worker.link().generation());
        Object reply;
        if (request instanceof WorkerRequest.GetData g) {
            getData(ch, g);
            return;
        } else if (request instanceof WorkerRequest.UpdateData u) {
            reply = updateData(u);
        } else if (request instanceof WorkerRequest.Identity) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("type", "Worker");
            r.put("id", worker.serverId());
            r.put("scheduler", config.scheduler());
            r.put("nthreads", (long) config.nthreads());
            r.put("memory_limit", config.memoryLimit());
            reply = r;
        } else if (request instanceof WorkerRequest.Keys) {
            reply = new ArrayList<>(worker.state().dataKeys());
        } else if (request instanceof WorkerRequest.Versions) {
            reply = worker.link().versions();
        } else if (request instanceof WorkerRequest.GetStory g) {
            reply = worker.state().story(g.keysOrStimuli());
        } else if (request instanceof WorkerRequest.Ping) {
            reply = "pong";
        } else if (request instanceof WorkerRequest.FreeKeys f) {
            worker.handle(new Event.FreeKeys(f.keys(), f.stimulusId() != null ? f.stimulusId()
                    : "free-keys-" + SchedulerLink.now()));
            reply = "OK";
        } else if (request instanceof WorkerRequest.Terminate) {
            reply = "OK";
            ch.eventLoop().execute(() -> worker.closeAsync("terminate"));
        } else if (request instanceof WorkerRequest.Close) {
            if (Rpc.wantsReply(m)) {
                ch.writeAndFlush(MessageCodec.encode("OK"));
            }
            ch.close();
            return;
        } else {
            String op = request instanceof WorkerRequest.Unknown u ? u.op() : request.getClass().getSimpleName();
            log.warn("Unknown operation {} from {}; replying nil", op, ch.remoteAddress());
            reply = null;
        }
        if (Rpc.wantsReply(m)) {
            ch.writeAndFlush(MessageCodec.encode(reply));
        }
        if (Rpc.closesAfter(m)) {
            ch.close();
        }
    }

    /**
     * Worker.get_data: the values as they are stored (read back from disk if spilled), or "busy"
     * when this worker already serves its limit of transfers (doubled for a peer on the same host;
     * one while paused, as Dask throttles a paused worker, the scheduler's gather included).
     */
    private void getData(Channel ch, WorkerRequest.GetData request) {
        long limit = config.outgoingTransferLimit();
        InetSocketAddress me = listenAddress.get();
        if (ch.remoteAddress() instanceof InetSocketAddress peer && peer.getAddress() != null
                && peer.getAddress().equals(me.getAddress())) {
            limit *= 2;
        }
        if (request.maxConnections() instanceof Number n) {
            limit = n.longValue();
        }
        boolean unlimited = Boolean.FALSE.equals(request.maxConnections());
        if ("paused".equals(worker.state().status())) {
            limit = 1;
            unlimited = false;
        }
        if (!unlimited && outgoingTransfers >= limit) {
            ch.writeAndFlush(MessageCodec.encode(WorkerRequest.GetData.Reply.BUSY.encode(worker.link().generation())));
            return;
        }
        Map<Object, Object> data = new LinkedHashMap<>();
        Frames encoded;
        try {
            for (Object k : request.keys()) {
                if (worker.state().data(k) instanceof StoredValue v) {
                    data.put(k, v.wireRetained());
                }
            }
            encoded = MessageCodec.encode(new WorkerRequest.GetData.Reply("OK", data).encode(worker.link().generation()));
        } catch (IOException e) {
            log.error("get_data from {}: could not read a spilled value: {}", ch.remoteAddress(), e.getMessage());
            ch.close(); // the peer sees a failed transfer and asks elsewhere or reports the key missing
            return;
        } finally {
            data.values().forEach(v -> ((SubObject) v).release()); // the encoded frames hold their own references
        }
        outgoingTransfers++;
        outgoingTransfersTotal++;
        ch.attr(AWAITING_OK).set(Boolean.TRUE);
        ch.writeAndFlush(encoded).addListener(f -> {
            if (!f.isSuccess()) {
                ch.close();
            }
        });
    }

    /** update_data (scatter): keep the Serialized values as they came and serve them back verbatim. */
    private Object updateData(WorkerRequest.UpdateData request) {
        Map<Object, Object> data = new LinkedHashMap<>();
        Map<Object, Long> nbytes = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : request.data().entrySet()) {
            SubObject s;
            if (e.getValue() instanceof SubObject sub) {
                sub.retain();
                s = sub;
            } else {
                try {
                    s = Serde.encode(e.getValue()); // a plain msgpack value: keep it in the msgpack family
                } catch (Serde.DataException ex) {
                    data.values().forEach(v -> ((StoredValue) v).release());
                    throw new ProtocolException("update_data value of " + e.getKey() + ": " + ex.getMessage());
                }
            }
            StoredValue v = StoredValue.received(s);
            data.put(e.getKey(), v);
            nbytes.put(e.getKey(), v.nbytes);
        }
        String sid = request.stimulusId() != null ? request.stimulusId() : "update-data-" + SchedulerLink.now();
        worker.handle(new Event.UpdateData(data, nbytes, request.reportsAddKeys(worker.link().generation()), sid));
        return new WorkerRequest.UpdateData.Reply(nbytes).encode(worker.link().generation());
    }
}
