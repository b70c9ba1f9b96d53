package org.cloudviper.protocol.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * A small HTTP/1.1 server for the diagnostic side of a scheduler or worker (health, metrics, JSON
 * routes, a status page): exact paths mapped to routes, bodies up to {@link #MAX_BODY} bytes, answered
 * on the event loop it is bound to. Every request gets one answer: an unknown path 404, a route that
 * throws 500 with the exception's text.
 */
public final class HttpEndpoint {
    /** Largest request body accepted (retire_workers' JSON is far smaller). */
    public static final int MAX_BODY = 1 << 20;

    /** One request as a route sees it. */
    public record Request(HttpMethod method, String path, Map<String, List<String>> query, byte[] body) {
        /** The first value of a query parameter, or {@code dflt}. */
        public String param(String name, String dflt) {
            List<String> v = query.get(name);
            return v == null || v.isEmpty() ? dflt : v.get(0);
        }
    }

    /** The answer to one request; a route calls {@link #send} exactly once, on any thread. */
    public interface Reply {
        void send(int status, String contentType, byte[] body);

        default void text(int status, String body) {
            send(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** What answers one path; runs on the endpoint's event loop. */
    @FunctionalInterface
    public interface Route {
        void handle(Request request, Reply reply) throws Exception;
    }

    private final Channel channel;

    private HttpEndpoint(Channel channel) {
        this.channel = channel;
    }

    /**
     * Listens on {@code host:port} (0: a free port) on {@code group}, whose loop then runs every route.
     * {@code routes} maps a path ("/health") to its route.
     */
    public static HttpEndpoint bind(EventLoopGroup group, String host, int port, Map<String, Route> routes)
            throws InterruptedException {
        Map<String, Route> table = Map.copyOf(routes);
        ServerBootstrap b = new ServerBootstrap().group(group).channel(Transports.serverChannel(group))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY),
                                new Dispatch(table));
                    }
                });
        return new HttpEndpoint(b.bind(host, port).sync().channel());
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Stops listening; open connections close with the event loop. */
    public void close() {
        channel.close().awaitUninterruptibly(2_000);
    }

    private static final class Dispatch extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Map<String, Route> routes;

        Dispatch(Map<String, Route> routes) {
            this.routes = routes;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
            boolean keepAlive = HttpUtil.isKeepAlive(msg);
            Reply reply = (status, type, body) -> ctx.executor().execute(() -> write(ctx, keepAlive, status, type, body));
            if (!msg.decoderResult().isSuccess()) {
                reply.text(400, "bad request: " + msg.decoderResult().cause() + "\n");
                return;
            }
            QueryStringDecoder q = new QueryStringDecoder(msg.uri());
            Route route = routes.get(q.path());
            if (route == null) {
                reply.text(404, "not found: " + q.path() + "\n");
                return;
            }
            Request request = new Request(msg.method(), q.path(), q.parameters(), ByteBufUtil.getBytes(msg.content()));
            try {
                route.handle(request, reply);
            } catch (Exception e) {
                reply.text(500, e + "\n");
            }
        }

        private static void write(ChannelHandlerContext ctx, boolean keepAlive, int status, String type, byte[] body) {
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
                    Unpooled.wrappedBuffer(body));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
            r.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
            HttpUtil.setContentLength(r, body.length);
            HttpUtil.setKeepAlive(r, keepAlive);
            if (keepAlive) {
                ctx.writeAndFlush(r);
            } else {
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
