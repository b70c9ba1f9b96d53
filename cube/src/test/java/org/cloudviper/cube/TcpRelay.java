package org.cloudviper.cube;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay on 127.0.0.1 in front of a test server, to see and to break what a client receives:
 * it counts the bytes sent back to the client, and can cut the first connections after a number of
 * those bytes (a reset mid-transfer). Threads per connection; test use only.
 */
final class TcpRelay implements AutoCloseable {
    private final ServerSocket server;
    private final int upstreamPort;
    private final AtomicLong toClient = new AtomicLong();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger cuts = new AtomicInteger();
    private final List<Socket> open = new ArrayList<>();
    private volatile int cutConnections;
    private volatile long cutAfterBytes;
    private volatile boolean closed;

    TcpRelay(URI upstream) throws IOException {
        this.upstreamPort = upstream.getPort();
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::acceptLoop, "tcp-relay-accept");
        accept.setDaemon(true);
        accept.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    /** The next {@code count} connections are cut after {@code bytes} sent to the client. */
    void cutNext(int count, long bytes) {
        this.cutAfterBytes = bytes;
        this.cutConnections = connections.get() + count;
    }

    /** Connections cut so far. */
    int cuts() {
        return cuts.get();
    }

    long bytesToClient() {
        return toClient.get();
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
                int n = connections.incrementAndGet();
                long limit = n <= cutConnections ? cutAfterBytes : Long.MAX_VALUE;
                synchronized (open) {
                    open.add(client);
                    open.add(upstream);
                }
                pump(client.getInputStream(), upstream.getOutputStream(), Long.MAX_VALUE, null, client, upstream);
                pump(upstream.getInputStream(), client.getOutputStream(), limit, toClient, client, upstream);
            } catch (IOException e) {
                if (!closed) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private void pump(InputStream in, OutputStream out, long limit, AtomicLong counter, Socket a, Socket b) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            long sent = 0;
            try {
                int n;
                while ((n = in.read(buf, 0, (int) Math.min(buf.length, Math.max(1, limit - sent)))) >= 0) {
                    out.write(buf, 0, n);
                    sent += n;
                    if (counter != null) {
                        counter.addAndGet(n);
                    }
                    if (sent >= limit) {
                        // a reset, as a broken network gives
                        a.setSoLinger(true, 0);
                        cuts.incrementAndGet();
                        break;
                    }
                }
            } catch (IOException ignored) {
                // the other side went away
            } finally {
                closeQuietly(a);
                closeQuietly(b);
            }
        }, "tcp-relay-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        synchronized (open) {
            open.forEach(TcpRelay::closeQuietly);
        }
    }
}
