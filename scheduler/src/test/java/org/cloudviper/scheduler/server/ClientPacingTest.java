package org.cloudviper.scheduler.server;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.cloudviper.protocol.netty.Handshake;
import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client's stream is paced as Dask's scheduler paces it (BatchedSend, 2 ms): a message that
 * follows the previous write within 2 ms is held until 2 ms after it, while the first one after a
 * quiet spell goes at once. Observed frame by frame on a raw connection, in-process, no Python.
 * Each message the test provokes is a cancelled-key: the answer to report-key for an unknown key.
 */
@Timeout(30)
class ClientPacingTest {
    /** A frame the client received: when, and its decoded messages. */
    private record Arrival(long nanos, List<?> messages) {
    }

    private Scheduler scheduler;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final BlockingQueue<Arrival> frames = new LinkedBlockingQueue<>();

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (scheduler != null) {
            scheduler.close();
        }
    }

    private Channel connect() throws Exception {
        scheduler = Scheduler.start(SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0));
        Channel ch = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel c) {
                        c.pipeline().addLast(new FrameDecoder(FrameLimits.DEFAULT), FrameEncoder.INSTANCE,
                                new Handshake(), new ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        long now = System.nanoTime();
                                        Frames f = (Frames) msg;
                                        try {
                                            List<?> decoded = assertInstanceOf(List.class, MessageCodec.decode(f));
                                            frames.add(new Arrival(now, decoded));
                                            // Answer a "first-N" at once, from this loop: no thread
                                            // hand-off between the reply and the next request.
                                            if (decoded.get(0) instanceof Map<?, ?> m
                                                    && m.get("key") instanceof String k && k.startsWith("first-")) {
                                                reportKey(ctx.channel(), "second-" + k.substring(6));
                                            }
                                        } finally {
                                            f.release();
                                        }
                                    }
                                });
                    }
                })
                .connect("127.0.0.1", scheduler.port()).sync().channel();
        Map<String, Object> register = new LinkedHashMap<>();
        register.put("op", "register-client");
        register.put("client", "Client-pacing-test");
        register.put("versions", Map.of());
        register.put("reply", false);
        ch.writeAndFlush(MessageCodec.encode(register)).sync();
        Arrival start = next();
        assertEquals("stream-start", ((Map<?, ?>) start.messages().get(0)).get("op"));
        return ch;
    }

    private Arrival next() throws InterruptedException {
        Arrival a = frames.poll(10, TimeUnit.SECONDS);
        assertNotNull(a, "no frame from the scheduler within 10 s");
        return a;
    }

    /** Asks about a key the scheduler does not know: one cancelled-key for it on the client's stream. */
    private static void reportKey(Channel ch, String key) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", "report-key");
        m.put("key", key);
        ch.writeAndFlush(MessageCodec.encode(List.of(m)));
    }

    private static List<Object> keys(Arrival a) {
        return a.messages().stream().<Object>map(o -> {
            Map<?, ?> m = (Map<?, ?>) o;
            assertEquals("cancelled-key", m.get("op"));
            return m.get("key");
        }).toList();
    }

    @Test
    void aMessageWithinTwoMillisecondsOfTheLastWriteIsHeldTheFirstAfterAQuietSpellIsNot() throws Exception {
        Channel ch = connect();
        for (int i = 0; i < 300; i++) { // warm both JVMs' paths up, one quiet spell per message
            reportKey(ch, "warm-" + i);
            assertEquals(List.of("warm-" + i), keys(next()));
            Thread.sleep(3);
        }
        long fastestFirst = Long.MAX_VALUE;
        long shortestPair = Long.MAX_VALUE;
        for (int i = 0; i < 20; i++) {
            Thread.sleep(5); // quiet: the first reply goes at once
            String key = "first-" + i;
            long sent = ch.eventLoop().submit(() -> { // from the client's loop, as the second request
                long t = System.nanoTime();
                reportKey(ch, key);
                return t;
            }).get();
            Arrival first = next();
            assertEquals(List.of("first-" + i), keys(first));
            // The handler asks for "second-i" as soon as "first-i" arrives, well within 2 ms of the
            // scheduler's write of "first-i": its reply is held.
            Arrival second = next();
            assertEquals(List.of("second-" + i), keys(second));
            fastestFirst = Math.min(fastestFirst, first.nanos() - sent);
            shortestPair = Math.min(shortestPair, second.nanos() - sent);
        }
        // The scheduler runs in this JVM, so its clock is ours. Paced, the second reply leaves no
        // earlier than 2 ms after the first was written, which was after "sent"; unpaced, it is back
        // two local round trips after "sent" (1.4-2.0 ms in four runs here with the pacing set to 0).
        assertTrue(shortestPair >= TimeUnit.MILLISECONDS.toNanos(2),
                "a second reply arrived " + shortestPair / 1000 + " us after the first request was sent");
        // Held, it would arrive no earlier than 2 ms after "sent"; at once, it is one round trip.
        assertTrue(fastestFirst < TimeUnit.MILLISECONDS.toNanos(2),
                "the fastest first reply after a quiet spell took " + fastestFirst / 1000 + " us");
        ch.close().sync();
    }
}
