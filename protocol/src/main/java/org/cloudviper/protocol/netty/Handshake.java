package org.cloudviper.protocol.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.ProtocolException;

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

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ctx.writeAndFlush(MessageCodec.encode(ours()));
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (received) {
            ctx.fireChannelRead(msg);
            return;
        }
        Frames f = (Frames) msg;
        try {
            Object v = MessageCodec.decode(f);
            if (!(v instanceof Map<?, ?> m) || !m.containsKey("compression") || !m.containsKey("pickle-protocol")) {
                throw new ProtocolException("handshake: expected a map with compression and pickle-protocol, got "
                        + describe(v));
            }
            received = true;
            ctx.channel().attr(PEER).set(m);
            ctx.fireUserEventTriggered(new Completed(m));
        } finally {
            f.release();
        }
    }

    static String describe(Object v) {
        String s = String.valueOf(v);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
