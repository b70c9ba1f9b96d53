package org.cloudviper.protocol.message;

import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.TestWire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every admin request survives encode, the codec and decode for both generations; the shapes clients send read right. */
class AdminRequestTest {

    static List<AdminRequest> all() {
        return List.of(
                new AdminRequest.RegisterPlugin(AdminRequest.PluginKind.WORKER, new byte[]{1, 2}, "p", true),
                new AdminRequest.RegisterPlugin(AdminRequest.PluginKind.NANNY, new byte[]{3}, "n", null),
                new AdminRequest.RegisterPlugin(AdminRequest.PluginKind.SCHEDULER, new byte[]{4}, "s", false),
                new AdminRequest.UnregisterPlugin(AdminRequest.PluginKind.WORKER, "p"),
                new AdminRequest.UnregisterPlugin(AdminRequest.PluginKind.NANNY, "n"),
                new AdminRequest.Restart(12.0, true, "client-restart-1"),
                new AdminRequest.RestartWorkers(List.of("tcp://a:1"), 5.0, false, "return", "sid"),
                new AdminRequest.GetTaskStream(1.5, "10s", 7L),
                new AdminRequest.GetLogs("logs", 0, 20L, false),
                new AdminRequest.WorkerLogs(5L, List.of("tcp://a:1"), true),
                new AdminRequest.Profile(1.0, 2.0, "inc", List.of("tcp://a:1"), false, true, false),
                new AdminRequest.Rebalance(List.of("k"), List.of("tcp://a:1"), null),
                new AdminRequest.Replicate(List.of("k"), 2, null, 2, true, null),
                new AdminRequest.RunFunction(new byte[]{9}, new byte[]{8}, new byte[]{7}, true),
                new AdminRequest.PerformanceReport(3.0, 0, "x = 1", null),
                new AdminRequest.LogEvent(List.of("a", "b"), Map.of("n", 1L)),
                new AdminRequest.Events("a"),
                new AdminRequest.Echo("hi"),
                new AdminRequest.GetMetadata(List.of("a", "b"), true, 0L),
                new AdminRequest.SetMetadata(List.of("a"), Map.of("x", 1L)),
                new AdminRequest.GetTaskStatus(List.of("k")),
                new AdminRequest.Nbytes(null, true),
                new AdminRequest.AddKeys("tcp://a:1", List.of("k"), "s"),
                new AdminRequest.UpdateData(Map.of("k", List.of("tcp://a:1")), Map.of("k", 8L), "Client-1"),
                AdminRequest.CheckIdle.INSTANCE,
                new AdminRequest.CallStack(List.of("k")),
                new AdminRequest.AdaptiveTarget(5.0));
    }

    @ParameterizedTest
    @EnumSource(Generation.class)
    void everyRecordRoundTrips(Generation g) {
        for (AdminRequest m : all()) {
            Frames f = MessageCodec.encode(List.of(m.encode(g)));
            Object tree = MessageCodec.decode(f);
            f.release();
            Map<?, ?> back = (Map<?, ?>) ((List<?>) tree).get(0);
            assertEquals(true, back.get("reply"), m.toString());
            AdminRequest again = AdminRequest.decode(back, g);
            assertSame(m.getClass(), again.getClass(), m.toString());
            assertEquals(TestWire.canonical(m.encode(g)), TestWire.canonical(again.encode(g)), m.toString());
            MessageCodec.release(tree);
        }
    }

    @Test
    void readsWhatStockClientsSend() {
        // Client.restart of 2022 (no stimulus_id) and 2024; register_worker_plugin of 2022 (no idempotent)
        AdminRequest.Restart r22 = (AdminRequest.Restart) AdminRequest.decode(
                Map.of("op", "restart", "timeout", 30.0, "wait_for_workers", true, "reply", true), Generation.DASK_2022);
        assertNull(r22.stimulusId());
        assertEquals(30.0, r22.timeoutSeconds());
        assertFalse(r22.encode(Generation.DASK_2022).containsKey("stimulus_id"));
        AdminRequest.Restart defaults = (AdminRequest.Restart) AdminRequest.decode(Map.of("op", "restart"),
                Generation.DASK_2024);
        assertEquals(30.0, defaults.timeoutSeconds(), "Dask's default timeout");
        assertTrue(defaults.waitForWorkers());
        AdminRequest.RegisterPlugin p = (AdminRequest.RegisterPlugin) AdminRequest.decode(
                Map.of("op", "register_worker_plugin", "plugin", new byte[]{1}, "name", "x"), Generation.DASK_2022);
        assertFalse(p.isIdempotent());
        assertEquals(List.of("op", "plugin", "name", "reply"), new ArrayList<>(p.encode(Generation.DASK_2022).keySet()));
        assertEquals(List.of("op", "plugin", "name", "idempotent", "reply"),
                new ArrayList<>(p.encode(Generation.DASK_2024).keySet()));
        AdminRequest.GetLogs logs = (AdminRequest.GetLogs) AdminRequest.decode(Map.of("op", "logs", "n", 3L),
                Generation.DASK_2022);
        assertEquals(3L, logs.n());
        assertInstanceOf(AdminRequest.Replicate.class, AdminRequest.decode(Map.of("op", "replicate", "keys", List.of("k"),
                "n", 2L, "branching_factor", 2L), Generation.DASK_2022));
    }

    @Test
    void otherOpsAreNotAdmin() {
        assertNull(AdminRequest.decode(Map.of("op", "gather", "keys", List.of()), Generation.DASK_2022));
        assertNull(AdminRequest.decode(Map.of("op", "variable_set"), Generation.DASK_2024));
    }

    @Test
    void restartReachesClients() {
        Map<String, Object> m = SchedulerToClient.Restart.INSTANCE.encode(Generation.DASK_2024);
        assertEquals(Map.of("op", "restart"), m);
        assertSame(SchedulerToClient.Restart.INSTANCE, SchedulerToClient.decode(m, Generation.DASK_2022));
    }
}
