package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.worker.tasks.NdArray;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dask's serialization families against what distributed 2022.12.1 writes (see {@link Vectors}). */
class SerdeTest {

    static Object decode(String vector) throws Serde.DataException {
        SubObject s = Vectors.serialized(vector);
        try {
            return Serde.decode(s);
        } finally {
            s.release();
        }
    }

    static NdArray array(String vector) throws Serde.DataException {
        return assertInstanceOf(NdArray.class, decode(vector));
    }

    @Test
    void numpyArraysInEveryLayout() throws Exception {
        NdArray a = array("f8_1d");
        assertEquals(NdArray.DType.F8, a.dtype());
        assertArrayEquals(new long[]{10}, a.shape());
        assertArrayEquals(new double[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, a.toDoubleArray());

        NdArray b = array("i4_2d");
        assertEquals(NdArray.DType.I4, b.dtype());
        assertArrayEquals(new long[]{2, 3}, b.shape());
        assertArrayEquals(new double[]{0, 1, 2, 3, 4, 5}, b.toDoubleArray());

        // Fortran order arrives with its strides; Java sees C order.
        NdArray f = array("f8_fortran");
        assertArrayEquals(new long[]{2, 3}, f.shape());
        assertArrayEquals(new double[]{0, 1, 2, 3, 4, 5}, f.toDoubleArray());

        assertArrayEquals(new double[]{0, 2, 4, 6, 8, 10}, array("f8_strided").toDoubleArray());
        assertArrayEquals(new double[]{0, 0.5, 1, 1.5}, array("f4_1d").toDoubleArray());
        NdArray zeroD = array("i8_0d");
        assertEquals(0, zeroD.ndim());
        assertArrayEquals(new double[]{7}, zeroD.toDoubleArray());
        NdArray empty = array("f8_empty");
        assertArrayEquals(new long[]{0, 3}, empty.shape());
        assertEquals(0, empty.size());
        assertArrayEquals(new double[]{0, 1, 2, 3, 4}, array("u1_1d").toDoubleArray());
        NdArray broadcast = array("f8_broadcast");
        assertArrayEquals(new long[]{2, 3}, broadcast.shape());
        assertArrayEquals(new double[]{0, 1, 2, 0, 1, 2}, broadcast.toDoubleArray());
    }

    @Test
    void compressedFramesFromPythonPeers() throws Exception {
        NdArray z = array("f8_lz4");
        assertEquals(100_000, z.size());
        assertTrue(Arrays.stream(z.toDoubleArray()).allMatch(x -> x == 0));
        NdArray o = array("f8_zlib");
        assertEquals(50_000, o.size());
        assertTrue(Arrays.stream(o.toDoubleArray()).allMatch(x -> x == 1));
    }

    @Test
    void scalarsAndContainers() throws Exception {
        assertEquals(42L, decode("msgpack_int"));
        List<?> t = (List<?>) decode("msgpack_tuple");
        assertEquals(Arrays.asList(1L, 2.5, "x", null, true), t.subList(0, 5));
        assertArrayEquals("b".getBytes(), (byte[]) t.get(5));
        assertEquals(2.5, decode("pickle_float"));
        assertEquals(Map.of("a", List.of(1L, 2L), "b", Arrays.asList(3.0, null)), decode("pickle_dict"));
        assertEquals(BigInteger.TWO.pow(70), decode("pickle_bigint"));
        assertArrayEquals("abc".getBytes(), (byte[]) decode("bytes"));
        List<?> c = (List<?>) decode("collection");
        assertArrayEquals(new double[]{0, 1, 2}, ((NdArray) c.get(0)).toDoubleArray());
        assertEquals(5L, c.get(1));
    }

    @Test
    void unreadableValuesSayWhatTheyAre() {
        assertMessage("numpy_scalar", "numpy");
        assertMessage("object_array", "objects");
        assertMessage("big_endian", ">f8");
    }

    private static void assertMessage(String vector, String part) {
        Serde.DataException e = assertThrows(Serde.DataException.class, () -> decode(vector));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void arraysAreWrittenExactlyAsNumpyWritesThem() throws Exception {
        double[] v = new double[10];
        Arrays.setAll(v, i -> i);
        assertSameAsPython(Serde.encode(NdArray.ofDoubles(v)), "f8_1d");
        assertSameAsPython(Serde.encode(NdArray.wrap(NdArray.DType.I4, new long[]{2, 3},
                java.nio.ByteBuffer.wrap(HexFormat.of().parseHex("000000000100000002000000030000000400000005000000")))),
                "i4_2d");
        // numpy writes empty arrays as broadcasts; plain C-order strides are just as valid.
        SubObject empty = Serde.encode(NdArray.wrap(NdArray.DType.F8, new long[]{0, 3}, java.nio.ByteBuffer.allocate(0)));
        try {
            assertArrayEquals(new long[]{0, 3}, ((NdArray) Serde.decode(empty)).shape());
        } finally {
            empty.release();
        }
    }

    @Test
    void scalarsAreWrittenAsMsgpack() throws Exception {
        assertSameAsPython(Serde.encode(42L), "msgpack_int");
        List<Object> t = new ArrayList<>(Arrays.asList(1L, 2.5, "x", null, true, "b".getBytes()));
        assertSameAsPython(Serde.encode(t), "msgpack_tuple");
    }

    @Test
    void whatPythonCannotReceiveIsRefused() {
        assertThrows(Serde.DataException.class, () -> Serde.encode(new Object()));
        assertThrows(Serde.DataException.class, () -> Serde.encode(Set.of(1L)));
        assertThrows(Serde.DataException.class, () -> Serde.encode(List.of(NdArray.ofDoubles(new double[]{1}))));
        assertThrows(Serde.DataException.class, () -> Serde.encode(BigInteger.TWO.pow(70)));
    }

    @Test
    void typesForTaskFinished() {
        assertEquals("numpy.ndarray", Serde.describe(NdArray.ofDoubles(new double[4])).typename());
        assertEquals(32, Serde.describe(NdArray.ofDoubles(new double[4])).nbytes());
        assertArrayEquals(Serde.NDARRAY_TYPE, Serde.describe(NdArray.ofDoubles(new double[4])).type());
        assertEquals("float", Serde.describe(1.0).typename());
        assertEquals("int", Serde.describe(1L).typename());
        assertEquals("NoneType", Serde.describe(null).typename());
        SubObject s = Vectors.serialized("f8_1d");
        try {
            Serde.TypeInfo i = Serde.describeSerialized(s);
            assertEquals("numpy.ndarray", i.typename());
            assertEquals(80, i.nbytes());
        } finally {
            s.release();
        }
    }

    @Test
    void exceptionsAreWrappedAsErrorMessageDoes() {
        SubObject e = Serde.pythonException("boom");
        try {
            Map<?, ?> h = (Map<?, ?>) MessageCodec.decodeValue(e.header());
            assertEquals("dask", h.get("serializer"));
            assertEquals("bytes", h.get("type"));
            assertEquals(1L, h.get("num-sub-frames"));
            assertTrue(ByteBufUtil.hexDump(e.frames().get(0)).contains(HexFormat.of().formatHex("RuntimeError".getBytes())));
        } finally {
            e.release();
        }
    }

    /** Same sub-header (as a msgpack tree) and same frame bytes as Python's serialization. */
    private static void assertSameAsPython(SubObject ours, String vector) {
        SubObject theirs = Vectors.serialized(vector);
        try {
            assertEquals(comparable(MessageCodec.decodeValue(theirs.header())),
                    comparable(MessageCodec.decodeValue(ours.header())));
            assertEquals(theirs.frames().size(), ours.frames().size());
            for (int i = 0; i < ours.frames().size(); i++) {
                assertEquals(hex(theirs.frames().get(i)), hex(ours.frames().get(i)));
            }
        } finally {
            ours.release();
            theirs.release();
        }
    }

    private static String hex(ByteBuf b) {
        return ByteBufUtil.hexDump(b);
    }

    /** byte[] compare by content. */
    private static Object comparable(Object v) {
        if (v instanceof byte[] b) {
            return "bin:" + HexFormat.of().formatHex(b);
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> r = new LinkedHashMap<>();
            m.forEach((k, x) -> r.put(k, comparable(x)));
            return r;
        }
        if (v instanceof List<?> l) {
            return l.stream().map(SerdeTest::comparable).toList();
        }
        return v;
    }
}
