package org.cloudviper.worker.runtime;

import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.worker.state.Event;
import org.cloudviper.worker.state.Instruction;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Field sets of what the worker sends, against a Python 2022.12.1 worker's messages captured on the
 * wire (register-worker, heartbeat_worker, task-finished, task-erred, release-worker-data), and the
 * 2024 differences (docs/dask-protocol.md §5).
 */
class WireTest {
    /** Captured register-worker of a stock 2022.12.1 worker, in order. */
    static final List<String> REGISTER_2022 = List.of("op", "reply", "address", "status", "keys", "nthreads", "name",
            "nbytes", "types", "now", "resources", "memory_limit", "local_directory", "services", "nanny", "pid",
            "versions", "metrics", "extra", "stimulus_id", "server_id");
    static final List<String> METRICS_2022 = List.of("task_counts", "bandwidth", "managed_bytes", "spilled_bytes",
            "transfer", "event_loop_interval", "cpu", "memory", "time", "host_net_io", "host_disk_io", "num_fds");
    static final Set<String> TASK_FINISHED_2022 = Set.of("op", "key", "nbytes", "type", "typename", "metadata",
            "thread", "startstops", "stimulus_id", "status");
    static final Set<String> TASK_ERRED_2022 = Set.of("op", "key", "exception", "traceback", "exception_text",
            "traceback_text", "thread", "startstops", "stimulus_id", "status");

    static Map<String, Object> metrics(int gen) {
        return Wire.metrics(gen, Map.of(), 0, 5, 6, 0, 0, 0, 0, 0, 1.0, 2, 3, 4.0);
    }

    @Test
    void registerWorkerFieldSets() {
        Map<String, Object> m22 = Wire.registerWorker(Wire.GEN_2022, "tcp://a:1", "n", 2, Map.of("java", 2.0), 10,
                "/tmp", 1, Map.of(), metrics(Wire.GEN_2022), "sid", "Worker-x", 1.0);
        assertEquals(REGISTER_2022, new ArrayList<>(m22.keySet()));
        assertEquals(false, m22.get("reply"));
        assertEquals("init", m22.get("status"));
        Map<String, Object> m24 = Wire.registerWorker(Wire.GEN_2024, "tcp://a:1", "n", 2, Map.of(), 10, "/tmp", 1,
                Map.of(), metrics(Wire.GEN_2024), "sid", "Worker-x", 1.0);
        List<String> expected = new ArrayList<>(REGISTER_2022);
        expected.removeAll(List.of("keys", "nbytes", "types"));
        assertEquals(expected, new ArrayList<>(m24.keySet()));
    }

    @Test
    void heartbeatFieldSets() {
        assertEquals(METRICS_2022, new ArrayList<>(metrics(Wire.GEN_2022).keySet()));
        assertTrue(metrics(Wire.GEN_2024).containsKey("digests_total_since_heartbeat"));
        assertEquals(List.of("op", "address", "now", "metrics", "executing", "extensions", "reply"),
                new ArrayList<>(Wire.heartbeat("tcp://a:1", 1.0, metrics(Wire.GEN_2022), Map.of()).keySet()));
        Map<?, ?> t = (Map<?, ?>) metrics(Wire.GEN_2022).get("transfer");
        assertEquals(List.of("incoming_bytes", "incoming_count", "incoming_count_total", "outgoing_bytes",
                "outgoing_count", "outgoing_count_total"), new ArrayList<>(t.keySet()));
    }

    @Test
    void streamMessagesPerGeneration() {
        List<SubObject> created = new ArrayList<>();
        Instruction.TaskFinished f = new Instruction.TaskFinished("k", 8, new byte[]{1}, "float", 7L,
                List.of(new Instruction.StartStop("compute", 1.0, 2.0)), 3, "sid");
        assertEquals(TASK_FINISHED_2022, Wire.toScheduler(f, Wire.GEN_2022, created).keySet());
        Map<String, Object> f24 = Wire.toScheduler(f, Wire.GEN_2024, created);
        assertEquals(3L, f24.get("run_id"));
        assertEquals(List.of(Map.of("action", "compute", "start", 1.0, "stop", 2.0)), f24.get("startstops"));

        Instruction.TaskErred e = new Instruction.TaskErred("k", new TaskError("boom"), null, "RuntimeError('boom')",
                "", 7L, List.of(), 3, "sid");
        Map<String, Object> e22 = Wire.toScheduler(e, Wire.GEN_2022, created);
        assertEquals(TASK_ERRED_2022, e22.keySet());
        assertEquals("error", e22.get("status"));
        assertInstanceOf(SubObject.class, e22.get("exception"));
        assertNull(e22.get("traceback"));
        assertEquals(1, created.size());
        // The message encodes to frame 0 + the exception's header and frame.
        Frames frames = MessageCodec.encode(List.of(e22));
        assertEquals(3, frames.count());
        frames.release();
        created.forEach(SubObject::release);

        assertEquals(Set.of("op", "key", "stimulus_id"),
                Wire.toScheduler(new Instruction.ReleaseWorkerData("k", "s"), Wire.GEN_2022, created).keySet());
        assertEquals(Set.of("op", "keys", "stimulus_id"),
                Wire.toScheduler(new Instruction.AddKeys(List.of("k"), "s"), Wire.GEN_2022, created).keySet());
        assertEquals(Set.of("op", "key", "state", "stimulus_id"),
                Wire.toScheduler(new Instruction.StealResponse("k", null, "s"), Wire.GEN_2022, created).keySet());
        assertEquals(Map.of("op", "worker-status-change", "status", "running", "stimulus_id", "s"),
                Wire.toScheduler(new Instruction.WorkerStatus("running", "s"), Wire.GEN_2022, created));
    }

    @Test
    void getDataSendsMaxConnectionsTo2022Only() {
        assertTrue(Wire.getData(Wire.GEN_2022, List.of("k"), "me").containsKey("max_connections"));
        assertEquals(List.of("op", "keys", "who", "reply"),
                new ArrayList<>(Wire.getData(Wire.GEN_2024, List.of("k"), "me").keySet()));
    }

    @Test
    void generationFromVersions() {
        assertEquals(Wire.GEN_2022, Wire.generationOf(Map.of("packages", Map.of("distributed", "2022.12.1+ds.1"))));
        assertEquals(Wire.GEN_2024, Wire.generationOf(Map.of("packages", Map.of("distributed", "2024.12.1"))));
        assertEquals(Wire.GEN_2024, Wire.generationOf(Map.of("packages", Map.of("distributed", "2023.4.0"))));
        assertEquals(Wire.GEN_2022, Wire.generationOf(Map.of("packages", Map.of("distributed", "2023.3.2"))));
        // The cloudviper scheduler answers with the client-style shape and no packages: 2022.
        assertEquals(Wire.GEN_2022, Wire.generationOf(Map.of("scheduler", Map.of("packages", Map.of()))));
        assertEquals(Wire.GEN_2022, Wire.generationOf(null));
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
        Event.ComputeTask c = assertInstanceOf(Event.ComputeTask.class, Wire.fromScheduler("compute-task", m));
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
            m.put("key", List.of("x", 0L));
            m.put("run_id", 4L);
            m.put("priority", List.of(0L, 1L, 0L));
            m.put("run_spec", pickled);
            m.put("resource_restrictions", null);
            m.put("span_id", "s");
            Event.ComputeTask c = (Event.ComputeTask) Wire.fromScheduler("compute-task", m);
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
        assertEquals(new Event.FreeKeys(List.of("a"), "s"),
                Wire.fromScheduler("free-keys", Map.of("keys", List.of("a"), "stimulus_id", "s")));
        assertEquals(new Event.StealRequest("a", "s"),
                Wire.fromScheduler("steal-request", Map.of("key", "a", "stimulus_id", "s")));
        assertEquals(new Event.AcquireReplicas(Map.of("a", List.of("w")), Map.of("a", 5L), "s"),
                Wire.fromScheduler("acquire-replicas", Map.of("who_has", Map.of("a", List.of("w")),
                        "nbytes", Map.of("a", 5L), "stimulus_id", "s")));
        assertEquals(new Event.RemoveReplicas(List.of("a"), "s"), Wire.fromScheduler("remove-replicas",
                Map.of("keys", Map.of("__Set__", true, "as-list", List.of("a")), "stimulus_id", "s")));
        assertNull(Wire.fromScheduler("remove-worker", Map.of("worker", "w", "stimulus_id", "s")));
    }

    @Test
    void updateDataReportsAddKeysOnlyTo2022() {
        assertTrue(Wire.reportsUpdateData(Wire.GEN_2022, null));
        assertFalse(Wire.reportsUpdateData(Wire.GEN_2022, false));
        assertFalse(Wire.reportsUpdateData(Wire.GEN_2024, null));
    }
}
