package org.cloudviper.protocol.netty;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * Which Netty transport the servers' event loops run: Linux epoll (Netty's native transport: no
 * selector key sets, fewer JNI crossings and less garbage per read and write than Java NIO) where
 * its native library loads, else NIO. {@code -Dcloudviper.transport=nio} forces NIO. Channels are
 * picked to match the loop they are registered with, so a caller's own NIO loop keeps working.
 */
public final class Transports {
    private static final boolean EPOLL = !"nio".equalsIgnoreCase(System.getProperty("cloudviper.transport"))
            && Epoll.isAvailable();

    private Transports() {
    }

    /** The I/O handler for new event loop groups. */
    public static IoHandlerFactory ioHandlerFactory() {
        return EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /** "epoll" or "nio": what {@link #ioHandlerFactory} gives, for logs. */
    public static String name() {
        return EPOLL ? "epoll" : "nio";
    }

    static boolean isEpoll(EventLoopGroup group) {
        return group.next() instanceof IoEventLoop loop && loop.isCompatible(EpollIoHandle.class);
    }

    /** The client socket channel class for connections registered with {@code group}. */
    public static Class<? extends SocketChannel> socketChannel(EventLoopGroup group) {
        return isEpoll(group) ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** The listening socket channel class for a server running on {@code group}. */
    public static Class<? extends ServerSocketChannel> serverChannel(EventLoopGroup group) {
        return isEpoll(group) ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }
}
