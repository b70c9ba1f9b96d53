package org.cloudviper.protocol.message;

import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.TestWire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where the generations' shapes differ, each record writes the shape of the peer's generation and
 * reads both; every record survives encode, the codec and decode for both generations.
 */
class GenerationShapesTest {
    /** The fields of a stock 2022.12.1 worker's register-worker, in its order (captured). */
    static final List<String> REGISTER_2022 = List.of("op", "reply", "address", "status", "keys", "nthreads", "name",
            "nbytes", "types", "now", "resources", "memory_limit", "local_directory", "services", "nanny", "pid",
            "versions", "metrics", "extra", "stimulus_id", "server_id");
    static final List<String> METRICS_2022 = List.of("task_counts", "bandwidth", "managed_bytes", "spilled_bytes",
            "transfer", "event_loop_interval", "cpu", "memory", "time", "host_net_io", "host_disk_io", "num_fds");

    static WorkerMetrics metrics() {
        return new WorkerMetrics(Map.of(), 0, 5, 6, 0, 0, 0, 0, 0, 1.0, 2, 3, 4.0);
    }

    static SchedulerRequest.RegisterWorker registration(Generation g) {
        return new SchedulerRequest.RegisterWorker("tcp://a:1", "n", 2, 10, Map.of("java", 2.0), "/tmp", Map.of(),
                null, 1, Map.of(), metrics().encode(g), Map.of(), "sid", "Worker-x", 1.0);
    }

    @Test
    void registerWorkerListsDataOnlyFor2022() {
        Map<String, Object> m22 = registration(Generation.DASK_2022).encode(Generation.DASK_2022);
        assertEquals(REGISTER_2022, new ArrayList<>(m22.keySet()));
        assertEquals(false, m22.get("reply"));
        assertEquals("init", m22.get("status"));
        List<String> expected = new ArrayList<>(REGISTER_2022);
        expected.removeAll(List.of("keys", "nbytes", "types"));
        assertEquals(expected, new ArrayList<>(registration(Generation.DASK_2024).encode(Generation.DASK_2024).keySet()));
    }

    @Test
    void metricsAndHeartbeat() {
        assertEquals(METRICS_2022, new ArrayList<>(metrics().encode(Generation.DASK_2022).keySet()));
        assertTrue(metrics().encode(Generation.DASK_2024).containsKey("digests_total_since_heartbeat"));
        Map<?, ?> t = (Map<?, ?>) metrics().encode(Generation.DASK_2022).get("transfer");
        assertEquals(List.of("incoming_bytes", "incoming_count", "incoming_count_total", "outgoing_bytes",
                "outgoing_count", "outgoing_count_total"), new ArrayList<>(t.keySet()));
        assertEquals(List.of("op", "address", "now", "metrics", "executing", "extensions", "reply"),
                new ArrayList<>(new SchedulerRequest.HeartbeatWorker("tcp://a:1", 1.0, Map.of(), Map.of(), Map.of())
                        .encode(Generation.DASK_2022).keySet()));
    }

    @Test
    void computeTaskPerGeneration() {
        SchedulerToWorker.ComputeTask c = new SchedulerToWorker.ComputeTask("k", 7, List.of(0L, 1L, 2L), 0.5, "s",
                Map.of("d", List.of("tcp://w:1")), Map.of("d", 8L), RunSpec.ofFunction(new byte[]{1}, new byte[]{2}, null),
                Map.of(), false, Map.of(), null);
        Map<String, Object> m22 = c.encode(Generation.DASK_2022);
        assertEquals(List.of("op", "key", "priority", "duration", "stimulus_id", "who_has", "nbytes", "run_spec",
                "function", "args", "kwargs", "resource_restrictions", "actor", "annotations"), new ArrayList<>(m22.keySet()));
        assertEquals(Map.of(), m22.get("resource_restrictions"));
        Map<String, Object> m24 = c.encode(Generation.DASK_2024);
        assertEquals(List.of("op", "key", "run_id", "priority", "duration", "stimulus_id", "who_has", "nbytes",
                "run_spec", "resource_restrictions", "actor", "annotations", "span_id"), new ArrayList<>(m24.keySet()));
        assertEquals(7L, m24.get("run_id"));
        assertNull(m24.get("resource_restrictions"), "2024 reads no restrictions as None");

        SchedulerToWorker.ComputeTask back = assertInstanceOf(SchedulerToWorker.ComputeTask.class,
                SchedulerToWorker.decode(m22, Generation.DASK_2022));
        assertEquals(-1, back.runId(), "2022 sends no run id");
        assertArrayEquals(new byte[]{1}, (byte[]) back.spec().function());
        assertEquals(List.of(0L, 1L, 2L), back.priority());
        assertEquals(7, ((SchedulerToWorker.ComputeTask) SchedulerToWorker.decode(m24, Generation.DASK_2024)).runId());
    }

    @Test
    void computeTaskCountsDependenciesOfUnknownSize() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", "compute-task");
        m.put("key", List.of("x", 0L));
        m.put("priority", List.of(0L, 1L, 2.5));
        m.put("who_has", Map.of("a", List.of("tcp://w:1"), "b", Map.of("__Set__", true, "as-list", List.of("tcp://w:2"))));
        m.put("nbytes", Map.of("a", 5L));
        m.put("resource_restrictions", null);
        SchedulerToWorker.ComputeTask c = (SchedulerToWorker.ComputeTask) SchedulerToWorker.decode(m, Generation.DASK_2024);
        assertEquals(Map.of("a", 5L, "b", SchedulerToWorker.ComputeTask.UNKNOWN_NBYTES), c.nbytes());
        assertEquals(List.of("tcp://w:2"), c.whoHas().get("b"));
        assertEquals(List.of(0L, 1L, 2.5), c.priority());
        assertEquals(Map.of(), c.resourceRestrictions());
        assertEquals(0.5, c.duration(), "Dask's default duration of a task never seen");
    }

    @Test
    void taskResultsCarryRunIdsFrom2024() {
        WorkerToScheduler.TaskFinished f = new WorkerToScheduler.TaskFinished("k", 8, new byte[]{1}, "float", Map.of(),
                7L, List.of(new StartStop("compute", 1.0, 2.5)), 3, "sid");
        assertEquals(Set.of("op", "key", "nbytes", "type", "typename", "metadata", "thread", "startstops",
                "stimulus_id", "status"), f.encode(Generation.DASK_2022).keySet());
        Map<String, Object> f24 = f.encode(Generation.DASK_2024);
        assertEquals(3L, f24.get("run_id"));
        assertEquals(List.of(Map.of("action", "compute", "start", 1.0, "stop", 2.5)), f24.get("startstops"));
        WorkerToScheduler.TaskFinished back = (WorkerToScheduler.TaskFinished) WorkerToScheduler.decode(f24,
                Generation.DASK_2024);
        assertEquals(1.5, back.computeSeconds());
        assertEquals(3, back.runId());
        assertEquals(7L, back.thread());
    }

    @Test
    void computeSecondsSumsComputeIntervalsOnly() {
        List<StartStop> ss = List.of(new StartStop("transfer", 1.0, 3.0, "tcp://x:1"),
                new StartStop("compute", 10.0, 10.25), new StartStop("compute", 11.0, 11.5));
        assertEquals(0.75, StartStop.computeSeconds(ss), 1e-12);
        assertTrue(Double.isNaN(StartStop.computeSeconds(List.of())));
        assertTrue(Double.isNaN(StartStop.computeSeconds(List.of(new StartStop("compute", 2.0, 1.0)))),
                "a negative interval is no duration");
    }

    @Test
    void cancelledKeys() {
        SchedulerToClient.CancelledKeys one = new SchedulerToClient.CancelledKeys(List.of("a"));
        assertEquals(Map.of("op", "cancelled-key", "key", "a"), one.encode(Generation.DASK_2022));
        assertEquals(Map.of("op", "cancelled-keys", "keys", List.of("a")), one.encode(Generation.DASK_2024));
        SchedulerToClient.CancelledKeys two = new SchedulerToClient.CancelledKeys(List.of("a", "b"));
        assertThrows(IllegalArgumentException.class, () -> two.encode(Generation.DASK_2022));
        assertEquals(one, SchedulerToClient.decode(one.encode(Generation.DASK_2022), Generation.DASK_2022));
        assertEquals(two, SchedulerToClient.decode(two.encode(Generation.DASK_2024), Generation.DASK_2024));
    }

    @Test
    void getDataAndUpdateDataArguments() {
        assertFalse(new WorkerRequest.GetData(List.of("k"), "me", null).encode(Generation.DASK_2022)
                .containsKey("max_connections"), "no limit given: nothing that a 2024 worker would refuse");
        assertEquals(List.of("op", "keys", "who", "reply"),
                new ArrayList<>(new WorkerRequest.GetData(List.of("k"), "me", null).encode(Generation.DASK_2024).keySet()));
        assertEquals(false, WorkerRequest.GetData.unlimited(List.of("k")).encode(Generation.DASK_2022).get("max_connections"));

        assertTrue(new WorkerRequest.UpdateData(Map.of(), null, null).reportsAddKeys(Generation.DASK_2022));
        assertFalse(new WorkerRequest.UpdateData(Map.of(), false, null).reportsAddKeys(Generation.DASK_2022));
        assertFalse(new WorkerRequest.UpdateData(Map.of(), null, null).reportsAddKeys(Generation.DASK_2024));
        assertEquals(List.of("op", "data", "report", "reply"),
                new ArrayList<>(new WorkerRequest.UpdateData(Map.of(), false, null).encode(Generation.DASK_2022).keySet()));
        assertEquals(List.of("op", "data", "reply"),
                new ArrayList<>(new WorkerRequest.UpdateData(Map.of(), false, null).encode(Generation.DASK_2024).keySet()));
    }

    @Test
    void unknownOpsAreKeptWhole() {
        Map<String, Object> m = Map.of("op", "remove-worker", "worker", "w");
        SchedulerToWorker.Unknown u = assertInstanceOf(SchedulerToWorker.Unknown.class,
                SchedulerToWorker.decode(m, Generation.DASK_2024));
        assertEquals("remove-worker", u.op());
        assertEquals(m, u.encode(Generation.DASK_2024));
        assertInstanceOf(SchedulerRequest.Unknown.class,
                SchedulerRequest.decode(Map.of("op", "run_function", "function", new byte[0]), Generation.DASK_2022));
    }

    @Test
    void aMessageWithoutItsRequiredFieldFailsTheConnection() {
        var e = assertThrows(org.cloudviper.protocol.ProtocolException.class,
                () -> WorkerToScheduler.decode(Map.of("op", "task-finished"), Generation.DASK_2022));
        assertEquals("task-finished without key", e.getMessage());
        assertThrows(org.cloudviper.protocol.ProtocolException.class,
                () -> SchedulerRequest.decode(Map.of("reply", true), Generation.DASK_2022));
    }

    /** Each stream record, with a sub-object where it may carry one, through the whole codec and back. */
    @ParameterizedTest
    @EnumSource(Generation.class)
    void streamRecordsSurviveTheCodec(Generation g) {
        SubObject exception = new SubObject(SubObject.Kind.SERIALIZED,
                Unpooled.wrappedBuffer(MessageCodec.pack(Map.of("serializer", "error", "num-sub-frames", 1L))),
                List.of(Unpooled.wrappedBuffer(new byte[]{'b', 'o', 'o', 'm'})));
        List<DaskMessage> messages = List.of(
                new WorkerToScheduler.TaskErred("k", exception, null, "RuntimeError('boom')", "", 1L, List.of(), 4, "s"),
                new WorkerToScheduler.ReleaseWorkerData("k", "s"),
                new WorkerToScheduler.AddKeys(List.of("k"), "s"),
                new WorkerToScheduler.StealResponse("k", null, "s"),
                new WorkerToScheduler.WorkerStatusChange("running", "s"),
                new WorkerToScheduler.RequestRefreshWhoHas(List.of("k"), "s"),
                new WorkerToScheduler.LongRunning("k", 0.5, "s"),
                new WorkerToScheduler.Reschedule("k", "s"),
                WorkerToScheduler.KeepAlive.INSTANCE,
                new SchedulerToWorker.FreeKeys(List.of("k"), "s"),
                new SchedulerToWorker.RemoveReplicas(List.of("k"), "s"),
                new SchedulerToWorker.AcquireReplicas(Map.of("k", List.of("tcp://w:1")), Map.of("k", 3L), "s"),
                new SchedulerToWorker.RefreshWhoHas(Map.of("k", List.of("tcp://w:1")), "s"),
                new SchedulerToWorker.StealRequest("k", "s"),
                new SchedulerToWorker.CancelCompute("k", "s"),
                new SchedulerToWorker.WorkerStatusChange("paused", "s"),
                new SchedulerToWorker.Close("retired"),
                new SchedulerToClient.StreamStart("", ""),
                new SchedulerToClient.TaskErred("k", exception, null),
                new SchedulerToClient.LostData("k"),
                new SchedulerToClient.TaskRetried("k"),
                SchedulerToClient.StreamClosed.INSTANCE,
                new ClientToScheduler.ClientDesiresKeys(List.of("k"), "fire-and-forget"),
                new ClientToScheduler.ClientReleasesKeys(List.of("k"), "Client-1"),
                new ClientToScheduler.CancelKeys(List.of("k"), true, null),
                new ClientToScheduler.ReportKey("k", null),
                new ClientToScheduler.CloseClient(null),
                ClientToScheduler.CloseStream.INSTANCE);
        try {
            for (DaskMessage m : messages) {
                Frames f = MessageCodec.encode(List.of(m.encode(g)));
                Object tree = MessageCodec.decode(f);
                f.release();
                Map<?, ?> back = (Map<?, ?>) ((List<?>) tree).get(0);
                DaskMessage again = m instanceof WorkerToScheduler ? WorkerToScheduler.decode(back, g)
                        : m instanceof SchedulerToWorker ? SchedulerToWorker.decode(back, g)
                        : m instanceof SchedulerToClient ? SchedulerToClient.decode(back, g)
                        : ClientToScheduler.decode(back, g);
                assertSame(m.getClass(), again.getClass(), m.toString());
                assertEquals(TestWire.canonical(m.encode(g)), TestWire.canonical(again.encode(g)), m.toString());
                MessageCodec.release(tree);
            }
        } finally {
            exception.release();
        }
    }
}
