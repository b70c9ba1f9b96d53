package org.cloudviper.protocol.pickle;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Hostile input: whatever the bytes, the reader and the slicer end with a result or a
 * {@link PickleException} (never another exception, never a StackOverflowError), in bounded time
 * and with allocation bounded by the input size and the limits, not by declared lengths.
 */
class HostilePickleTest {
    /** {@code -Dpickle.fuzz.iterations=N} mutations per corpus pickle; {@code -Dpickle.fuzz.seed=S}. */
    static final int ITERATIONS = Integer.getInteger("pickle.fuzz.iterations", 300);
    static final long SEED = Long.getLong("pickle.fuzz.seed", 20241201L);

    private static final int[] OPCODES = {'(', '.', '0', '1', 'J', 'K', 'M', 'N', 'R', 'X', 'a', 'b', 'c', 'd', '}',
            'e', 'g', 'h', 'j', 'l', ']', 'p', 'q', 'r', 's', 't', ')', 'u', 'G', 'B', 'C', 0x80, 0x81, 0x85, 0x86, 0x87,
            0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
            'P', 'Q', 0x82, 'i', 'o', '2', 'I', 'S', 0xff};

    @Test
    void mutatedCorpusPicklesFailOnlyWithPickleException() {
        List<Corpus.Case> cases = Corpus.cases();
        List<byte[]> graphs = new ArrayList<>();
        cases.forEach(c -> graphs.add(c.graph()));
        PickleLimits limits = PickleLimits.DEFAULT.withMaxValues(200_000).withMaxDepth(200);
        GraphSlicer slicer = new GraphSlicer(limits);
        int[] outcomes = new int[3]; // sliced, PickleException, UnsupportedGraphException
        assertTimeoutPreemptively(Duration.ofSeconds(300), () -> {
            Random rnd = new Random(SEED);
            for (int ci = 0; ci < cases.size(); ci++) {
                Corpus.Case c = cases.get(ci);
                byte[] original = graphs.get(ci);
                for (int it = 0; it < ITERATIONS; it++) {
                    StringBuilder how = new StringBuilder();
                    byte[] m = mutate(original, graphs.get(rnd.nextInt(graphs.size())), rnd, how);
                    int buffers = rnd.nextInt(4) == 0 ? rnd.nextInt(3) : c.buffers();
                    try {
                        SlicedGraph g = slicer.slice(m, buffers);
                        for (TaskSlice t : g.tasks()) {
                            // whatever was produced is itself a well-formed pickle
                            new PickleReader().read(t.runSpec(), t.bufferFrames().length);
                        }
                        outcomes[0]++;
                    } catch (UnsupportedGraphException e) {
                        outcomes[2]++;
                    } catch (PickleException e) {
                        outcomes[1]++;
                        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty());
                        assertTrue(!e.getMessage().contains("please report"),
                                "internal error for " + c.name() + " " + how + ": " + e.getMessage() + "\n" + hex(m));
                    } catch (Throwable t) {
                        fail("case " + c.name() + ", seed " + SEED + ", iteration " + it + ", " + how + ": " + t
                                + "\n" + hex(m), t);
                    }
                }
            }
        });
        System.out.printf("fuzz: %d mutations, %d sliced, %d PickleException, %d UnsupportedGraphException%n",
                outcomes[0] + outcomes[1] + outcomes[2], outcomes[0], outcomes[1], outcomes[2]);
        assertTrue(outcomes[1] > 0 && outcomes[0] > 0, "both outcomes occur");
    }

    static byte[] mutate(byte[] in, byte[] other, Random rnd, StringBuilder how) {
        byte[] b = in.clone();
        int rounds = 1 + rnd.nextInt(3);
        for (int r = 0; r < rounds && b.length > 2; r++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(7)) {
                case 0 -> {
                    b[at] ^= (byte) (1 << rnd.nextInt(8));
                    how.append("flip@").append(at).append(' ');
                }
                case 1 -> {
                    b[at] = (byte) rnd.nextInt(256);
                    how.append("set@").append(at).append(' ');
                }
                case 2 -> {
                    b = Arrays.copyOf(b, at);
                    how.append("truncate@").append(at).append(' ');
                }
                case 3 -> {
                    byte[] n = new byte[b.length + 1];
                    System.arraycopy(b, 0, n, 0, at);
                    n[at] = (byte) OPCODES[rnd.nextInt(OPCODES.length)];
                    System.arraycopy(b, at, n, at + 1, b.length - at);
                    b = n;
                    how.append("insert@").append(at).append(' ');
                }
                case 4 -> {
                    int len = Math.min(b.length - at, 1 + rnd.nextInt(16));
                    byte[] n = new byte[b.length - len];
                    System.arraycopy(b, 0, n, 0, at);
                    System.arraycopy(b, at + len, n, at, b.length - at - len);
                    b = n;
                    how.append("delete@").append(at).append('+').append(len).append(' ');
                }
                case 5 -> {
                    int len = Math.min(b.length - at, 1 + rnd.nextInt(64));
                    byte[] n = new byte[b.length + len];
                    System.arraycopy(b, 0, n, 0, at + len);
                    System.arraycopy(b, at, n, at + len, b.length - at);
                    b = n;
                    how.append("duplicate@").append(at).append('+').append(len).append(' ');
                }
                default -> {
                    int from = rnd.nextInt(other.length);
                    int len = Math.min(other.length - from, 1 + rnd.nextInt(64));
                    byte[] n = new byte[b.length + len];
                    System.arraycopy(b, 0, n, 0, at);
                    System.arraycopy(other, from, n, at, len);
                    System.arraycopy(b, at, n, at + len, b.length - at);
                    b = n;
                    how.append("splice@").append(at).append('+').append(len).append(' ');
                }
            }
        }
        return b;
    }

    static String hex(byte[] b) {
        String h = HexFormat.of().formatHex(b, 0, Math.min(b.length, 4096));
        return b.length > 4096 ? h + "..." : h;
    }

    // ------------------------------------------------------------------------------------ nesting

    static byte[] pickle(String head, String body, int repeat, String tail) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(PickleReaderTest.hex(head));
        byte[] b = PickleReaderTest.hex(body);
        for (int i = 0; i < repeat; i++) {
            out.writeBytes(b);
        }
        out.writeBytes(PickleReaderTest.hex(tail));
        return out.toByteArray();
    }

    @Test
    void deepNestingIsALimitNotAStackOverflow() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            PickleReader r = new PickleReader();
            String marks = assertThrows(PickleException.class,
                    () -> r.read(pickle("80 05", "28", 1_000_000, "2e"))).getMessage();
            assertEquals("pickle MARK nesting: 10001 (expected: <= 10000)", marks);
            byte[] lists = pickle("80 05", "5d", 1_000_000, "");
            byte[] nested = concat(lists, pickle("", "61", 999_999, "2e"));
            assertEquals("pickle nesting depth: 10001 (expected: <= 10000)",
                    assertThrows(PickleException.class, () -> r.read(nested)).getMessage());
            // With the depth limit lifted the reader still copes (it never recurses), and so do the
            // walks over the result: they give up at Python's recursion limit.
            PickleLimits unlimited = PickleLimits.DEFAULT.withMaxDepth(Integer.MAX_VALUE);
            ParsedPickle p = new PickleReader(unlimited).read(nested);
            assertEquals(1_000_000, p.root().depth());
            assertTrue(assertThrows(PickleException.class, () -> PickleValues.toJava(p.root())).getMessage()
                    .startsWith("plain value nesting"));
            assertThrows(PickleException.class, () -> new GraphSlicer(unlimited).slice(nested, 0));
            byte[] tuples = pickle("80 05 4e", "85", 1_000_000, "2e");
            ParsedPickle t = new PickleReader(unlimited).read(tuples);
            assertThrows(PickleException.class, () -> PickleValues.toKey(t.root()));
            assertTrue(t.root().toString().startsWith("tuple[1]"));
            // BUILD and REDUCE chains describe themselves without recursing
            byte[] calls = pickle("80 05 8c 01 6d 8c 01 66 93", "29 52", 100_000, "2e");
            assertTrue(new PickleReader(unlimited).read(calls).root().describe().startsWith("REDUCE("));
        });
    }

    @Test
    void deeplyNestedLegacyTaskIsRefusedOnASmallStack() throws Exception {
        byte[] graph = SyntheticGraphs.legacyNested(5_000);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        // The scheduler's event loop runs on a default 1 MB thread stack; the nesting limit (1,000) must
        // fail cleanly there even before the JIT compiles the walk (interpreted frames are larger;
        // 256 kB overflowed on a fresh JVM).
        Thread t = new Thread(null, () -> {
            try {
                new GraphSlicer().slice(graph, 0);
            } catch (Throwable e) {
                thrown.set(e);
            }
        }, "default-stack", 1024 * 1024);
        t.start();
        t.join(60_000);
        assertTrue(thrown.get() instanceof UnsupportedGraphException, String.valueOf(thrown.get()));
        assertTrue(thrown.get().getMessage().contains("nested deeper than 1000"), thrown.get().getMessage());
        // shallow enough: sliced, and the dependency is found at the bottom
        SlicedGraph ok = new GraphSlicer().slice(SyntheticGraphs.legacyNested(500), 0);
        assertEquals(List.of("x"), ok.byCanonicalKey().get("y").dependencies());
    }

    // ------------------------------------------------------------------------------------ lengths and memo

    @Test
    void hugeDeclaredLengthsAllocateNothing() {
        String[] claims = {
            "8d 00 00 00 00 00 00 00 40",  // BINUNICODE8 2^62
            "8e ff ff ff ff ff ff ff ff",  // BINBYTES8 2^64 - 1
            "96 00 00 00 00 00 01 00 00",  // BYTEARRAY8 2^40
            "58 ff ff ff ff",              // BINUNICODE 2^32 - 1
            "42 ff ff ff 7f",              // BINBYTES 2^31 - 1
            "8b ff ff ff 7f",              // LONG4 2^31 - 1
            "95 00 00 00 00 00 00 00 80",  // FRAME 2^63
        };
        for (String claim : claims) {
            byte[] p = PickleReaderTest.hex("80 05 " + claim + " 61 62 2e");
            long allocated = allocatedBy(() -> assertThrows(PickleException.class, () -> new PickleReader().read(p)));
            assertTrue(allocated < 1 << 20, claim + ": allocated " + allocated + " bytes");
        }
    }

    @Test
    void memoReferencesToUndefinedOrSparseIndexes() {
        String[] bad = {
            "68 00 2e",                    // BINGET 0, empty memo
            "4e 94 6a ff ff ff ff 2e",     // LONG_BINGET 2^32 - 1
            "4e 94 6a 01 00 00 00 2e",     // LONG_BINGET 1, only 0 defined
            "4e 67 39 39 39 39 39 39 39 39 39 39 39 0a 2e", // GET with 11 digits
            "4e 72 ff ff ff 7f 2e",        // LONG_BINPUT 2^31 - 1: far beyond the values read
            "4e 70 2d 31 0a 2e",           // PUT -1
        };
        for (String b : bad) {
            byte[] p = PickleReaderTest.hex("80 05 " + b);
            long allocated = allocatedBy(() -> assertThrows(PickleException.class, () -> new PickleReader().read(p)));
            assertTrue(allocated < 1 << 20, b + ": allocated " + allocated + " bytes");
        }
    }

    @Test
    void allocationStaysWithinTheLimitsWhateverTheInputSize() {
        PickleLimits small = PickleLimits.DEFAULT.withMaxValues(10_000).withMaxMemo(10_000);
        PickleReader r = new PickleReader(small);
        int mb = 1 << 20;
        Supplier<byte[]>[] inputs = new Supplier[]{
            () -> pickle("80 05", "5d", 32 * mb, "2e"),              // 32 M empty lists
            () -> pickle("80 05 4e 94", "68 00", 16 * mb, "2e"),     // 16 M references to one memo entry
            () -> pickle("80 05 4e", "94", 32 * mb, "2e"),           // 32 M MEMOIZEs of one value
            () -> pickle("80 05", "28", 32 * mb, "2e"),              // 32 M MARKs
            () -> pickle("80 05 28", "4e 94", 16 * mb, "74 2e"),     // a 16 M-item tuple
        };
        for (Supplier<byte[]> s : inputs) {
            byte[] p = s.get();
            long allocated = allocatedBy(() -> assertThrows(PickleException.class, () -> r.read(p)));
            assertTrue(allocated < 4 * mb, "allocated " + allocated + " bytes for a " + p.length + "-byte pickle");
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Bytes allocated by this thread while running {@code r}. */
    static long allocatedBy(Runnable r) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(id);
        r.run();
        return mx.getThreadAllocatedBytes(id) - before;
    }
}
