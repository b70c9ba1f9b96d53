package org.cloudviper.protocol.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.SubObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The first message each way of every Dask connection (distributed/comm/core.py). We write ours as
 * soon as the channel is active, on accept and on connect alike: 2022 connectors read first, 2024
 * peers write first, and writing first satisfies both. The peer's handshake is consumed here, stored
 * in {@link #PEER}, and announced with {@link Completed}; every later message passes through.
 *
 * <p>We advertise no compression, so no Python peer compresses towards us.
 */
public final class Handshake extends ChannelInboundHandlerAdapter {
    public static final AttributeKey<Map<?, ?>> PEER = AttributeKey.valueOf("cloudviper.peerHandshake");

    /** User event fired once the peer's handshake arrived. */
    public record Completed(Map<?, ?> peer) {
    }

    public static Map<String, Object> ours() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("compression", null);
        m.put("python", List.of(3L, 11L, 2L));
        m.put("pickle-protocol", 5L);
        return m;
    }

    private boolean received;
    private boolean failed;

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.writeAndFlush(MessageCodec.encode(ours()));
        super.channelActive(ctx);
    }

    /**
     * A first message that is not a handshake closes the connection and is reported as a
     * {@link ProtocolException}; whatever the peer sends after it is dropped, so a later message can
     * never be mistaken for the handshake.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (received) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (failed) {
            if (msg instanceof Frames dropped) {
                dropped.release(); // a record, not ReferenceCounted
            } else if (msg instanceof StreamedMessage part) {
                part.release();
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (msg instanceof StreamedMessage part) {
            failed = true;
            part.release();
            ctx.close();
            throw new ProtocolException("handshake: expected a small map, got a message whose frame 0 is "
                    + (part instanceof StreamedMessage.Start s ? s.frame0Length() + " bytes" : "streamed"));
        }
        Frames f = (Frames) msg;
        Object v = null;
        try {
            v = MessageCodec.decode(f);
            if (!(v instanceof Map<?, ?> m) || !isHandshake(m)) {
                throw new ProtocolException("handshake: expected a map with compression (str or nil) and pickle-protocol"
                        + " (int), got " + describe(v));
            }
            received = true;
            ctx.channel().attr(PEER).set(m);
            ctx.fireUserEventTriggered(new Completed(m));
        } catch (RuntimeException e) {
            failed = true;
            releaseSubObjects(v);
            ctx.close();
            throw e;
        } finally {
            f.release();
        }
    }

    /** Both keys are mandatory (distributed/comm/core.py handshake_configuration); no sub-objects. */
    private static boolean isHandshake(Map<?, ?> m) {
        Object compression = m.get("compression");
        return m.get("pickle-protocol") instanceof Long
                && m.containsKey("compression") && (compression == null || compression instanceof String)
                && !holdsSubObject(m);
    }

    private static boolean holdsSubObject(Object v) {
        if (v instanceof SubObject) {
            return true;
        } else if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (holdsSubObject(e.getKey()) || holdsSubObject(e.getValue())) {
                    return true;
                }
            }
        } else if (v instanceof List<?> l) {
            for (Object o : l) {
                if (holdsSubObject(o)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** A rejected first message may hold sub-objects, which own references to its frames. */
    private static void releaseSubObjects(Object v) {
        if (v instanceof SubObject s) {
            s.release();
        } else if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                releaseSubObjects(e.getKey());
                releaseSubObjects(e.getValue());
            }
        } else if (v instanceof List<?> l) {
            for (Object o : l) {
                releaseSubObjects(o);
            }
        }
    }

    static String describe(Object v) {
        String s = String.valueOf(v);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
