package org.cloudviper.protocol.pickle;

import org.junit.jupiter.api.Test;

import org.cloudviper.testkit.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The function and argument pickles a distributed 2022.12.1 client sends for a task
 * ({@code pickles/client_2022.json}), read by {@link PickleReader} and converted by
 * {@link PickleValues}: function references in every protocol, argument tuples, legacy task tuples,
 * and the parts that are not plain data named for the refusal.
 */
class ClientPicklesTest {
    private static final Map<?, ?> PICKLES = load();

    private static Map<?, ?> load() {
        try (InputStream in = ClientPicklesTest.class.getResourceAsStream("/pickles/client_2022.json")) {
            Map<?, ?> all = (Map<?, ?>) Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            return (Map<?, ?>) all.get("pickles");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] pickle(String name) {
        Object hex = PICKLES.get(name);
        if (hex == null) {
            throw new IllegalArgumentException("no pickle " + name);
        }
        return HexFormat.of().parseHex((String) hex);
    }

    static PickleValue root(String name) {
        return new PickleReader().read(pickle(name)).root().resolve();
    }

    static Object plain(String name) {
        return PickleValues.toJava(root(name));
    }

    @Test
    void functionReferencesInEveryProtocol() {
        assertTrue(assertInstanceOf(PickleValue.Global.class, root("function_p5")).is("cloudviper.tasks", "arange_f64"));
        assertTrue(assertInstanceOf(PickleValue.Global.class, root("function_p4")).is("cloudviper.tasks", "sum"));
        PickleValue.Global p2 = assertInstanceOf(PickleValue.Global.class, root("function_p2")); // GLOBAL, text
        assertEquals("cloudviper.tasks", p2.module());
        assertEquals("echo", p2.name());
    }

    @Test
    void aFunctionPickledByValueIsMadeByCloudpickle() {
        PickleValue f = root("function_by_value");
        assertTrue(!(f instanceof PickleValue.Global), f.describe());
        PickleValue.Global maker = PickleValues.madeBy(f);
        assertTrue(maker.module().startsWith("cloudpickle"), maker.describe());
    }

    @Test
    void scalarsOfEveryEncoding() {
        List<?> v = (List<?>) plain("args_scalars");
        assertEquals(List.of(10L, -3L, 300L, 70000L, -70000L, 1L << 40), v.subList(0, 6));
        assertEquals(BigInteger.TWO.pow(70), v.get(6));
        assertEquals(BigInteger.TWO.pow(70).negate(), v.get(7));
        assertEquals(1.5, v.get(8));
        assertEquals("x", v.get(9));
        assertArrayEquals("y".getBytes(), (byte[]) v.get(10));
        assertEquals(Arrays.asList(null, true, false), v.subList(11, 14));
    }

    @Test
    void containersAndMemo() {
        assertEquals(List.of("dep-key", List.of("dep-key", Map.of("k", List.of("dep-key", 1L))), List.of()),
                plain("args_nested"));
        assertEquals(List.of(List.of("a", "a"), List.of("z", "z", "z")), plain("args_memo"));
        assertEquals(Map.of("n", 5L, "scale", 2.0), plain("kwargs"));
    }

    @Test
    void legacyTasksHoldGlobalsAndPlainArguments() {
        PickleValue.Tuple t = assertInstanceOf(PickleValue.Tuple.class, root("legacy_task"));
        assertTrue(((PickleValue.Global) t.get(0).resolve()).is("cloudviper.tasks", "sum"));
        assertEquals("dep-key", PickleValues.toJava(t.get(1)));
        PickleValue.Tuple a = assertInstanceOf(PickleValue.Tuple.class, root("legacy_apply"));
        assertTrue(((PickleValue.Global) a.get(0).resolve()).is("dask.utils", "apply"));
        assertTrue(((PickleValue.Global) a.get(1).resolve()).is("cloudviper.tasks", "scale"));
        assertEquals(Map.of("factor", 2.0), PickleValues.toJava(a.get(3)));
    }

    @Test
    void whatIsNotPlainIsNamed() {
        PickleValues.NotPlainException e = assertThrows(PickleValues.NotPlainException.class, () -> plain("args_numpy"));
        assertTrue(e.getMessage().contains("numpy"), e.getMessage());
        PickleValue.Global maker = PickleValues.madeBy(e.value());
        assertEquals("numpy.core.multiarray.scalar", maker.describe());
        assertEquals("cloudviper.tasks.sum",
                assertThrows(PickleValues.NotPlainException.class, () -> plain("legacy_task")).value().describe());
        assertNull(PickleValues.madeBy(root("args_memo")), "plain data is made by nothing");
    }

    @Test
    void setsAreRefusedWhereTheyHaveNoForm() {
        assertEquals(List.of(Set.of(1L, 2L)), plain("args_set"));
        PickleValues.NotPlainException e = assertThrows(PickleValues.NotPlainException.class,
                () -> PickleValues.toJavaWithoutSets(root("args_set")));
        assertInstanceOf(PickleValue.PySet.class, e.value());
        assertTrue(e.getMessage().startsWith("not a plain value: set[2] at offset "), e.getMessage());
        assertEquals(List.of(10L), PickleValues.toJavaWithoutSets(new PickleReader().read(
                PickleWriter.dumps(List.of(10L))).root()));
        PickleValue frozen = new PickleReader().read(PickleWriter.dumps(List.of(List.of(Set.of(1L))))).root();
        assertEquals("frozenset[1]", assertThrows(PickleValues.NotPlainException.class,
                () -> PickleValues.toJavaWithoutSets(frozen)).value().describe());
    }

    @Test
    void malformedPicklesFailCleanly() {
        byte[] p = pickle("args_scalars");
        for (int cut = 0; cut < p.length - 1; cut += 7) {
            byte[] shorter = Arrays.copyOf(p, cut);
            assertInstanceOf(PickleException.class,
                    assertThrows(Exception.class, () -> new PickleReader().read(shorter)), "cut at " + cut);
        }
        assertThrows(PickleException.class, () -> new PickleReader().read(new byte[]{(byte) 0x80, 9, '.'}));
        assertThrows(PickleException.class, () -> new PickleReader().read(new byte[]{'N', 'N', '.'}));
        assertThrows(PickleException.class, () -> new PickleReader().read(new byte[]{'h', 3, '.'}));
    }
}
