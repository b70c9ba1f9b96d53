package org.cloudviper.protocol.netty;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class TransportsTest {
    @Test
    void linuxX8664RunsOnEpollBecauseTheNativeLibraryShipsWithTheModule() {
        assumeTrue(System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64"),
                "the native library shipped is linux-x86_64");
        assertTrue(Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        assertEquals("epoll", Transports.name());
    }

    @Test
    void channelsFollowTheLoopTheyJoin() {
        assertChannels(NioIoHandler.newFactory(), NioSocketChannel.class, NioServerSocketChannel.class);
        assumeTrue(Epoll.isAvailable());
        assertChannels(EpollIoHandler.newFactory(), EpollSocketChannel.class, EpollServerSocketChannel.class);
    }

    private static void assertChannels(IoHandlerFactory io, Class<?> socket, Class<?> server) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, io);
        try {
            assertEquals(socket, Transports.socketChannel(group));
            assertEquals(server, Transports.serverChannel(group));
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
