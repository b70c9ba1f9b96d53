package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.worker.tasks.NdArray;
import org.cloudviper.worker.testing.LeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(LeakCheck.class)
class SpillStoreTest {
    @TempDir
    Path tmp;

    private static SubObject value(SubObject.Kind kind, String header, String... frames) {
        List<ByteBuf> fs = new java.util.ArrayList<>();
        for (String f : frames) {
            fs.add(Unpooled.copiedBuffer(f, StandardCharsets.UTF_8));
        }
        return new SubObject(kind, Unpooled.copiedBuffer(header, StandardCharsets.UTF_8), fs);
    }

    private static byte[] bytes(ByteBuf b) {
        return ByteBufUtil.getBytes(b);
    }

    @Test
    void readsBackTheSameKindHeaderAndFramesByteForByte() throws IOException {
        try (SpillStore store = new SpillStore(tmp.resolve("spill"))) {
            SubObject v = value(SubObject.Kind.PICKLED, "head", "frame one", "", "frame three");
            SpillStore.Spilled s = store.write(v);
            assertTrue(Files.isRegularFile(s.file()));
            assertEquals(Files.size(s.file()), s.diskBytes());
            assertEquals(s.diskBytes(), store.diskBytes());
            SubObject back = store.read(s);
            assertEquals(SubObject.Kind.PICKLED, back.kind());
            assertArrayEquals(bytes(v.header()), bytes(back.header()));
            assertEquals(3, back.frames().size());
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(bytes(v.frames().get(i)), bytes(back.frames().get(i)), "frame " + i);
            }
            back.release();
            v.release();
            store.delete(s);
            assertFalse(Files.exists(s.file()));
            assertEquals(0, store.diskBytes());
            store.delete(s); // already gone: not an error
        }
        assertFalse(Files.exists(tmp.resolve("spill")), "close removes the directory");
    }

    @Test
    void aFailedWriteIsAClearErrorAndLeavesNoFile() throws IOException {
        SpillStore store = new SpillStore(tmp.resolve("spill"));
        Files.delete(tmp.resolve("spill"));
        Files.writeString(tmp.resolve("spill"), "not a directory");
        SubObject v = value(SubObject.Kind.SERIALIZED, "h", "data");
        IOException e = assertThrows(IOException.class, () -> store.write(v));
        assertTrue(e.getMessage().startsWith("could not spill to " + tmp.resolve("spill")), e.getMessage());
        assertEquals(0, store.diskBytes());
        assertEquals(1, v.refCnt(), "the value is untouched");
        v.release();
    }

    @Test
    void aTruncatedFileIsReportedNotMisread() throws IOException {
        try (SpillStore store = new SpillStore(tmp.resolve("spill"))) {
            SubObject v = value(SubObject.Kind.SERIALIZED, "header", "0123456789");
            SpillStore.Spilled s = store.write(v);
            v.release();
            byte[] all = Files.readAllBytes(s.file());
            Files.write(s.file(), java.util.Arrays.copyOf(all, all.length - 3));
            IOException e = assertThrows(IOException.class, () -> store.read(s));
            assertTrue(e.getMessage().contains("ends early"), e.getMessage());
        }
    }

    @Test
    void aSpilledValueDropsItsMemoryAndIsServedFromDisk() throws Exception {
        try (SpillStore store = new SpillStore(tmp.resolve("spill"))) {
            NdArray a = NdArray.ofDoubles(new double[] {1, 2, 3});
            SubObject wire = Serde.encode(a);
            byte[] header = bytes(wire.header());
            byte[] data = bytes(wire.frames().get(0));
            StoredValue v = StoredValue.computed(a, wire, Serde.describe(a));
            v.spill(store);
            assertTrue(v.isSpilled());
            assertEquals(0, wire.refCnt(), "the in-memory frames are freed");
            assertFalse(v.hasJava());
            assertNull(v.wire());
            assertEquals(24, v.nbytes, "size stays known");

            SubObject served = v.wireRetained();
            assertArrayEquals(header, bytes(served.header()));
            assertArrayEquals(data, bytes(served.frames().get(0)));
            served.release();

            StoredValue forTask = v.forTask();
            v.release(); // the state drops the key while the task runs
            assertEquals(0, store.diskBytes(), "releasing a spilled value deletes its file");
            assertArrayEquals(new double[] {1, 2, 3}, ((NdArray) Serde.decode(forTask.wire())).toDoubleArray());
            forTask.release();
            assertThrows(IOException.class, v::wireRetained);
        }
    }

    @Test
    void aValueWhoseSpillFailsStaysInMemoryWhole() throws Exception {
        SpillStore store = new SpillStore(tmp.resolve("spill"));
        Files.delete(tmp.resolve("spill"));
        Files.writeString(tmp.resolve("spill"), "not a directory");
        NdArray a = NdArray.ofDoubles(new double[] {4, 5});
        SubObject wire = Serde.encode(a);
        byte[] data = bytes(wire.frames().get(0));
        StoredValue v = StoredValue.computed(a, wire, Serde.describe(a));
        assertThrows(IOException.class, () -> v.spill(store));
        assertFalse(v.isSpilled());
        assertTrue(v.hasJava());
        SubObject served = v.wireRetained();
        assertArrayEquals(data, bytes(served.frames().get(0)));
        served.release();
        v.release();
        assertEquals(0, wire.refCnt());
    }

    /** A plain result is serialized on first need: for get_data, or when it is spilled. */
    @Test
    void plainResultsAreSerializedWhenFirstNeeded() throws Exception {
        Object result = List.of(1L, "two", 3.0);
        try (SpillStore store = new SpillStore(tmp.resolve("spill"))) {
            StoredValue served = StoredValue.computedPlain(result, Serde.describe(result));
            assertNull(served.wire(), "not serialized at task end");
            StoredValue copy = served.forTask();
            assertEquals(result, copy.java());
            assertNull(served.wire(), "a dependent task reads the Java value");
            copy.release();
            SubObject w = served.wireRetained();
            assertEquals(List.of(1L, "two", 3.0), Serde.decode(w));
            assertTrue(served.wire() == w, "kept for the next get_data");
            w.release();
            served.release();

            StoredValue spilled = StoredValue.computedPlain(result, Serde.describe(result));
            spilled.spill(store);
            assertTrue(spilled.isSpilled());
            assertFalse(spilled.hasJava());
            SubObject back = spilled.wireRetained();
            assertEquals(List.of(1L, "two", 3.0), Serde.decode(back));
            back.release();
            spilled.release();
        }
    }
}
