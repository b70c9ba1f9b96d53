package org.cloudviper.protocol.pickle;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reader opcode by opcode (hand-assembled pickles, written the way CPython writes them), its
 * spans and memo bookkeeping, and its error messages. Real pickles are covered by the corpus.
 */
class PickleReaderTest {

    /** {@code "80 05 4e 2e"} as bytes. */
    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    static PickleValue root(String hex) {
        return new PickleReader().read(hex(hex)).root();
    }

    static PickleValue root(String hex, int buffers) {
        return new PickleReader().read(hex(hex), buffers).root();
    }

    static String error(String hex) {
        return assertThrows(PickleException.class, () -> new PickleReader().read(hex(hex))).getMessage();
    }

    @Test
    void scalars() {
        assertInstanceOf(PickleValue.None.class, root("80 05 4e 2e"));
        assertEquals(true, PickleValues.toJava(root("80 05 88 2e")));
        assertEquals(false, PickleValues.toJava(root("80 05 89 2e")));
        assertEquals(255L, PickleValues.toJava(root("80 05 4b ff 2e")));
        assertEquals(0xbeefL, PickleValues.toJava(root("80 05 4d ef be 2e")));
        assertEquals(-1L, PickleValues.toJava(root("80 05 4a ff ff ff ff 2e")));
        assertEquals(0L, PickleValues.toJava(root("80 05 8a 00 2e")));
        assertEquals(-129L, PickleValues.toJava(root("80 05 8a 02 7f ff 2e")));
        assertEquals(BigInteger.TWO.pow(64), PickleValues.toJava(root("80 05 8a 09 00 00 00 00 00 00 00 00 01 2e")));
        assertEquals(BigInteger.TWO.pow(64).negate(), PickleValues.toJava(root("80 05 8b 09 00 00 00 00 00 00 00 00 00 00 00 ff 2e")));
        assertEquals(Long.MIN_VALUE, PickleValues.toJava(root("80 05 8a 08 00 00 00 00 00 00 00 80 2e")));
        assertEquals(1.5, PickleValues.toJava(root("80 05 47 3f f8 00 00 00 00 00 00 2e")));
        assertEquals("é", PickleValues.toJava(root("80 05 8c 02 c3 a9 2e")));
        assertEquals("ab", PickleValues.toJava(root("80 05 58 02 00 00 00 61 62 2e")));
        assertEquals("ab", PickleValues.toJava(root("80 05 8d 02 00 00 00 00 00 00 00 61 62 2e")));
        assertEquals("\ud800", PickleValues.toJava(root("80 05 8c 03 ed a0 80 2e")), "lone surrogate (surrogatepass)");
        assertArrayEquals(new byte[]{1, 2}, (byte[]) PickleValues.toJava(root("80 05 43 02 01 02 2e")));
        PickleValue ba = root("80 05 96 01 00 00 00 00 00 00 00 07 2e");
        assertTrue(((PickleValue.Bytes) ba).isBytearray());
    }

    @Test
    void containersAndTheirSpans() {
        // (1, 2, 3) as TUPLE3, [1, 2] via APPENDS, {'a': 1} via SETITEMS, {1} via ADDITEMS, frozenset()
        assertEquals(List.of(1L, 2L, 3L), PickleValues.toJava(root("80 05 4b 01 4b 02 4b 03 87 2e")));
        assertEquals(List.of(1L, 2L, 3L, 4L), PickleValues.toJava(root("80 05 28 4b 01 4b 02 4b 03 4b 04 74 2e")));
        PickleValue list = root("80 05 5d 94 28 4b 01 4b 02 65 2e");
        assertEquals(List.of(1L, 2L), PickleValues.toJava(list));
        assertEquals(2, list.start());
        assertEquals(10, list.end(), "the span covers MEMOIZE and the APPENDS that filled it");
        assertTrue(list.isMemoized());
        Map<Object, Object> d = new LinkedHashMap<>();
        d.put("a", 1L);
        assertEquals(d, PickleValues.toJava(root("80 05 7d 94 28 8c 01 61 4b 01 75 2e")));
        assertEquals(d, PickleValues.toJava(root("80 05 7d 8c 01 61 4b 01 73 2e")));
        assertEquals(Set.of(1L), PickleValues.toJava(root("80 05 8f 28 4b 01 90 2e")));
        PickleValue fs = root("80 05 28 4b 01 91 2e");
        assertTrue(((PickleValue.PySet) fs).isFrozen());
        assertEquals(List.of(List.of(List.of()), List.of()), PickleValues.toJava(root("80 05 5d 5d 61 29 86 2e")));
        PickleValue t = root("80 05 95 06 00 00 00 00 00 00 00 4b 01 4b 02 86 2e");
        assertEquals(11, t.start(), "FRAME is not part of the tuple");
        assertEquals(16, t.end());
    }

    @Test
    void globalsCallsAndBuild() {
        PickleValue g = root("80 05 63 62 75 69 6c 74 69 6e 73 0a 6c 65 6e 0a 2e"); // GLOBAL builtins\nlen\n
        assertTrue(((PickleValue.Global) g).is("builtins", "len"));
        // STACK_GLOBAL of memoized strings, REDUCE with a tuple
        PickleValue r = root("80 05 8c 01 6d 94 8c 01 66 94 93 94 4b 01 85 52 2e");
        PickleValue.Reduce red = assertInstanceOf(PickleValue.Reduce.class, r);
        assertEquals("m.f", red.callee().describe());
        assertEquals(List.of(1L), PickleValues.toJava(red.args()));
        assertEquals(2, r.start());
        // NEWOBJ(cls, ()) + BUILD((None, {'k': 1})): the Task pattern
        PickleValue b = root("80 05 8c 01 6d 8c 01 43 93 29 81 94 4e 7d 8c 01 6b 4b 01 73 86 62 2e");
        PickleValue.Build build = assertInstanceOf(PickleValue.Build.class, b);
        assertInstanceOf(PickleValue.NewObj.class, build.obj());
        TaskSpec.Obj o = TaskSpec.object(b);
        assertTrue(o.is("m", "C"));
        assertEquals(1L, PickleValues.toJava(o.attr("k")));
        assertTrue(o.slotted());
        // NEWOBJ_EX(cls, (), {})
        PickleValue.NewObj ex = (PickleValue.NewObj) root("80 05 8c 01 6d 8c 01 43 93 29 7d 92 2e");
        assertInstanceOf(PickleValue.PyDict.class, ex.kwargs());
    }

    @Test
    void memoReferencesAreOneValuePerIndex() {
        // ('x', 'x', 'x'): MEMOIZE then BINGET 0 twice; LONG_BINPUT/LONG_BINGET; PUT/GET text
        ParsedPickle p = new PickleReader().read(hex("80 05 8c 01 78 94 68 00 68 00 87 2e"));
        PickleValue.Tuple t = (PickleValue.Tuple) p.root();
        assertEquals(t.get(1), t.get(2));
        PickleValue.Ref r = assertInstanceOf(PickleValue.Ref.class, t.get(1));
        assertEquals(0, r.index());
        assertEquals(t.get(0), r.resolve());
        assertEquals(1, p.memoCount());
        assertEquals(5, p.memoDefinedAt(0));
        assertEquals(List.of("x", "x"), PickleValues.toJava(root("80 02 8c 01 78 72 05 00 00 00 6a 05 00 00 00 86 2e")));
        assertEquals(List.of("x", "x"), PickleValues.toJava(root("80 02 8c 01 78 70 37 0a 67 37 0a 86 2e")));
    }

    @Test
    void outOfBandBuffers() {
        PickleValue t = root("80 05 97 97 98 86 2e", 2);
        PickleValue.Buffer b0 = (PickleValue.Buffer) ((PickleValue.Tuple) t).get(0);
        PickleValue.Buffer b1 = (PickleValue.Buffer) ((PickleValue.Tuple) t).get(1);
        assertEquals(0, b0.index());
        assertFalse(b0.readonly());
        assertEquals(1, b1.index());
        assertTrue(b1.readonly());
        assertTrue(error("80 05 97 2e").contains("more than the 0 out-of-band buffers given"));
    }

    @Test
    void aStateSetterPoppedRightAwayBelongsToTheValueBelow() {
        // f = m.f (memo 0); m.setstate(f, {}) REDUCE POP  -- cloudpickle's _function_setstate pattern
        ParsedPickle p = new PickleReader().read(hex(
                "80 05 8c 01 6d 8c 01 66 93 94 8c 01 6d 8c 08 73 65 74 73 74 61 74 65 93 68 00 7d 86 52 30 2e"));
        PickleValue f = p.root();
        assertInstanceOf(PickleValue.Global.class, f);
        assertEquals(2, f.start());
        assertEquals(p.size() - 1, f.end(), "the span runs through the POP");
        assertEquals(1, f.sideEffects().size());
        // a popped call that does not update the value below it is refused
        assertTrue(error("80 05 4e 8c 01 6d 8c 01 66 93 29 52 30 2e").contains("does not update the value below it"));
    }

    @Test
    void errorsNameTheOpcodeAndOffset() {
        assertEquals("unsupported pickle opcode 0x50 'P' (PERSID) at offset 2", error("80 05 50 31 0a 2e"));
        assertEquals("unsupported pickle opcode 0x51 'Q' (BINPERSID) at offset 3", error("80 05 4e 51 2e"));
        assertEquals("unsupported pickle opcode 0x82 (EXT1) at offset 2", error("80 05 82 01 2e"));
        assertEquals("unsupported pickle opcode 0x69 'i' (INST) at offset 2", error("80 05 69 61 0a 62 0a 2e"));
        assertEquals("unsupported pickle opcode 0x6f 'o' (OBJ) at offset 3", error("80 05 28 6f 2e"));
        assertEquals("unsupported pickle opcode 0x32 '2' (DUP) at offset 3", error("80 05 4e 32 2e"));
        assertEquals("unsupported pickle opcode 0x49 'I' (INT) at offset 2", error("80 05 49 31 0a 2e"));
        assertEquals("unknown pickle opcode 0xff at offset 2", error("80 05 ff"));
        assertEquals("unsupported pickle protocol 6 at offset 0", error("80 06 4e 2e"));
        assertTrue(error("80 05 4e").contains("no STOP"));
        assertTrue(error("80 05 8c 05 61 62 2e").contains("truncated"));
        assertTrue(error("80 05 52 2e").contains("stack underflow"), error("80 05 52 2e"));
        assertTrue(error("80 05 68 03 2e").contains("memo index 3 is not defined"));
        assertTrue(error("80 05 4e 4e 2e").contains("2 values on the stack"));
        assertTrue(error("80 05 4e 2e 00").contains("trailing"));
        assertTrue(error("80 05 28 4e 2e").contains("open MARK"));
        assertTrue(error("80 05 74 2e").contains("without a MARK"));
        assertTrue(error("80 05 4e 94 4e 72 00 00 00 00 2e").contains("redefined"));
        assertTrue(error("80 05 8c 02 c3 28 2e").contains("not valid UTF-8"));
        assertTrue(error("80 05 4b 01 4b 02 93 2e").contains("STACK_GLOBAL"));
        assertTrue(error("80 05 4e 80 05 2e").contains("PROTO after the start"));
        assertTrue(error("80 05 4e 61 2e").contains("APPEND"));
    }

    @Test
    void limitsAreCheckedBeforeAllocating() {
        PickleLimits small = PickleLimits.DEFAULT.withMaxDepth(3).withMaxValues(5).withMaxStringBytes(4)
                .withMaxPickleBytes(64).withMaxMemo(2).withMaxBuffers(1);
        PickleReader r = new PickleReader(small);
        assertEquals("pickle nesting depth: 4 (expected: <= 3)",
                assertThrows(PickleException.class, () -> r.read(hex("80 05 4e 85 85 85 2e"))).getMessage());
        assertEquals("pickle MARK nesting: 4 (expected: <= 3)",
                assertThrows(PickleException.class, () -> r.read(hex("80 05 28 28 28 28"))).getMessage());
        assertEquals("pickle values: 6 (expected: <= 5)",
                assertThrows(PickleException.class, () -> r.read(hex("80 05 4e 4e 4e 4e 4e 4e"))).getMessage());
        assertTrue(assertThrows(PickleException.class, () -> r.read(hex("80 05 8c 05 61 61 61 61 61 2e")))
                .getMessage().startsWith("pickle str length at offset 2: 5 (expected: <= 4)"));
        assertEquals("pickle size: 65 (expected: <= 64)",
                assertThrows(PickleException.class, () -> r.read(new byte[65])).getMessage());
        assertTrue(assertThrows(PickleException.class, () -> r.read(hex("80 05 4e 71 02 2e"))).getMessage()
                .startsWith("pickle memo index: 2"));
        assertEquals("out-of-band buffers: 2 (expected: <= 1)",
                assertThrows(PickleException.class, () -> r.read(hex("80 05 97 97 86 2e"), 2)).getMessage());
        // a declared length is never trusted beyond the limit or the input left
        assertTrue(error("80 05 8d 00 00 00 00 00 00 00 40 2e").startsWith("pickle str length at offset 2: 4611686018427387904"));
        assertTrue(error("80 05 58 e8 03 00 00 61 2e").contains("only 2 bytes left"), error("80 05 58 e8 03 00 00 61 2e"));
    }

    @Test
    void writerRoundTripsPlainValues() {
        Map<Object, Object> m = new LinkedHashMap<>();
        m.put("k", List.of(1L, -2L, 3.25, "é\ud83d\ude00", new BigInteger("123456789012345678901234567890")));
        m.put(7L, Set.of(true));
        m.put(List.of("t", 0L), null);
        Object back = PickleValues.toJava(new PickleReader().read(PickleWriter.dumps(m)).root());
        assertEquals(m.toString(), back.toString());
        assertEquals(Long.MAX_VALUE, PickleValues.toJava(new PickleReader().read(PickleWriter.dumps(Long.MAX_VALUE)).root()));
        assertEquals(Integer.MIN_VALUE - 1L,
                PickleValues.toJava(new PickleReader().read(PickleWriter.dumps(Integer.MIN_VALUE - 1L)).root()));
        String longStr = "x".repeat(300);
        assertEquals(longStr, PickleValues.toJava(new PickleReader().read(PickleWriter.dumps(longStr)).root()));
        PickleValue l = new PickleReader().read(PickleWriter.dumps(PickleWriter.pyList(List.of(1L)))).root();
        assertInstanceOf(PickleValue.PyList.class, l);
    }

    @Test
    void loadPlainReadsAnnotationsAndRefusesObjects() {
        Map<Object, Object> span = new LinkedHashMap<>();
        span.put("collections", PickleWriter.pyList(List.of(Map.of("type", "Future"))));
        Object back = Pickles.loadPlain(PickleWriter.dumps(span));
        assertEquals("{collections=[{type=Future}]}", back.toString());
        assertThrows(PickleException.class, () -> Pickles.loadPlain(Pickles.global("builtins", "int")));
        assertThrows(PickleException.class, () -> Pickles.loadPlain(Pickles.call("builtins", "ValueError", "x")));
    }

    @Test
    void keysFollowPythonEquality() {
        assertEquals(PickleValues.canonicalKey(1L), PickleValues.canonicalKey(1.0));
        assertEquals(PickleValues.canonicalKey(1L), PickleValues.canonicalKey(true));
        assertEquals(PickleValues.canonicalKey(List.of("x", 0L)), PickleValues.canonicalKey(List.of("x", 0.0)));
        assertFalse(PickleValues.canonicalKey("1").equals(PickleValues.canonicalKey(1L)));
        assertEquals(PickleValues.canonicalKey(new byte[]{1}), PickleValues.canonicalKey(new byte[]{1}));
        assertEquals(PickleValues.canonicalKey(BigInteger.TWO.pow(70)), PickleValues.canonicalKey(Math.pow(2, 70)));
        assertNull(PickleValues.canonicalKey(null));
    }
}
