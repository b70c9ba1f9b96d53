package org.cloudviper.scheduler.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.AttributeKey;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.PeerVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * One connection to the scheduler and what it has become: request/reply (RPC) until
 * {@code register-client} or {@code register-worker} turns it into that peer's stream. Its
 * distributed line is read once, from the registration's versions.
 */
final class Peer implements StreamBatcher.Stream {
    private static final Logger log = LoggerFactory.getLogger(Peer.class);
    static final AttributeKey<Peer> KEY = AttributeKey.valueOf("cloudviper.peer");

    /**
     * A write that fails (e.g. direct memory exhausted while a large reply is flushed) leaves the
     * peer waiting for a message that never comes: say why and close the connection, so the peer
     * sees a closed comm instead of a hang.
     */
    private static final ChannelFutureListener CLOSE_ON_WRITE_FAILURE = f -> {
        if (!f.isSuccess()) {
            log.error("Write to {} failed, closing it", f.channel().remoteAddress(), f.cause());
            f.channel().close();
        }
    };

    enum Role { RPC, CLIENT, WORKER }

    final Channel channel;
    Role role = Role.RPC;
    /** The client id or the worker address, once registered. */
    String id;
    Generation generation = Generation.DASK_2022;
    /** The distributed version the peer stated when it registered. */
    PeerVersion version = PeerVersion.UNSTATED;
    /** A cloudviper peer (Java worker, JavaClient), not held to one line with the Python peers. */
    boolean cloudviper;
    /** The packages its versions listed (for Dask's version-mismatch warning). */
    Map<?, ?> packages = Map.of();
    /** The client's stream is ending (stream-closed sent). */
    boolean closing;
    /** The message whose large frame 0 is arriving, read as it comes; null between such messages. */
    GraphStream inbound;

    Peer(Channel channel) {
        this.channel = channel;
    }

    static Peer of(Channel ch) {
        return ch.attr(KEY).get();
    }

    /** Encodes {@code message} and writes it as one Dask message; a failed write closes the connection. */
    static void send(Channel ch, Object message) {
        ch.writeAndFlush(MessageCodec.encode(message)).addListener(CLOSE_ON_WRITE_FAILURE);
    }

    void send(Object message) {
        send(channel, message);
    }

    /** Writes {@code message}, then closes the connection (a refused registration). */
    void sendAndClose(Object message) {
        channel.writeAndFlush(MessageCodec.encode(message)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public boolean isActive() {
        return channel.isActive();
    }

    @Override
    public boolean paced() {
        return role == Role.CLIENT;
    }

    @Override
    public void write(List<Object> batch) {
        send(channel, batch);
    }

    @Override
    public String toString() {
        return role + " " + (id != null ? id : channel.remoteAddress());
    }
}
