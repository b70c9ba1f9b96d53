package org.cloudviper.worker.interop;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Java worker in real clusters: it joins a stock {@code dask scheduler} 2022.12.1 or 2024.12.1 (and the
 * cloudviper scheduler) like a {@code dask worker}, runs {@code cloudviper.tasks} submitted by a stock
 * Client, serves results as numpy arrays and Python scalars, reports Java exceptions, fetches
 * dependencies from other Java workers, and trades arrays with a Python worker in both directions.
 */
@JavaWorkerInterop
class JavaWorkerInteropTest {

    @Test
    void pythonSchedulerRunsJavaTasks(DaskPeers peers) throws Exception {
        String scheduler = peers.startPythonScheduler();
        String a = peers.startJavaWorker(scheduler, 2).address();
        String b = peers.startJavaWorker(scheduler, 1).address();

        Map<String, Object> r = peers.runScript("java_tasks.py", scheduler, a, b);

        assertJavaTasks(r, a, b);
    }

    /**
     * The same against a stock Dask 2024.12.1 scheduler and client (trixie chroot): run_spec is a
     * pickled {@code dask._task_spec.Task}, compute-task and task-finished/-erred carry {@code run_id}.
     */
    @Test
    void pythonScheduler2024RunsJavaTasks(DaskPeers peers) throws Exception {
        peers.useDask2024();
        String scheduler = peers.startPythonScheduler();
        String a = peers.startJavaWorker(scheduler, 2).address();
        String b = peers.startJavaWorker(scheduler, 1).address();

        Map<String, Object> r = peers.runScript("java_tasks.py", scheduler, a, b);

        assertJavaTasks(r, a, b);
    }

    @Test
    void cloudviperSchedulerRunsJavaTasks(DaskPeers peers) throws Exception {
        String scheduler = peers.startCloudviperScheduler();
        String a = peers.startJavaWorker(scheduler, 2).address();
        String b = peers.startJavaWorker(scheduler, 1).address();

        Map<String, Object> r = peers.runScript("java_tasks.py", scheduler, a, b);

        assertJavaTasks(r, a, b);
    }

    @Test
    void mixedClusterTradesArraysWithAPythonWorker(DaskPeers peers) throws Exception {
        mixedCluster(peers);
    }

    /** The same with a stock 2024.12.1 scheduler, Python worker and client. */
    @Test
    void mixedCluster2024TradesArraysWithAPythonWorker(DaskPeers peers) throws Exception {
        peers.useDask2024();
        mixedCluster(peers);
    }

    private static void mixedCluster(DaskPeers peers) throws Exception {
        String scheduler = peers.startPythonScheduler();
        String python = peers.startPythonWorker(scheduler, "python=1").address();
        String java = peers.startJavaWorker(scheduler, 2).address();

        Map<String, Object> r = peers.runScript("mixed_cluster.py", scheduler);

        assertAll(
                () -> {
                    Map<?, ?> v = (Map<?, ?>) part(r, "py_to_java");
                    assertEquals(90.0, v.get("sum"));
                    // The array was made on the Python worker, the sum ran on the Java worker.
                    assertEquals(List.of(java), v.get("sum_on"), v.toString());
                    assertTrue(((List<?>) v.get("make_on")).contains(python), v.toString());
                },
                () -> assertEquals(20.0, part(r, "py_to_java_i8")),
                () -> assertEquals(List.of(0.0, 1.0, 2.0, 3.0), part(r, "py_to_java_f4_scale")),
                () -> assertEquals(List.of(List.of(0.0, 2.0, 4.0), List.of(1.0, 3.0, 5.0)),
                        part(r, "py_to_java_transposed")),
                () -> assertEquals(Map.of("sum", 10.0, "type", "ndarray", "dtype", "float64", "shape", List.of(5L)),
                        part(r, "java_to_py")));
    }

    private static void assertJavaTasks(Map<String, Object> r, String workerA, String workerB) {
        assertAll(
                () -> {
                    Map<?, ?> a = (Map<?, ?>) part(r, "arange");
                    assertEquals("numpy.ndarray", a.get("type"));
                    assertEquals("float64", a.get("dtype"));
                    assertEquals(true, a.get("equal"), a.toString());
                    assertEquals(true, a.get("writeable"));
                },
                () -> assertEquals(Map.of("value", 45.0, "type", "float"), part(r, "sum")),
                () -> assertEquals(List.of(0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0, 17.5, 20.0, 22.5), part(r, "scale")),
                () -> assertEquals("{'k': (1, 2.5, 'x', None, True, b'b')}", part(r, "echo")),
                () -> {
                    Map<?, ?> e = (Map<?, ?>) part(r, "error");
                    assertEquals("RuntimeError", e.get("type"), e.toString());
                    String text = (String) e.get("text");
                    assertTrue(text.contains("java.lang.IllegalArgumentException"), text);
                    assertTrue(text.contains("arange_f64: n must be in 0 .."), text);
                    assertTrue(text.contains("\tat org.cloudviper.worker.tasks."), "Java stack trace in the text: " + text);
                },
                () -> {
                    Map<?, ?> e = (Map<?, ?>) part(r, "unregistered");
                    String text = (String) e.get("text");
                    assertTrue(text.contains("cloudviper Java worker cannot run a Python function pickled by value"),
                            text);
                },
                () -> assertEquals(Map.of("sum", 15.0, "back", List.of(List.of(0L, 1L, 2L), List.of(3L, 4L, 5L)),
                        "dtype", "int32"), part(r, "scatter")),
                () -> assertEquals(4_999_950_000.0, part(r, "kwargs")),
                () -> assertEquals(List.of(-0.0, -1.0, -2.0), part(r, "scale_kwargs")),
                () -> {
                    // B fetched x from A (get_data between Java workers), A fetched y back from B.
                    Map<?, ?> v = (Map<?, ?>) part(r, "java_to_java");
                    assertEquals(63.0, v.get("sum"));
                    assertTrue(((List<?>) v.get("x_on")).contains(workerA), v.toString());
                    assertTrue(((List<?>) v.get("y_on")).contains(workerB), v.toString());
                });
    }

    /** The value of a script part that must have succeeded. */
    static Object part(Map<String, Object> r, String name) {
        Object p = r.get(name);
        if (!(p instanceof Map<?, ?> m)) {
            return fail("no part " + name + " in " + r);
        }
        if (!Boolean.TRUE.equals(m.get("ok"))) {
            return fail("part " + name + " failed in Python:\n" + m.get("error"));
        }
        return m.get("value");
    }
}
