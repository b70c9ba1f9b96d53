package org.cloudviper.worker.runtime;

import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.message.StartStop;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.cloudviper.worker.state.Event;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The worker's side of the scheduler's messages: the state machine's event for each scheduler
 * message of both generations, and the state's messages made writable (the
 * messages' field sets themselves are the protocol module's records, tested there).
 */
class SchedulerMessagesTest {
    private static Event event(Map<String, Object> m, Generation g) {
        return SchedulerMessages.toEvent(SchedulerToWorker.decode(m, g), 1.0);
    }

    @Test
    void aJavaFailureIsWrittenAsAPythonException() {
        List<SubObject> created = new ArrayList<>();
        WorkerToScheduler.TaskFinished f = new WorkerToScheduler.TaskFinished("k", 8, new byte[]{1}, "float", null,
                7L, List.of(new StartStop("compute", 1.0, 2.0)), 3, "sid");
        assertSame(f, SchedulerMessages.writable(f, created), "nothing to serialize");

        WorkerToScheduler.TaskErred e = new WorkerToScheduler.TaskErred("k", new TaskError("boom"), null,
                "RuntimeError('boom')", "", 7L, List.of(), 3, "sid");
        Map<String, Object> e22 = SchedulerMessages.writable(e, created).encode(Generation.DASK_2022);
        assertEquals("error", e22.get("status"));
        assertInstanceOf(SubObject.class, e22.get("exception"), "a Java failure travels as a Python exception");
        assertNull(e22.get("traceback"));
        assertEquals(1, created.size());
        // The message encodes to frame 0 + the exception's header and frame.
        Frames frames = MessageCodec.encode(List.of(e22));
        assertEquals(3, frames.count());
        frames.release();
        created.forEach(SubObject::release);
        WorkerToScheduler.TaskErred python = new WorkerToScheduler.TaskErred("k", "already text", null, "t", "", 7L,
                List.of(), 3, "sid");
        assertSame(python, SchedulerMessages.writable(python, created));
    }

    /** A compute-task as a 2022 scheduler sends it (captured), with a dependency held elsewhere. */
    @Test
    void computeTask2022() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", "compute-task");
        m.put("key", "inc-e5be");
        m.put("priority", List.of(0L, 2L, 0L));
        m.put("duration", 8.3e-06);
        m.put("stimulus_id", "compute-task-1");
        m.put("who_has", Map.of("int-517c", List.of("tcp://127.0.0.1:34217")));
        m.put("nbytes", Map.of("int-517c", 28L));
        m.put("run_spec", null);
        m.put("function", Vectors.pickle("function_p5"));
        m.put("args", HexFormat.of().parseHex("80059505000000000000004b0a85942e"));
        m.put("kwargs", null);
        m.put("resource_restrictions", Map.of("java", 1L));
        m.put("actor", false);
        m.put("annotations", Map.of());
        Event.ComputeTask c = assertInstanceOf(Event.ComputeTask.class, event(m, Generation.DASK_2022));
        assertEquals("inc-e5be", c.key());
        assertEquals(List.of(0L, 2L, 0L), c.priority());
        assertEquals(Map.of("int-517c", List.of("tcp://127.0.0.1:34217")), c.whoHas());
        assertEquals(Map.of("int-517c", 28L), c.nbytes());
        assertEquals(Map.of("java", 1.0), c.resourceRestrictions());
        assertEquals(-1, c.runId());
        RunSpec spec = (RunSpec) c.runSpec();
        assertArrayEquals(Vectors.pickle("function_p5"), spec.function());
        assertNull(spec.kwargs());
        assertNull(spec.refusal());
    }

    @Test
    void computeTask2024CarriesThePickledTask() {
        SubObject pickled = new SubObject(SubObject.Kind.PICKLED,
                Unpooled.wrappedBuffer(MessageCodec.pack(Map.of("pickled-obj", new byte[]{1}, "num-sub-frames", 0L))),
                List.of());
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("op", "compute-task");
            m.put("key", List.of("x", 0L));
            m.put("run_id", 4L);
            m.put("priority", List.of(0L, 1L, 0L));
            m.put("run_spec", pickled);
            m.put("resource_restrictions", null);
            m.put("span_id", "s");
            Event.ComputeTask c = (Event.ComputeTask) event(m, Generation.DASK_2024);
            assertEquals(4, c.runId());
            assertEquals(List.of("x", 0L), c.key());
            RunSpec spec = (RunSpec) c.runSpec();
            assertNull(spec.refusal());
            assertArrayEquals(new byte[]{1}, spec.taskSpec());
            assertEquals(0, spec.buffers());
        } finally {
            pickled.release();
        }
    }

    @Test
    void otherSchedulerMessages() {
        Generation g = Generation.DASK_2022;
        assertEquals(new Event.FreeKeys(List.of("a"), "s"),
                event(Map.of("op", "free-keys", "keys", List.of("a"), "stimulus_id", "s"), g));
        assertEquals(new Event.StealRequest("a", "s"),
                event(Map.of("op", "steal-request", "key", "a", "stimulus_id", "s"), g));
        assertEquals(new Event.AcquireReplicas(Map.of("a", List.of("w")), Map.of("a", 5L), "s"),
                event(Map.of("op", "acquire-replicas", "who_has", Map.of("a", List.of("w")),
                        "nbytes", Map.of("a", 5L), "stimulus_id", "s"), g));
        assertEquals(new Event.RemoveReplicas(List.of("a"), "s"), event(Map.of("op", "remove-replicas",
                "keys", Map.of("__Set__", true, "as-list", List.of("a")), "stimulus_id", "s"), g));
        assertEquals(new Event.CancelCompute("a", "cancel-compute-1.0"),
                event(Map.of("op", "cancel-compute", "key", "a"), g), "no stimulus id: one made of op and time");
        assertNull(event(Map.of("op", "remove-worker", "worker", "w", "stimulus_id", "s"), g));
        assertNull(event(Map.of("op", "close", "reason", "retired"), g), "the runtime closes; the state hears nothing");
    }

    @Test
    void anActorIsRefusedWithTheReason() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", "compute-task");
        m.put("key", "Counter-1");
        m.put("function", Vectors.pickle("function_p5"));
        m.put("actor", true);
        RunSpec spec = (RunSpec) ((Event.ComputeTask) event(m, Generation.DASK_2022)).runSpec();
        assertEquals("cloudviper Java worker does not host actors", spec.refusal());
    }
}
