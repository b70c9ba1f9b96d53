package org.cloudviper.scheduler.interop;

import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Test 8: garbage on the scheduler's port closes those connections and nothing else. Raw sockets
 * send what no Dask peer would, while a stock client is connected and working: among them a
 * client's graph large enough to be read while it arrives, broken in the middle or cut short.
 *
 * <p>Against cloudviper each garbage connection must be closed within {@link #CLOSE_WITHIN}. The
 * Python reference scheduler is only checked for surviving: it reads a declared message length and
 * allocates it before looking further ({@code distributed/comm/tcp.py:TCP.read}), so (c) stays open
 * there, waiting for 16 MiB that never come.
 */
@DaskInterop
class GarbageInteropTest {

    /** The frame size limit cloudviper runs with in this test. */
    private static final long FRAME_LIMIT = 16L << 20;
    private static final Duration CLOSE_WITHIN = Duration.ofSeconds(5);
    private static final long RANDOM_SEED = 0x5eed_da5cL;

    @InteropTest
    void garbageClosesOnlyItsOwnConnection(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers, SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0)
                .withLimits(new FrameLimits(1_000_000, FRAME_LIMIT, 1L << 30)));
        scheduler.startWorkers(peers, 1, 1, false);
        Path go = peers.scratchDir("signals").resolve("go-after-garbage");
        Peer client = peers.startClient("garbage_neighbour.py", scheduler.address(), peers.inPython(go));
        client.awaitMarker("connected", Duration.ofSeconds(60));

        List<Probe> probes = new ArrayList<>();
        try {
            byte[] random = new byte[64 << 10];
            new Random(RANDOM_SEED).nextBytes(random);
            probes.add(Probe.send(scheduler.port(), "(a) 64 KiB of random bytes", random));
            probes.add(Probe.send(scheduler.port(), "(b) handshake, then a prelude announcing 2^40 frames",
                    handshake(), prelude(8 + 8 * (1L << 40), 1L << 40, new long[8])));
            probes.add(Probe.send(scheduler.port(), "(c) handshake, then a frame of the limit + 1 bytes",
                    handshake(), prelude(8 + 8 + FRAME_LIMIT + 1, 1, new long[] {FRAME_LIMIT + 1}),
                    new byte[1024]));
            // A client stream's graph large enough to be read while it arrives (GraphStream), broken
            // in its last task, and the same graph cut short by the peer closing its socket.
            byte[] graph = largeGraph();
            byte[] broken = graph.clone();
            broken[lastIndexOf(broken, "args".getBytes(StandardCharsets.US_ASCII)) + 4] = (byte) 0xc1;
            probes.add(Probe.send(scheduler.port(), "(d) a client's 2 MiB graph with a malformed task",
                    handshake(), registerClient("Client-garbage-d"), framed(broken)));
            Probe truncated = Probe.send(scheduler.port(), "(e) a client's 2 MiB graph, cut short by a close",
                    handshake(), registerClient("Client-garbage-e"),
                    Arrays.copyOf(framed(graph), 24 + graph.length * 2 / 3));
            truncated.socket.shutdownOutput();
            probes.add(truncated);
            Files.createFile(go); // the client maps its 100 tasks while the scheduler deals with the garbage

            long deadline = System.nanoTime() + CLOSE_WITHIN.toNanos();
            List<String> outcomes = new ArrayList<>();
            for (Probe p : probes) {
                p.awaitClose(deadline);
                outcomes.add(p.toString());
            }
            System.out.println("[interop] " + scheduler.kind() + " garbage outcomes:\n  " + String.join("\n  ", outcomes));

            ScriptResult r = client.awaitResult(PythonPeers.CLIENT_TIMEOUT);
            assertAll(
                    () -> assertEquals(2L, r.partLong("before"), "submit before the garbage"),
                    () -> assertEquals(LongStream.rangeClosed(1, 100).boxed().toList(), r.partList("map"),
                            "map of 100 tasks after the garbage"),
                    () -> assertEquals(1L, r.partLong("workers"), "workers after the garbage"),
                    () -> {
                        if (scheduler.isCloudviper()) {
                            for (Probe p : probes) {
                                assertNotEquals(Outcome.OPEN, p.outcome,
                                        p + ": not closed within " + CLOSE_WITHIN.toSeconds() + " s");
                            }
                            assertEquals(1, scheduler.workerCount().orElseThrow(), "cloudviper's worker count");
                        }
                    });
        } finally {
            for (Probe p : probes) {
                p.socket.close();
            }
        }
    }

    /** {@code {"compression": nil, "python": [3, 11, 2], "pickle-protocol": 5}} as one framed message. */
    private static byte[] handshake() {
        ByteArrayOutputStream m = new ByteArrayOutputStream();
        m.write(0x83);
        str(m, "compression");
        m.write(0xc0);
        str(m, "python");
        m.writeBytes(new byte[] {(byte) 0x93, 3, 11, 2});
        str(m, "pickle-protocol");
        m.write(5);
        byte[] payload = m.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(24 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(16 + payload.length).putLong(1).putLong(payload.length).put(payload);
        return b.array();
    }

    private static byte[] registerClient(String id) {
        return framed(MessageCodec.pack(new SchedulerRequest.RegisterClient(id, Map.of()).encode(Generation.DASK_2022)));
    }

    /** One frame as one message: {@code u64 L | u64 1 | u64 len | frame}. */
    private static byte[] framed(byte[] frame) {
        ByteBuffer b = ByteBuffer.allocate(24 + frame.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(16 + frame.length).putLong(1).putLong(frame.length).put(frame);
        return b.array();
    }

    /** A batch of one update-graph-hlg of 20,000 tasks as a 2022 client packs it: over 2 MiB. */
    private static byte[] largeGraph() {
        byte[] function = new byte[64];
        Map<String, Object> dsk = new LinkedHashMap<>();
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            String key = "garbage-" + i;
            Map<String, Object> spec = new LinkedHashMap<>();
            spec.put("function", function);
            spec.put("args", new byte[16]);
            dsk.put(key, spec);
            keys.add(key);
        }
        Map<String, Object> state = new LinkedHashMap<>(); // in Dask's order: dsk first
        state.put("dsk", dsk);
        state.put("dependencies", Map.of());
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("__module__", "dask.highlevelgraph");
        layer.put("__name__", "MaterializedLayer");
        layer.put("state", state);
        layer.put("annotations", Map.of());
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", "update-graph-hlg");
        msg.put("hlg", Map.of("layers", List.of(layer)));
        msg.put("keys", keys);
        byte[] packed = MessageCodec.pack(List.of(msg));
        if (packed.length < (2 << 20)) {
            throw new IllegalStateException("graph of " + packed.length + " bytes: too small to be streamed");
        }
        return packed;
    }

    private static int lastIndexOf(byte[] hay, byte[] needle) {
        for (int i = hay.length - needle.length; i >= 0; i--) {
            if (Arrays.equals(hay, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        throw new IllegalArgumentException("not found");
    }

    private static void str(ByteArrayOutputStream m, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        m.write(0xa0 | bytes.length); // fixstr: all keys here are < 32 bytes
        m.writeBytes(bytes);
    }

    /** {@code u64 L | u64 n | u64 len...} in Dask's little-endian layout, with whatever values we like. */
    private static byte[] prelude(long totalLength, long frameCount, long[] lengths) {
        ByteBuffer b = ByteBuffer.allocate(16 + 8 * lengths.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(totalLength).putLong(frameCount);
        for (long l : lengths) {
            b.putLong(l);
        }
        return b.array();
    }

    enum Outcome { CLOSED_EOF, CLOSED_RESET, OPEN }

    /** One raw connection, and what became of it. */
    private static final class Probe {
        final String what;
        final Socket socket;
        String sendError;
        Outcome outcome;
        long receivedBytes;

        private Probe(String what, Socket socket) {
            this.what = what;
            this.socket = socket;
        }

        static Probe send(int port, String what, byte[]... chunks) throws IOException {
            Socket s = new Socket();
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            Probe p = new Probe(what, s);
            try {
                for (byte[] c : chunks) {
                    s.getOutputStream().write(c);
                }
                s.getOutputStream().flush();
            } catch (IOException e) {
                p.sendError = e.toString(); // the scheduler may hang up before it has read everything
            }
            return p;
        }

        /** Reads (the scheduler's handshake, then nothing) until end of stream, a reset, or the deadline. */
        void awaitClose(long deadlineNanos) throws IOException {
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[8192];
            while (true) {
                long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    outcome = Outcome.OPEN;
                    return;
                }
                socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
                try {
                    int n = in.read(buf);
                    if (n < 0) {
                        outcome = Outcome.CLOSED_EOF;
                        return;
                    }
                    receivedBytes += n;
                } catch (SocketTimeoutException e) {
                    outcome = Outcome.OPEN;
                    return;
                } catch (SocketException e) {
                    outcome = Outcome.CLOSED_RESET; // closed with our bytes still unread: RST
                    return;
                }
            }
        }

        @Override
        public String toString() {
            return what + ": " + outcome + " (received " + receivedBytes + " bytes"
                    + (sendError == null ? "" : ", send failed: " + sendError) + ")";
        }
    }
}
