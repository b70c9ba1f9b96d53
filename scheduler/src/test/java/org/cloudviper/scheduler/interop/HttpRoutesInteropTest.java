package org.cloudviper.scheduler.interop;

import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.testkit.DaskGeneration;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.PythonScheduler;
import org.cloudviper.testkit.ScriptResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The HTTP side against Dask's own scheduler of the same generation: one script reads /health,
 * /api/v1 (get_workers, adaptive_target, check_idle, retire_workers) and /metrics of each, each with
 * two stock workers and ten results held; the shapes, metric names, types, labels and the values both
 * know the same way must agree. Dask serves /api/v1 only when its routes are configured so, as the
 * dask-kubernetes operator configures them.
 */
@DaskInterop
class HttpRoutesInteropTest {
    /** The routes the operator's scheduler pods serve (distributed.scheduler.http.routes). */
    private static final Map<String, String> DASK_ROUTES = Map.of("DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES",
            "[\"distributed.http.scheduler.prometheus\", \"distributed.http.scheduler.info\","
                    + " \"distributed.http.scheduler.json\", \"distributed.http.health\","
                    + " \"distributed.http.scheduler.api\"]");

    /** The metric families cloudviper must serve, as Dask names them. */
    private static final List<String> CORE_METRICS = List.of("dask_scheduler_clients",
            "dask_scheduler_desired_workers", "dask_scheduler_workers", "dask_scheduler_tasks",
            "dask_scheduler_tasks_forgotten", "dask_scheduler_tick_duration_maximum_seconds",
            "dask_scheduler_tick_count");

    /**
     * Families cloudviper serves that distributed 2024.8.0's collector added (#8799 and the changes
     * beside it in distributed/http/scheduler/prometheus/core.py): 2022.12.1 and 2024.1.1 lack them.
     */
    private static final List<String> SINCE_2024_8 = List.of("dask_scheduler_client_connections_added",
            "dask_scheduler_client_connections_removed", "dask_scheduler_workers_added",
            "dask_scheduler_workers_removed", "dask_scheduler_gc_collection_seconds");
    /** Families cloudviper serves that distributed 2023.4.1 added (2022.12.1 lacks them). */
    private static final List<String> SINCE_2023 = List.of("dask_scheduler_last_time");

    @InteropTest
    void sameShapesAndNamesAsDasksOwnScheduler(PythonPeers peers) throws Exception {
        Scheduler ours = peers.inProcessScheduler(Scheduler.start(SchedulerConfig.defaults().withHost("127.0.0.1")
                .withPort(0).withDashboard("127.0.0.1:0")));
        peers.startWorkers(ours.address(), 2, 1, false);
        ScriptResult cv = peers.runClient("http_routes.py", ours.address());

        PythonScheduler dask = peers.startScheduler(DASK_ROUTES);
        peers.startWorkers(dask.address(), 2, 1, false);
        ScriptResult py = peers.runClient("http_routes.py", dask.address());

        assertEquals("http://127.0.0.1:" + ours.dashboardPort() + "/status", cv.get("dashboard_link"),
                "client.dashboard_link, from identity()'s services");
        assertEquals((long) ours.dashboardPort(), cv.get("port"));
        assertAll(
                () -> assertEquals(List.of(200L, "ok"), statusAndBody(cv.get("health"))),
                () -> assertEquals(statusAndBody(py.get("health")), statusAndBody(cv.get("health"))),
                () -> assertEquals(statusAndBody(py.get("api")), statusAndBody(cv.get("api"))),
                () -> assertEquals(py.get("get_workers").toString().replaceAll("tcp://[0-9.:]+|worker-\\d+", "W"),
                        cv.get("get_workers").toString().replaceAll("tcp://[0-9.:]+|worker-\\d+", "W"),
                        "get_workers: the same shape, two workers with name and address"),
                () -> assertEquals(py.get("adaptive_target"), cv.get("adaptive_target")),
                () -> assertEquals(200L, cv.get("retire_status")),
                () -> assertEquals(1, ((List<?>) cv.get("retired")).size()),
                () -> assertEquals(py.get("retire_none"), cv.get("retire_none")),
                () -> assertEquals(1, ((List<?>) cv.get("workers_after")).size()),
                () -> assertEquals(LongStream.rangeClosed(1, 10).boxed().toList(), cv.get("results_after"),
                        "the retired worker's results moved to the other one"),
                () -> assertEquals(404L, cv.get("missing")));
        if (py.get("retire_status").equals(200L)) {
            assertEquals(py.get("retired_fields"), cv.get("retired_fields"),
                    "retire_workers answers {address: the worker's identity}");
        } else {
            // Dask 2024 (2024.1.1 and 2024.12.1) retires the worker, then may fail to write its identity as
            // JSON (when the heartbeat metrics it holds have tuple keys) and answers 500; cloudviper answers
            // as 2022 did.
            assertNotEquals(DaskGeneration.DASK_2022, peers.dask(), "2022.12.1 never answers 500");
            assertEquals(500L, py.get("retire_status"));
            assertEquals(1, ((List<?>) py.get("workers_after")).size(), "Dask retired it all the same");
        }
        if (peers.dask() != DaskGeneration.DASK_2022) {
            assertEquals(200L, py.get("check_idle_status"));
            assertEquals(200L, cv.get("check_idle_status"));
            assertNotNull(((Map<?, ?>) py.get("check_idle")).get("idle_since"), "Dask: idle after 1 s quiet");
            assertNotNull(((Map<?, ?>) cv.get("check_idle")).get("idle_since"), "cloudviper: idle after 1 s quiet");
        } else {
            assertEquals(404L, py.get("check_idle_status"), "2022.12.1 has no check_idle route");
        }

        Map<String, Map<String, Object>> cvm = families(cv.get("metrics"));
        Map<String, Map<String, Object>> pym = families(py.get("metrics"));
        List<String> problems = new ArrayList<>();
        for (String name : CORE_METRICS) {
            if (!cvm.containsKey(name)) {
                problems.add("cloudviper lacks " + name);
            }
            if (!pym.containsKey(name)) {
                problems.add("Dask lacks " + name);
            }
        }
        for (Map.Entry<String, Map<String, Object>> e : cvm.entrySet()) {
            if (!e.getKey().startsWith("dask_")) {
                continue;
            }
            Map<String, Object> theirs = pym.get(e.getKey());
            if (theirs == null) {
                problems.add("Dask has no " + e.getKey());
            } else if (!theirs.get("type").equals(e.getValue().get("type"))
                    || !theirs.get("labels").equals(e.getValue().get("labels"))) {
                problems.add(e.getKey() + ": " + e.getValue().get("type") + " " + e.getValue().get("labels")
                        + " (Dask: " + theirs.get("type") + " " + theirs.get("labels") + ")");
            }
        }
        if (peers.dask() == DaskGeneration.DASK_2022) {
            // 2022.12.1 labelled workers connected/saturated/idle; cloudviper serves 2024.12.1's states
            problems.removeIf(p -> p.startsWith("dask_scheduler_workers:"));
            problems.removeIf(p -> SINCE_2023.stream().anyMatch(f -> p.equals("Dask has no " + f)));
        }
        if (peers.dask() != DaskGeneration.DASK_2024) {
            problems.removeIf(p -> SINCE_2024_8.stream().anyMatch(f -> p.equals("Dask has no " + f)));
        }
        assertEquals(List.of(), problems);
        for (String sample : List.of("dask_scheduler_clients{}", "dask_scheduler_tasks{state=memory}",
                "dask_scheduler_tasks{state=processing}", "dask_scheduler_tasks{state=queued}",
                "dask_scheduler_desired_workers{}")) {
            assertEquals(samples(pym).get(sample), samples(cvm).get(sample), sample);
        }
        assertEquals(2.0, ((Map<?, ?>) cvm.get("dask_scheduler_workers").get("samples")).values().stream()
                .mapToDouble(v -> ((Number) v).doubleValue()).sum(), "two workers, each in one state");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> families(Object metrics) {
        return (Map<String, Map<String, Object>>) metrics;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> samples(Map<String, Map<String, Object>> families) {
        Map<String, Object> r = new java.util.HashMap<>();
        families.values().forEach(f -> r.putAll((Map<String, Object>) f.get("samples")));
        return r;
    }

    private static List<Object> statusAndBody(Object httpResult) {
        List<?> r = (List<?>) httpResult;
        return List.of(r.get(0), r.get(2));
    }
}
