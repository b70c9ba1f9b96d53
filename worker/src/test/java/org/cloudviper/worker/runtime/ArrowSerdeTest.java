package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.testkit.Json;
import org.cloudviper.worker.tasks.ArrowTable;
import org.cloudviper.worker.tasks.JavaTask;
import org.cloudviper.worker.tasks.TaskRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pyarrow Tables and RecordBatches against what distributed 2022.12.1 with pyarrow writes
 * ({@code vectors/arrow_vectors.json}, from {@code make_arrow_vectors.py}); every test ends with no
 * Arrow memory allocated.
 */
class ArrowSerdeTest {
    private static final Map<?, ?> VECTORS = load();
    private static final TaskRegistry TASKS = TaskRegistry.withBuiltins();

    private static Map<?, ?> load() {
        return Json.readResource("/vectors/arrow_vectors.json");
    }

    @AfterEach
    void noArrowMemoryLeft() {
        assertEquals(0, ArrowTable.allocatedBytes(), "Arrow memory still allocated after the test");
    }

    private static SubObject vector(String name) {
        Map<?, ?> v = (Map<?, ?>) VECTORS.get(name);
        List<ByteBuf> frames = new ArrayList<>();
        for (Object f : (List<?>) v.get("frames")) {
            frames.add(Unpooled.wrappedBuffer(HexFormat.of().parseHex((String) f)));
        }
        return new SubObject(SubObject.Kind.SERIALIZED,
                Unpooled.wrappedBuffer(HexFormat.of().parseHex((String) v.get("header"))), frames);
    }

    private static Object decode(String name) throws Serde.DataException {
        SubObject s = vector(name);
        try {
            return Serde.decode(s);
        } finally {
            s.release();
        }
    }

    private static ArrowTable table(String name) throws Serde.DataException {
        return assertInstanceOf(ArrowTable.class, decode(name));
    }

    /** Every column as a list of Java values (Arrow's getObject), all batches concatenated. */
    private static Map<String, List<Object>> columns(ArrowTable t) throws IOException {
        Map<String, List<Object>> r = new java.util.LinkedHashMap<>();
        try (BufferAllocator a = ArrowTable.newAllocator("test"); ArrowStreamReader reader = t.reader(a)) {
            VectorSchemaRoot root = reader.getVectorSchemaRoot();
            root.getSchema().getFields().forEach(f -> r.put(f.getName(), new ArrayList<>()));
            while (reader.loadNextBatch()) {
                for (FieldVector v : root.getFieldVectors()) {
                    for (int i = 0; i < root.getRowCount(); i++) {
                        Object o = v.getObject(i);
                        r.get(v.getName()).add(o == null ? null : o instanceof org.apache.arrow.vector.util.Text
                                ? o.toString() : o);
                    }
                }
            }
        }
        return r;
    }

    private static Object call(String task, Object... args) throws Exception {
        JavaTask t = TASKS.lookup("cloudviper.tasks." + task);
        return t.call(List.of(args), Map.of());
    }

    @Test
    void pyarrowTablesAndBatchesArePlainIpcStreams() throws Exception {
        ArrowTable t = table("table");
        assertEquals(ArrowTable.Kind.TABLE, t.kind());
        assertEquals(3, t.numRows());
        assertEquals(Map.of("id", java.util.Arrays.asList(1L, 2L, null), "x", List.of(0.5, 1.5, 2.5),
                "name", java.util.Arrays.asList("a", "b", null)), columns(t));

        ArrowTable two = table("table_two_batches");
        assertEquals(2, two.numBatches());
        assertEquals(5, two.numRows());

        ArrowTable empty = table("table_empty");
        assertEquals(0, empty.numRows());
        assertEquals(List.of("id", "x", "name"), empty.schema().getFields().stream().map(f -> f.getName()).toList());

        ArrowTable b = table("batch");
        assertEquals(ArrowTable.Kind.RECORD_BATCH, b.kind());
        assertEquals(1, b.numBatches());
        assertEquals(3, b.numRows());
    }

    @Test
    void javaTablesCarryTheHeaderPythonWrites() throws Exception {
        ArrowTable ours = assertInstanceOf(ArrowTable.class, call("arrow_range", 4L));
        SubObject encoded = Serde.encode(ours);
        SubObject theirs = vector("arrow_range_4");
        try {
            Map<?, ?> h = (Map<?, ?>) MessageCodec.decodeValue(encoded.header());
            Map<?, ?> p = (Map<?, ?>) MessageCodec.decodeValue(theirs.header());
            assertEquals(p.get("type"), h.get("type"));
            assertEquals(p.get("serializer"), h.get("serializer"));
            assertEquals(p.get("sub-header"), h.get("sub-header"));
            assertArrayEquals((byte[]) p.get("type-serialized"), (byte[]) h.get("type-serialized"));
            assertEquals(1, encoded.frames().size());
            // Same content as pyarrow's table of the same values (the stream bytes may differ in padding).
            assertEquals(columns(assertInstanceOf(ArrowTable.class, Serde.decode(theirs))),
                    columns(assertInstanceOf(ArrowTable.class, Serde.decode(encoded))));
            Serde.TypeInfo info = Serde.describe(ours);
            assertEquals("pyarrow.lib.Table", info.typename());
            assertArrayEquals((byte[]) p.get("type-serialized"), info.type());
        } finally {
            encoded.release();
            theirs.release();
        }
    }

    @Test
    void scaleKeepsKindSchemaNullsAndOtherColumns() throws Exception {
        ArrowTable scaled = assertInstanceOf(ArrowTable.class, call("arrow_scale", table("table_two_batches"), "x", 2.5));
        assertEquals(ArrowTable.Kind.TABLE, scaled.kind());
        assertEquals(2, scaled.numBatches());
        Map<String, List<Object>> c = columns(scaled);
        assertEquals(List.of(1.25, 3.75, 6.25, 3.75, 6.25), c.get("x"));
        assertEquals(java.util.Arrays.asList(1L, 2L, null, 2L, null), c.get("id"));

        ArrowTable f4 = assertInstanceOf(ArrowTable.class, call("arrow_scale", table("table_f4"), "y", 2L));
        assertEquals(java.util.Arrays.asList(3.0f, null, -4.0f), columns(f4).get("y"));

        ArrowTable batch = assertInstanceOf(ArrowTable.class, call("arrow_scale", table("batch"), "x", -1.0));
        assertEquals(ArrowTable.Kind.RECORD_BATCH, batch.kind());
        assertEquals(List.of(-0.5, -1.5, -2.5), columns(batch).get("x"));

        ArrowTable dict = assertInstanceOf(ArrowTable.class, call("arrow_scale", table("table_dictionary"), "x", 3.0));
        assertEquals(List.of(3.0, 6.0, 9.0), columns(dict).get("x"));
        assertEquals(table("table_dictionary").schema(), dict.schema());
    }

    @Test
    void badInputGetsAClearError() throws Exception {
        Serde.DataException pandas = assertThrows(Serde.DataException.class, () -> decode("pandas_dataframe"));
        assertTrue(pandas.getMessage().contains("send it as a pyarrow Table"), pandas.getMessage());

        IllegalArgumentException column = assertThrows(IllegalArgumentException.class,
                () -> call("arrow_scale", table("table"), "id", 2.0));
        assertTrue(column.getMessage().contains("column 'id' is Int(64, true), not float64 or float32"),
                column.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> call("arrow_scale", table("table"), "nope", 2.0));
        assertTrue(missing.getMessage().contains("no column 'nope'"), missing.getMessage());

        // A Table header over bytes that are no IPC stream.
        SubObject good = vector("table");
        SubObject bad = new SubObject(SubObject.Kind.SERIALIZED, good.header().retainedDuplicate(),
                List.of(Unpooled.wrappedBuffer(new byte[]{1, 2, 3, 4, 5, 6, 7, 8})));
        try {
            Serde.DataException e = assertThrows(Serde.DataException.class, () -> Serde.decode(bad));
            assertTrue(e.getMessage().startsWith("pyarrow.Table cannot be read: not a readable Arrow IPC stream"),
                    e.getMessage());
        } finally {
            bad.release();
            good.release();
        }

        // A RecordBatch holds exactly one batch.
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class, () -> ArrowTable.fromStream(
                ArrowTable.Kind.RECORD_BATCH, bytes(table("table_two_batches"))));
        assertTrue(two.getMessage().contains("exactly 1 batch, this one holds 2"), two.getMessage());
    }

    private static byte[] bytes(ArrowTable t) {
        java.nio.ByteBuffer b = t.stream();
        byte[] r = new byte[b.remaining()];
        b.get(r);
        return r;
    }
}
