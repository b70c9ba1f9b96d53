package org.cloudviper.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollMode;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The floor under any relay's CPU on this machine: moves GiB after GiB from a sending socket to a
 * receiving one through this process, either with {@code splice(2)} (the kernel moves page
 * references; no byte is copied to or from user space) or by reading into Netty buffers and writing
 * them on ({@code copy}, what a relay that forwards frames without copying them in Java does), and
 * prints the CPU this process and its event-loop thread used per GiB. A relay of Dask frames can
 * only add work to this: it must also parse preludes and headers.
 *
 * <p>Driven by {@code bench/scripts/relay_floor.py}, which starts a Python sender and receiver:
 * <pre>java -cp bench/target/benchmarks.jar org.cloudviper.bench.RelayFloorMain SENDER_PORT GIB splice|copy</pre>
 * Prints the port the receiver must connect to, then one line per GiB relayed.
 */
public final class RelayFloorMain {
    private static final long GIB = 1L << 30;

    private RelayFloorMain() {
    }

    public static void main(String[] args) throws Exception {
        int senderPort = Integer.parseInt(args[0]);
        int gib = Integer.parseInt(args[1]);
        boolean splice = switch (args[2]) {
            case "splice" -> true;
            case "copy" -> false;
            default -> throw new IllegalArgumentException("mode: " + args[2] + " (expected: splice or copy)");
        };
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try {
            CompletableFuture<Channel> receiver = new CompletableFuture<>();
            Channel server = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
                    .childOption(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel c) {
                            receiver.complete(c);
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
            System.out.println(((InetSocketAddress) server.localAddress()).getPort());
            System.out.flush();
            Channel to = receiver.get();
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long loopThread = group.submit(() -> Thread.currentThread().getId()).get();
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            CompletableFuture<Void> done = new CompletableFuture<>();
            long[] last = {System.nanoTime(), os.getProcessCpuTime(), threads.getThreadCpuTime(loopThread)};
            int[] gibDone = {0};
            Runnable gibRelayed = () -> {
                long now = System.nanoTime();
                long cpu = os.getProcessCpuTime();
                long loop = threads.getThreadCpuTime(loopThread);
                gibDone[0]++;
                System.out.printf("%s GiB %d: %.3f s wall, process CPU %.3f s, event loop %.3f s%n",
                        splice ? "splice" : "copy", gibDone[0], (now - last[0]) / 1e9, (cpu - last[1]) / 1e9,
                        (loop - last[2]) / 1e9);
                last[0] = now;
                last[1] = cpu;
                last[2] = loop;
                if (gibDone[0] == gib) {
                    done.complete(null);
                }
            };
            AtomicLong copied = new AtomicLong();
            Channel from = new Bootstrap().group(group).channel(EpollSocketChannel.class)
                    .option(EpollChannelOption.EPOLL_MODE, EpollMode.LEVEL_TRIGGERED)
                    .option(ChannelOption.AUTO_READ, !splice)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            long before = copied.get();
                            long after = copied.addAndGet(b.readableBytes());
                            to.write(b);
                            if (after / GIB != before / GIB) {
                                to.flush();
                                gibRelayed.run();
                            }
                        }

                        @Override
                        public void channelReadComplete(ChannelHandlerContext ctx) {
                            to.flush();
                            if (!to.isWritable()) {
                                ctx.channel().config().setAutoRead(false); // until the receiver drains
                            }
                        }
                    })
                    .connect("127.0.0.1", senderPort).sync().channel();
            if (splice) {
                spliceGiB((EpollSocketChannel) from, (EpollSocketChannel) to, gib, gibRelayed, done);
                from.config().setAutoRead(true);
            } else {
                to.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                        if (ctx.channel().isWritable()) {
                            from.config().setAutoRead(true);
                        }
                    }
                });
            }
            done.get();
            to.close().sync();
            from.close().sync();
            server.close().sync();
        } finally {
            group.shutdownGracefully().sync();
        }
    }

    /** One spliceTo per GiB, each started when the one before has moved its last byte. */
    private static void spliceGiB(EpollSocketChannel from, EpollSocketChannel to, int left, Runnable gibRelayed,
                                  CompletableFuture<Void> done) {
        if (left == 0) {
            return;
        }
        from.spliceTo(to, (int) GIB).addListener(f -> {
            if (!f.isSuccess()) {
                done.completeExceptionally(f.cause());
                return;
            }
            gibRelayed.run();
            spliceGiB(from, to, left - 1, gibRelayed, done);
        });
    }
}
