package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.message.StartStop;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.cloudviper.protocol.pickle.Pickles;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin API's pure parts: task stream selection, durations, profile merging, the report page, pickle probes. */
class AdminPartsTest {

    private static WorkerToScheduler.TaskFinished finished(String key, double start, double stop) {
        return new WorkerToScheduler.TaskFinished(key, 8, null, "int", Map.of(), 1L,
                List.of(new StartStop("compute", start, stop)), 0, "s-" + key);
    }

    @Test
    void taskStreamSelectsAsDask() {
        TaskStream ts = new TaskStream();
        for (int i = 0; i < 10; i++) {
            ts.finished("tcp://w:1", finished("inc-" + i, 100 + i, 100.5 + i));
        }
        ts.finished("tcp://w:1", new WorkerToScheduler.TaskFinished("no-startstops", 8, null, "int", Map.of(), 1L,
                List.of(), 0, "s"));
        assertEquals(10, ts.size(), "reports without startstops are left out");
        assertEquals(List.of("inc-7", "inc-8", "inc-9"), keys(ts.collect(null, null, 3L, 200)));
        assertEquals(List.of("inc-5", "inc-6"), keys(ts.collect(105.0, null, 2L, 200)), "count from start");
        assertEquals(List.of("inc-3", "inc-4"), keys(ts.collect(103.2, 105.2, null, 200)), "by last stop");
        assertEquals(List.of("inc-9"), keys(ts.collect("1.2s", null, null, 110.0)), "a duration before now");
        assertEquals(List.of(), ts.collect(0.0, 0.0, null, 200), "start=0, stop=0: nothing (Dask's probe)");
        Map<String, Object> m = ts.collect(null, null, 1L, 200).get(0).toMap();
        assertEquals("tcp://w:1", m.get("worker"));
        assertEquals("inc-9", m.get("key"));
        assertEquals(List.of(Map.of("action", "compute", "start", 109.0, "stop", 109.5)), m.get("startstops"));
    }

    private static List<Object> keys(List<TaskStream.Entry> entries) {
        List<Object> r = new ArrayList<>();
        entries.forEach(e -> r.add(e.key()));
        return r;
    }

    @Test
    void durations() {
        assertEquals(10, Durations.seconds("10s"));
        assertEquals(0.5, Durations.seconds("500ms"));
        assertEquals(90, Durations.seconds("1.5 minutes"));
        assertEquals(7200, Durations.seconds("2h"));
        assertEquals(3, Durations.seconds("3"));
        assertThrows(IllegalArgumentException.class, () -> Durations.seconds("3 fortnights"));
    }

    private static Map<String, Object> node(String id, long count, Map<String, Object> children) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("count", count);
        n.put("children", children);
        n.put("identifier", id);
        n.put("description", Map.of("filename", id + ".py", "name", id, "line_number", 1L, "line", ""));
        return n;
    }

    @Test
    void profilesMergeNodeByNode() {
        Map<String, Object> a = node("root", 3, Map.of("f", node("f", 3, Map.of("g", node("g", 2, Map.of())))));
        Map<String, Object> b = node("root", 4, Map.of("f", node("f", 1, Map.of()), "h", node("h", 3, Map.of())));
        Map<String, Object> m = ProfileTrees.merge(List.of(a, b, Map.of("status", "error")));
        assertEquals(7L, m.get("count"));
        Map<?, ?> children = (Map<?, ?>) m.get("children");
        assertEquals(4L, ((Map<?, ?>) children.get("f")).get("count"));
        assertEquals(2L, ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) children.get("f")).get("children")).get("g")).get("count"));
        assertEquals(3L, ((Map<?, ?>) children.get("h")).get("count"));
        assertEquals(0L, ProfileTrees.merge(List.of()).get("count"), "no profiles: profile.create()");
    }

    @Test
    void reportIsOnePageWithItsData() {
        TaskStream ts = new TaskStream();
        ts.finished("tcp://w:1", finished("inc-1", 100, 101));
        ts.finished("tcp://w:2", new WorkerToScheduler.TaskFinished("add-1", 8, null, "int", Map.of(), 2L,
                List.of(new StartStop("transfer", 101, 101.25, "tcp://w:1"), new StartStop("compute", 101.25, 102)),
                0, "s"));
        String html = PerformanceReportPage.render(ts.collect(null, null, null, 103), ProfileTrees.merge(List.of(
                node("root", 5, Map.of("f", node("f", 5, Map.of()))))), 100, 103, "x = <1>", "tcp://s:1", 2, 4);
        assertTrue(html.startsWith("<!DOCTYPE html>"));
        assertTrue(html.contains("<svg") && html.contains("<rect"), "task stream drawn");
        assertTrue(html.contains(">inc<") && html.contains(">add<"), "per-function rows");
        assertTrue(html.contains("tcp://w:1 \u2192 tcp://w:2"), "the transfer");
        assertTrue(html.contains("x = &lt;1&gt;"), "code escaped");
        assertFalse(html.contains("<script"), "self-contained, no scripts");
    }

    /** {@code dumps(lambda dask_scheduler: dask_scheduler.monitor.count)} by distributed 2022.12.1 (cloudpickle 2.2.0). */
    private static final String MONITOR_PROBE_2022 =
            "800595eb010000000000008c17636c6f75647069636b6c652e636c6f75647069636b6c65948c0e5f6d616b655f66756e6374" +
            "696f6e9493942868008c0d5f6275696c74696e5f747970659493948c08436f6465547970659485945294284b014b004b004b" +
            "014b014b03431a97007c006a0000000000000000006a0100000000000000005300944e85948c076d6f6e69746f72948c0563" +
            "6f756e749486948c0e6461736b5f7363686564756c65729485948c083c737472696e673e948c083c6c616d6264613e946810" +
            "4b03430c8000a03ed42339d4233f8000944300942929749452947d94288c0b5f5f7061636b6167655f5f944e8c085f5f6e61" +
            "6d655f5f948c085f5f6d61696e5f5f94754e4e4e749452948c1c636c6f75647069636b6c652e636c6f75647069636b6c655f" +
            "66617374948c125f66756e6374696f6e5f7365747374617465949394681a7d947d9428681768108c0c5f5f7175616c6e616d" +
            "655f5f9468108c0f5f5f616e6e6f746174696f6e735f5f947d948c0e5f5f6b7764656661756c74735f5f944e8c0c5f5f6465" +
            "6661756c74735f5f944e8c0a5f5f6d6f64756c655f5f9468188c075f5f646f635f5f944e8c0b5f5f636c6f737572655f5f94" +
            "4e8c175f636c6f75647069636b6c655f7375626d6f64756c6573945d948c0b5f5f676c6f62616c735f5f947d947586948652" +
            "302e";

    @Test
    void picklesReadWithoutRunning() {
        assertTrue(ClientPickles.isMonitorCountProbe(java.util.HexFormat.of().parseHex(MONITOR_PROBE_2022)));
        assertEquals("distributed.diagnostics.plugin.SchedulerUploadFile",
                ClientPickles.className(Pickles.call("distributed.diagnostics.plugin", "SchedulerUploadFile", "f")));
        // pickle.dumps(argparse.Namespace(a=1), protocol=4): NEWOBJ, then BUILD with its __dict__
        assertEquals("argparse.Namespace", ClientPickles.className(java.util.HexFormat.of().parseHex(
                "80049527000000000000008c086172677061727365948c094e616d6573706163659493942981947d948c0161944b0173622e")));
        assertNull(ClientPickles.className("not a pickle"));
        assertNull(ClientPickles.className(new byte[]{1, 2, 3}));
        assertFalse(ClientPickles.isMonitorCountProbe(Pickles.global("os", "getpid")));
    }
}
