package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.pickle.PickleWriter;
import org.cloudviper.testkit.Json;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 2024 run_specs as distributed 2024.12.1 pickles them ({@code vectors/task_spec_2024.json}, written
 * by {@code make_task_spec_vectors.py} in the trixie root): the function, arguments with
 * {@link TaskSpecs.DepRef}s where dependencies go, and the refusals of what a Java task cannot take.
 */
class TaskSpecsTest {

    @Test
    void readsEveryVector() throws Exception {
        Map<?, ?> vectors = load();
        assertEquals(7, vectors.size());
        List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
        for (Map.Entry<?, ?> e : vectors.entrySet()) {
            Map<?, ?> v = (Map<?, ?>) e.getValue();
            byte[] pickle = HexFormat.of().parseHex((String) v.get("pickle"));
            int buffers = ((Number) v.get("buffers")).intValue();
            Map<?, ?> expect = (Map<?, ?>) v.get("expect");
            checks.add(() -> {
                if (expect.get("error") instanceof String error) {
                    TaskSpecs.SpecException x = assertThrows(TaskSpecs.SpecException.class,
                            () -> TaskSpecs.read(pickle, buffers), e.getKey().toString());
                    assertTrue(x.getMessage().contains(error), e.getKey() + ": " + x.getMessage());
                    return;
                }
                TaskSpecs.TaskCall call;
                try {
                    call = (TaskSpecs.TaskCall) TaskSpecs.read(pickle, buffers);
                } catch (TaskSpecs.SpecException x) {
                    throw new AssertionError(e.getKey() + ": " + x.getMessage(), x);
                }
                assertEquals(expect.get("function"), call.function(), e.getKey().toString());
                assertEquals(expect.get("args"), comparable(call.args()), e.getKey().toString());
                Object kwargs = expect.get("kwargs");
                assertEquals(kwargs == null ? Map.of() : kwargs, comparable(call.kwargs()), e.getKey().toString());
            });
        }
        assertAll(checks);
    }

    @Test
    void dependencyValuesReplaceOnlyAliases() {
        Map<Object, Object> deps = Map.of("k", 1.5, List.of("x", 1L), 2.5);
        List<Object> args = List.of("k", new TaskSpecs.DepRef("k"), List.of(new TaskSpecs.DepRef(List.of("x", 1L))));
        // 2024: a str that happens to equal a key stays a str; only Alias positions get values.
        assertEquals(List.of("k", 1.5, List.of(2.5)), TaskRunner.substitute(args, deps, false));
        IllegalStateException x = assertThrows(IllegalStateException.class,
                () -> TaskRunner.substitute(new TaskSpecs.DepRef("other"), deps, false));
        assertTrue(x.getMessage().contains("other"), x.getMessage());
    }

    /**
     * distributed 2023.10 to 2024.7's run spec, {@code (function, args, kwargs)} with the keys of
     * dependencies in place, and its {@code execute_task} form for legacy tasks and data.
     */
    @Test
    void readsCallTuples() throws Exception {
        byte[] call = new PickleWriter().proto().global("cloudviper.tasks", "sum").str("a").str("x").integer(0)
                .tupleEnd(2).tupleEnd(2).emptyDict().str("n").integer(3).setItem().tupleEnd(3).stop().toByteArray();
        TaskSpecs.TaskCall c = (TaskSpecs.TaskCall) TaskSpecs.read(call, 0);
        assertEquals("cloudviper.tasks.sum", c.function());
        assertEquals(List.of("a", List.of("x", 0L)), c.args());
        assertEquals(Map.of("n", 3L), c.kwargs());
        assertTrue(c.keysInPlace());
        // pack_data: the dependencies' values where their keys stand, a tuple key as a whole
        assertEquals(List.of(1.5, 2.5), TaskRunner.substitute(c.args(), Map.of("a", 1.5, List.of("x", 0L), 2.5), true));

        byte[] nested = new PickleWriter().proto().global("distributed.worker", "execute_task")
                .tupleStart(4).global("dask.utils", "apply").global("cloudviper.tasks", "sum").tupleEnd(0)
                .emptyDict().str("n").integer(1).setItem().tupleEnd(4).tupleEnd(1).emptyDict().tupleEnd(3).stop()
                .toByteArray();
        TaskSpecs.TaskCall n = (TaskSpecs.TaskCall) TaskSpecs.read(nested, 0);
        assertEquals("cloudviper.tasks.sum", n.function());
        assertEquals(List.of(), n.args());
        assertEquals(Map.of("n", 1L), n.kwargs());
        assertTrue(n.keysInPlace());

        byte[] data = new PickleWriter().proto().global("distributed.worker", "execute_task").integer(1)
                .tupleEnd(1).emptyDict().tupleEnd(3).stop().toByteArray();
        assertEquals(new TaskSpecs.Literal(1L), TaskSpecs.read(data, 0));
    }

    /** What a real 2024.1.1 scheduler sent its worker (captures of dask-2024.1.1), read as such. */
    @Test
    void readsTheRefereesRunSpecs() throws Exception {
        assertEquals(new TaskSpecs.Literal(1L), TaskSpecs.read(capturedRunSpec("scheduler-to-worker.compute-task-data.bin"), 0));
        // the capture client's functions live in its __main__: pickled by value, which no Java task is
        for (String capture : List.of("scheduler-to-worker.compute-task.bin",
                "scheduler-to-worker.compute-task-future-argument.bin",
                "scheduler-to-worker.compute-task-keyword-arguments.bin")) {
            TaskSpecs.SpecException x = assertThrows(TaskSpecs.SpecException.class,
                    () -> TaskSpecs.read(capturedRunSpec(capture), 0), capture);
            assertTrue(x.getMessage().startsWith("cannot run a Python function pickled by value"), x.getMessage());
        }
    }

    private static byte[] capturedRunSpec(String capture) {
        org.cloudviper.protocol.Frames frames = new org.cloudviper.protocol.Frames(
                org.cloudviper.testkit.Captures.frames(org.cloudviper.testkit.Captures.DASK_2024_1, capture).stream()
                        .map(io.netty.buffer.Unpooled::wrappedBuffer).toList());
        Object tree = org.cloudviper.protocol.MessageCodec.decode(frames);
        frames.release();
        try {
            Map<?, ?> m = (Map<?, ?>) ((List<?>) tree).get(0);
            org.cloudviper.protocol.SubObject s = (org.cloudviper.protocol.SubObject) m.get("run_spec");
            Map<?, ?> h = (Map<?, ?>) org.cloudviper.protocol.MessageCodec.decodeValue(s.header());
            return (byte[]) h.get("pickled-obj");
        } finally {
            org.cloudviper.protocol.MessageCodec.release(tree);
        }
    }

    @Test
    void garbageIsAClearError() {
        TaskSpecs.SpecException x = assertThrows(TaskSpecs.SpecException.class,
                () -> TaskSpecs.read(new byte[]{(byte) 0x80, 5, 'K', 1}, 0));
        assertTrue(x.getMessage().startsWith("cannot read the task specification"), x.getMessage());
    }

    /** DepRef as {"dep": key}, bytes as "bytes:HEX", the rest as Json reads it. */
    private static Object comparable(Object v) {
        if (v instanceof TaskSpecs.DepRef r) {
            return Map.of("dep", comparable(r.key()));
        }
        if (v instanceof byte[] b) {
            return "bytes:" + HexFormat.of().formatHex(b);
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(o -> out.add(comparable(o)));
            return out;
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, o) -> out.put(k, comparable(o)));
            return out;
        }
        return v;
    }

    private static Map<?, ?> load() {
        Map<?, ?> all = Json.readResource("/vectors/task_spec_2024.json");
        assertEquals("2024.12.1", all.get("distributed"));
        return (Map<?, ?>) all.get("vectors");
    }
}
