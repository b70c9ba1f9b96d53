package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.pickle.PickleException;
import org.cloudviper.protocol.pickle.PickleValues;
import org.cloudviper.protocol.pickle.PickleWriter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a Java task receives from the pickles a 2022 client really sends (see {@link Vectors}), and
 * how the rest is refused. The reading itself is the protocol's ({@code ClientPicklesTest} there).
 */
class PlainDataTest {

    @Test
    void functionReferencesAndArguments() {
        assertEquals("cloudviper.tasks.arange_f64", PlainData.qualifiedName(PlainData.readGlobal(Vectors.pickle("function_p5"))));
        assertEquals("cloudviper.tasks.echo", PlainData.qualifiedName(PlainData.readGlobal(Vectors.pickle("function_p2"))));
        assertEquals(List.of("dep-key", List.of("dep-key", Map.of("k", List.of("dep-key", 1L))), List.of()),
                PlainData.read(Vectors.pickle("args_nested")));
        assertEquals(Map.of("n", 5L, "scale", 2.0), PlainData.read(Vectors.pickle("kwargs")));
    }

    @Test
    void functionPickledByValueIsRecognised() {
        PickleException e = assertThrows(PickleException.class,
                () -> PlainData.readGlobal(Vectors.pickle("function_by_value")));
        assertTrue(e.getMessage().contains("cloudpickle"), e.getMessage());
    }

    @Test
    void objectsAreRefusedByName() {
        PickleException e = assertThrows(PickleException.class, () -> PlainData.read(Vectors.pickle("args_numpy")));
        assertTrue(e.getMessage().startsWith("cannot pass an object made by numpy.core.multiarray.scalar; only ints"),
                e.getMessage());
        e = assertThrows(PickleException.class, () -> PlainData.read(Vectors.pickle("args_set")));
        assertTrue(e.getMessage().contains("a set (set[2])"), e.getMessage());
        // A function among the arguments: a 2022 nested task, e.g. (sum, (inc, 1)).
        e = assertThrows(PickleValues.NotPlainException.class, () -> PlainData.read(Vectors.pickle("legacy_task")));
        assertEquals("cannot run nested tasks or function arguments (cloudviper.tasks.sum)", e.getMessage());
        byte[] buffer = new PickleWriter().proto().nextBuffer().stop().toByteArray();
        e = assertThrows(PickleException.class, () -> PlainData.read(buffer));
        assertTrue(e.getMessage().contains("out-of-band buffers"), e.getMessage());
        assertThrows(PickleException.class, () -> PlainData.read(PickleWriter.dumps(List.of(Set.of(1L)))));
    }

    @Test
    void dataJavaTasksReadAnotherWayComesWithAdvice() {
        byte[] frame = new PickleWriter().proto().global("pandas.core.frame", "DataFrame").emptyTuple().newobj()
                .emptyDict().build().stop().toByteArray();
        String text = assertThrows(PickleException.class, () -> PlainData.read(frame)).getMessage();
        assertTrue(text.startsWith("cannot pass an object made by pandas.core.frame.DataFrame; only ints"), text);
        assertTrue(text.endsWith("; " + Serde.PANDAS_HINT + ", scattered or made by a task"), text);
        byte[] table = new PickleWriter().proto().global("pyarrow.lib", "_reconstruct_table").emptyTuple().reduce()
                .stop().toByteArray();
        text = assertThrows(PickleException.class, () -> PlainData.read(table)).getMessage();
        assertTrue(text.contains("scatter it (client.scatter)"), text);
    }
}
