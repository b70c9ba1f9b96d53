package org.cloudviper.scheduler;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.PeerVersion;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.WorkerMetrics;
import org.cloudviper.protocol.netty.BatchedStream;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.protocol.netty.Transports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Peers that announce a distributed release outside every line cloudviper speaks (2021.1.1, 2023.1.0
 * between two lines, a future 2027.1.0), and Python peers of two lines in one cluster, are refused
 * when they register, with a message naming their version and the supported ones, which the
 * scheduler logs; the scheduler and the peers already there go on. The fake peers speak the
 * records of the protocol module over real TCP.
 */
class VersionRefusalTest {
    private static EventLoopGroup group;
    private Scheduler scheduler;
    private final List<FakePeer> peers = new ArrayList<>();
    private static final AtomicInteger PORTS = new AtomicInteger(40_000);
    /** Before the first line, between the 2022.12 and 2024.1 lines, after the last. */
    private static final List<String> REFUSED = List.of("2021.1.1", "2023.1.0", "2027.1.0");

    @BeforeAll
    static void loop() {
        group = new MultiThreadIoEventLoopGroup(1, Transports.ioHandlerFactory());
    }

    @AfterAll
    static void stopLoop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    @BeforeEach
    void start() throws InterruptedException {
        scheduler = Scheduler.start(SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0));
    }

    @AfterEach
    void stop() {
        peers.forEach(FakePeer::close);
        scheduler.close();
    }

    @Test
    void workersOfReleasesOutsideTheLinesAreRefusedNamingTheirVersionAndTheSupportedOnes() throws Exception {
        for (String v : REFUSED) {
            Captured log = new Captured();
            FakePeer w;
            Map<?, ?> reply;
            try (log) {
                w = worker(v);
                reply = (Map<?, ?>) w.next();
            }
            assertEquals("error", reply.get("status"));
            String message = Fields.str(reply, "message");
            assertEquals("worker " + w.id + " runs distributed " + v + ", which cloudviper does not speak: it speaks"
                    + " distributed 2022.11.0 to 2022.12.1, 2023.10.0 to 2024.7.0, 2024.12.0 to 2024.12.1"
                    + " (docs/dask-protocol.md, section 4.4)", message);
            assertTrue(log.text().contains("WARN org.cloudviper.scheduler.server.RequestHandlers - Refused worker "
                    + w.id + ": " + message), "the scheduler logs the refusal:\n" + log.text());
            assertTrue(w.closed.get(10, TimeUnit.SECONDS), "the scheduler closes the refused worker's connection");
            assertTrue(w.received.isEmpty(), "nothing after the refusal: " + w.received);
            assertEquals(0, scheduler.workerCount());
        }

        // the scheduler goes on: a worker of a supported release registers
        FakePeer ok = worker("2024.1.1");
        assertEquals("OK", ((Map<?, ?>) ok.next()).get("status"));
        assertEquals(1, scheduler.workerCount());
    }

    @Test
    void clientsOfReleasesOutsideTheLinesGetTheErrorTheirClientRaises() throws Exception {
        FakePeer before = client("2024.12.1");
        assertEquals("", streamStart(before).get("error"));
        FakePeer w = worker("2024.12.1");
        assertEquals("OK", ((Map<?, ?>) w.next()).get("status"));

        for (String v : REFUSED) {
            Captured log = new Captured();
            FakePeer c;
            String error;
            try (log) {
                c = client(v);
                error = Fields.str(streamStart(c), "error");
            }
            assertTrue(error.startsWith("client " + c.id + " runs distributed " + v + ", which cloudviper does not"
                    + " speak"), error);
            assertTrue(error.contains("2024.12.0 to 2024.12.1"), error);
            assertTrue(log.text().contains("Refused client " + c.id + ": " + error), log.text());
            assertTrue(c.closed.get(10, TimeUnit.SECONDS));
        }

        // the client and worker already there keep their streams; the scheduler still answers
        assertTrue(before.stream.isActive());
        assertTrue(w.stream.isActive());
        assertEquals(1, scheduler.workerCount());
        assertEquals("Scheduler", ((Map<?, ?>) call(SchedulerRequest.Identity.INSTANCE.encode(Generation.DASK_2024)))
                .get("type"));
        FakePeer w2 = worker("2024.12.1");
        assertEquals("OK", ((Map<?, ?>) w2.next()).get("status"));
        assertEquals(2, scheduler.workerCount());
    }

    @Test
    void pythonPeersOfTwoLinesAreNotServedTogether() throws Exception {
        FakePeer w = worker("2024.1.1");
        assertEquals("OK", ((Map<?, ?>) w.next()).get("status"));

        FakePeer newer = client("2024.12.1");
        String error = Fields.str(streamStart(newer), "error");
        assertTrue(error.contains("runs distributed 2024.12.1 (the 2024.12.0 to 2024.12.1 line) but worker "
                + w.id + " runs distributed 2024.1.1 (the 2023.10.0 to 2024.7.0 line)"), error);

        FakePeer older = worker("2022.12.1");
        Map<?, ?> reply = (Map<?, ?>) older.next();
        assertEquals("error", reply.get("status"));
        assertTrue(Fields.str(reply, "message").contains("(the 2022.11.0 to 2022.12.1 line)"), reply.toString());

        // the same line, another release: served, with Dask's warning
        FakePeer sameLine = client("2024.2.0");
        Map<?, ?> start = streamStart(sameLine);
        assertEquals("", start.get("error"));
        String warning = Fields.str(start, "warning");
        assertTrue(warning.startsWith("Mismatched versions found\n\n+"), warning);
        assertTrue(warning.contains("| distributed | 2024.2.0 | 2024.1.1 |"), warning);

        // a Java worker is served under any line: it reads every task form
        FakePeer java = peer(register("tcp://127.0.0.1:" + PORTS.incrementAndGet(), versions("2022.12.1", true)));
        assertEquals("OK", ((Map<?, ?>) java.next()).get("status"));
        assertEquals(2, scheduler.workerCount());
    }

    @Test
    void aWorkerWithAnUnreadableVersionIsRefused() throws Exception {
        FakePeer w = worker("0+untagged.5.gabcdef");
        Map<?, ?> reply = (Map<?, ?>) w.next();
        assertTrue(Fields.str(reply, "message").contains("runs an unreadable distributed version '0+untagged.5.gabcdef'"),
                reply.toString());
    }

    // ---------------------------------------------------------------------------------------------

    private FakePeer worker(String distributed) throws Exception {
        return peer(register("tcp://127.0.0.1:" + PORTS.incrementAndGet(), versions(distributed, false)));
    }

    private FakePeer client(String distributed) throws Exception {
        String id = "Client-" + PORTS.incrementAndGet();
        FakePeer c = peer(new SchedulerRequest.RegisterClient(id, versions(distributed, false))
                .encode(Generation.DASK_2024));
        c.id = id;
        return c;
    }

    private static Map<?, ?> streamStart(FakePeer c) throws InterruptedException {
        Map<?, ?> m = (Map<?, ?>) c.next();
        assertEquals("stream-start", m.get("op"));
        return m;
    }

    private static Map<String, Object> versions(String distributed, boolean cloudviper) {
        Map<String, Object> packages = new LinkedHashMap<>();
        packages.put("python", "3.11.7.final.0");
        packages.put("dask", distributed);
        packages.put("distributed", distributed);
        if (cloudviper) {
            packages.put(PeerVersion.CLOUDVIPER_PACKAGE, "dev");
        }
        return Map.of("host", Map.of("python", "3.11.7.final.0"), "packages", packages);
    }

    private static Map<String, Object> register(String address, Map<String, Object> versions) {
        Generation g = PeerVersion.of(versions).generationOr(Generation.DASK_2024);
        return new SchedulerRequest.RegisterWorker(address, address, 1, 1L << 30, Map.of(), "/tmp", Map.of(), null, 1,
                versions, new WorkerMetrics(Map.of(), 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0, 0.0).encode(g), Map.of(),
                "worker-connect", "Worker-" + address, 0.0).encode(g);
    }

    private FakePeer peer(Map<String, Object> opening) throws Exception {
        FakePeer p = new FakePeer();
        if (opening.get("address") instanceof String a) {
            p.id = a;
        }
        p.stream = BatchedStream.open(group.next(), FrameLimits.DEFAULT, scheduler.address(), opening, p)
                .get(10, TimeUnit.SECONDS);
        peers.add(p);
        return p;
    }

    private Object call(Map<String, Object> request) throws Exception {
        RpcClient rpc = new RpcClient(group.next(), FrameLimits.DEFAULT);
        CompletableFuture<Object> reply = new CompletableFuture<>();
        group.next().execute(() -> rpc.call(scheduler.address(), request, false, (r, e) -> {
            if (e != null) {
                reply.completeExceptionally(e);
            } else {
                reply.complete(Fields.plain(r));
            }
        }));
        return reply.get(10, TimeUnit.SECONDS);
    }

    /**
     * What is written to {@code System.err} while it is open, passed on as well: slf4j-simple, the
     * tests' logging backend, looks {@code System.err} up on every line it writes.
     */
    private static final class Captured implements AutoCloseable {
        private final PrintStream original = System.err;
        private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

        Captured() {
            System.setErr(new PrintStream(new OutputStream() {
                @Override
                public void write(int b) {
                    original.write(b);
                    synchronized (copy) {
                        copy.write(b);
                    }
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    original.write(b, off, len);
                    synchronized (copy) {
                        copy.write(b, off, len);
                    }
                }
            }, true, StandardCharsets.UTF_8));
        }

        String text() {
            synchronized (copy) {
                return copy.toString(StandardCharsets.UTF_8);
            }
        }

        @Override
        public void close() {
            System.err.flush();
            System.setErr(original);
        }
    }

    /** A registered stream that records what arrives on it. */
    private static final class FakePeer implements BatchedStream.Listener {
        final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        final CompletableFuture<Boolean> closed = new CompletableFuture<>();
        BatchedStream stream;
        String id;

        @Override
        public void onMessage(Object message) {
            received.add(Fields.plain(message));
        }

        @Override
        public void onClosed(Throwable cause) {
            closed.complete(true);
        }

        Object next() throws InterruptedException {
            Object m = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(m, "no message within 10 s");
            return m;
        }

        void close() {
            if (stream != null) {
                stream.close();
            }
        }
    }

    @Test
    void noVersionAtAllIsThe2022LineAsBefore() {
        assertNull(PeerVersion.of(Map.of()).refusal("worker x"));
    }
}
