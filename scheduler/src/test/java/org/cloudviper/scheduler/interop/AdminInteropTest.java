package org.cloudviper.scheduler.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API (client.run, versions, plugins, upload_file, task stream, logs, profile, events,
 * performance report, replicate, rebalance, restart through nannies) and tasks that use the cluster
 * (get_client, worker_client, secede/rejoin, fire_and_forget, as_completed), each result against
 * what is known to be true.
 */
@DaskInterop
class AdminInteropTest {

    @InteropTest
    void adminApi(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 2, 2, true);

        ScriptResult r = peers.runClient("admin_api.py", scheduler.address(),
                peers.inPython(peers.scratchDir("scratch")));

        assertAll(
                () -> {
                    Map<String, Object> run = r.partMap("run");
                    assertEquals(run.get("known"), run.get("workers"), "client.run answers from every worker");
                    assertEquals(2, ((List<?>) run.get("workers")).size());
                    assertEquals(true, run.get("addresses_match"), "each answer comes from the worker it is keyed by");
                },
                () -> {
                    Map<String, Object> v = r.partMap("versions");
                    assertEquals(2, ((List<?>) v.get("workers")).size(), "get_versions(check=True) lists the workers");
                    assertEquals(List.of(v.get("client_distributed")), v.get("worker_distributed"));
                    assertEquals(true, v.get("scheduler_has_host"));
                },
                () -> {
                    Map<String, Object> in = r.partMap("inside");
                    assertEquals(List.of(42L, 210L, 21L), in.get("values"),
                            "get_client, worker_client and secede/rejoin inside tasks");
                    assertEquals(true, in.get("fire_and_forget"), "a fire_and_forget task ran");
                    assertEquals(2_001_000L, in.get("as_completed"), "as_completed over 2000 futures");
                },
                () -> {
                    Map<String, Object> ts = r.partMap("task_stream");
                    assertEquals(50L, ts.get("count"), "the task stream of the block holds its 50 tasks");
                    assertEquals(true, ts.get("workers_known"));
                    assertEquals(true, ts.get("compute"));
                    assertEquals(List.of("inc"), ts.get("prefixes"));
                    assertEquals(5L, ts.get("last_5"), "get_task_stream(count=5)");
                },
                () -> {
                    Map<String, Object> p = r.partMap("plugins");
                    assertEquals(List.of("on-every-worker", "on-every-worker"), p.get("tags"),
                            "a worker plugin's setup ran on every worker");
                    assertEquals(1234L, p.get("uploaded"), "a task imports the module upload_file sent");
                },
                () -> {
                    Map<String, Object> d = r.partMap("diagnostics");
                    assertTrue(((Number) d.get("scheduler_logs")).longValue() > 0, "scheduler logs: " + d);
                    assertEquals(2, ((List<?>) d.get("worker_logs")).size(), "logs of both workers");
                    assertEquals(List.of("children", "count", "description", "identifier"), d.get("profile_keys"));
                    assertEquals(2, ((List<?>) d.get("profile_workers")).size(), "one profile per worker");
                    assertEquals(List.of(Map.of("n", 1L)), d.get("events"), "log_event / get_events");
                    assertEquals(List.of(Map.of("x", 1L)), d.get("worker_event"),
                            "a worker's log_event reaches the client subscribed to its topic");
                    assertEquals(true, d.get("worker_event_tagged"), "tagged with the worker");
                    assertEquals(true, d.get("report_has_stream"), "performance report with its task stream");
                    assertEquals(true, d.get("report_has_inc"), "the report names the function");
                    assertEquals(true, d.get("report_self_contained"));
                    assertEquals(List.of(List.of("sleeper-1")), d.get("call_stack"),
                            "call_stack: the one worker running the sleeping task");
                    assertTrue(((Number) d.get("adaptive_target")).longValue() >= 0, "adaptive_target: " + d);
                },
                () -> {
                    Map<String, Object> p = r.partMap("placement");
                    assertEquals(List.of(2L), p.get("replicated"), "replicate(n=2): two copies of each key");
                    assertEquals(true, p.get("values_ok"), "values intact after replicate and rebalance");
                },
                () -> {
                    if (scheduler.isCloudviper()) {
                        Map<String, Object> e = r.partMap("run_on_scheduler");
                        assertEquals("NotImplementedError", e.get("type"));
                        assertTrue(String.valueOf(e.get("text")).contains("run_on_scheduler"), String.valueOf(e));
                    }
                },
                () -> {
                    Map<String, Object> rs = r.partMap("restart");
                    assertEquals("cancelled", rs.get("old_status"), "futures from before the restart are cancelled");
                    assertEquals(true, rs.get("new_processes"), "the nannies started new worker processes");
                    assertEquals(2L, rs.get("workers"));
                    assertEquals(List.of("after-restart", "after-restart"), rs.get("plugin_kept"),
                            "the new workers got the registered plugin");
                    assertEquals(2L, rs.get("works_after"));
                });
    }
}
