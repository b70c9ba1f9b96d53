package org.cloudviper.worker.runtime;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The strict pickle reader on the pickles a 2022 client really sends (see {@link Vectors}). */
class PickleReaderTest {

    @Test
    void functionReferencesInEveryProtocol() throws Exception {
        assertEquals(new PickleReader.Global("cloudviper.tasks", "arange_f64"),
                PickleReader.readGlobal(Vectors.pickle("function_p5")));
        assertEquals(new PickleReader.Global("cloudviper.tasks", "sum"),
                PickleReader.readGlobal(Vectors.pickle("function_p4")));
        assertEquals(new PickleReader.Global("cloudviper.tasks", "echo"),
                PickleReader.readGlobal(Vectors.pickle("function_p2")));
    }

    @Test
    void functionPickledByValueIsRecognised() {
        PickleReader.PickleException e = assertThrows(PickleReader.PickleException.class,
                () -> PickleReader.readGlobal(Vectors.pickle("function_by_value")));
        assertTrue(e.getMessage().contains("cloudpickle"), e.getMessage());
    }

    @Test
    void scalarsOfEveryEncoding() throws Exception {
        List<?> v = (List<?>) PickleReader.read(Vectors.pickle("args_scalars"), false);
        assertEquals(List.of(10L, -3L, 300L, 70000L, -70000L, 1L << 40), v.subList(0, 6));
        assertEquals(BigInteger.TWO.pow(70), v.get(6));
        assertEquals(BigInteger.TWO.pow(70).negate(), v.get(7));
        assertEquals(1.5, v.get(8));
        assertEquals("x", v.get(9));
        assertArrayEquals("y".getBytes(), (byte[]) v.get(10));
        assertEquals(Arrays.asList(null, true, false), v.subList(11, 14));
    }

    @Test
    void containersAndMemo() throws Exception {
        assertEquals(List.of("dep-key", List.of("dep-key", Map.of("k", List.of("dep-key", 1L))), List.of()),
                PickleReader.read(Vectors.pickle("args_nested"), false));
        assertEquals(List.of(List.of("a", "a"), List.of("z", "z", "z")),
                PickleReader.read(Vectors.pickle("args_memo"), false));
        assertEquals(Map.of("n", 5L, "scale", 2.0), PickleReader.read(Vectors.pickle("kwargs"), false));
    }

    @Test
    void objectsAreRefusedByName() {
        PickleReader.PickleException e = assertThrows(PickleReader.PickleException.class,
                () -> PickleReader.read(Vectors.pickle("args_numpy"), false));
        assertTrue(e.getMessage().contains("numpy"), e.getMessage());
        e = assertThrows(PickleReader.PickleException.class, () -> PickleReader.read(Vectors.pickle("args_set"), false));
        assertTrue(e.getMessage().contains("EMPTY_SET"), e.getMessage());
    }

    @Test
    void legacyTasksReadWithGlobals() throws Exception {
        List<?> t = (List<?>) PickleReader.read(Vectors.pickle("legacy_task"), true);
        assertEquals(List.of(new PickleReader.Global("cloudviper.tasks", "sum"), "dep-key"), t);
        List<?> a = (List<?>) PickleReader.read(Vectors.pickle("legacy_apply"), true);
        assertEquals(new PickleReader.Global("dask.utils", "apply"), a.get(0));
        assertEquals(Map.of("factor", 2.0), a.get(3));
    }

    @Test
    void malformedPicklesFailCleanly() {
        byte[] p = Vectors.pickle("args_scalars");
        for (int cut = 0; cut < p.length - 1; cut += 7) {
            byte[] shorter = Arrays.copyOf(p, cut);
            assertInstanceOf(PickleReader.PickleException.class,
                    assertThrows(Exception.class, () -> PickleReader.read(shorter, false)), "cut at " + cut);
        }
        assertThrows(PickleReader.PickleException.class, () -> PickleReader.read(new byte[]{(byte) 0x80, 9, '.'}, false));
        assertThrows(PickleReader.PickleException.class, () -> PickleReader.read(new byte[]{'N', 'N', '.'}, false));
        assertThrows(PickleReader.PickleException.class, () -> PickleReader.read(new byte[]{'h', 3, '.'}, false));
    }
}
