package org.cloudviper.worker.interop;

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
 * The Java worker in real clusters: it joins a stock {@code dask scheduler} 2022.12.1 or 2024.12.1
 * like a {@code dask worker} (and cloudviper's, in the embedded module), runs
 * {@code cloudviper.tasks} submitted by a stock Client, serves results as numpy arrays and Python
 * scalars, reports Java exceptions, fetches dependencies from other Java workers, and trades arrays
 * with a Python worker in both directions. With 2024.12.1 peers run_spec is a pickled
 * {@code dask._task_spec.Task}, and compute-task and task-finished/-erred carry {@code run_id}.
 */
@DaskInterop
public class JavaWorkerInteropTest extends JavaWorkerInterop {

    @InteropTest(withDask2024_1 = true)
    public void schedulerRunsJavaTasks(PythonPeers peers) throws Exception {
        String scheduler = startScheduler(peers);
        String a = startJavaWorker(peers, scheduler, 2).address();
        String b = startJavaWorker(peers, scheduler, 1).address();

        ScriptResult r = peers.runClient("java_tasks.py", scheduler, a, b);

        assertJavaTasks(r, a, b);
    }

    @InteropTest(withDask2024_1 = true)
    public void mixedClusterTradesArraysWithAPythonWorker(PythonPeers peers) throws Exception {
        String scheduler = startScheduler(peers);
        String python = startPythonWorker(peers, scheduler).workerAddress();
        String java = startJavaWorker(peers, scheduler, 2).address();

        ScriptResult r = peers.runClient("mixed_cluster.py", scheduler);

        assertAll(
                () -> {
                    Map<?, ?> v = r.partMap("py_to_java");
                    assertEquals(90.0, v.get("sum"));
                    // The array was made on the Python worker, the sum ran on the Java worker.
                    assertEquals(List.of(java), v.get("sum_on"), v.toString());
                    assertTrue(((List<?>) v.get("make_on")).contains(python), v.toString());
                },
                () -> assertEquals(20.0, r.part("py_to_java_i8")),
                () -> assertEquals(List.of(0.0, 1.0, 2.0, 3.0), r.part("py_to_java_f4_scale")),
                () -> assertEquals(List.of(List.of(0.0, 2.0, 4.0), List.of(1.0, 3.0, 5.0)),
                        r.part("py_to_java_transposed")),
                () -> assertEquals(Map.of("sum", 10.0, "type", "ndarray", "dtype", "float64", "shape", List.of(5L)),
                        r.part("java_to_py")));
    }

    private static void assertJavaTasks(ScriptResult r, String workerA, String workerB) {
        assertAll(
                () -> {
                    Map<?, ?> a = r.partMap("arange");
                    assertEquals("numpy.ndarray", a.get("type"));
                    assertEquals("float64", a.get("dtype"));
                    assertEquals(true, a.get("equal"), a.toString());
                    assertEquals(true, a.get("writeable"));
                },
                () -> assertEquals(Map.of("value", 45.0, "type", "float"), r.part("sum")),
                () -> assertEquals(List.of(0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0, 17.5, 20.0, 22.5), r.part("scale")),
                () -> assertEquals("{'k': (1, 2.5, 'x', None, True, b'b')}", r.part("echo")),
                () -> {
                    Map<?, ?> e = r.partMap("error");
                    assertEquals("RuntimeError", e.get("type"), e.toString());
                    String text = (String) e.get("text");
                    assertTrue(text.contains("java.lang.IllegalArgumentException"), text);
                    assertTrue(text.contains("arange_f64: n must be in 0 .."), text);
                    assertTrue(text.contains("\tat org.cloudviper.worker.tasks."), "Java stack trace in the text: " + text);
                },
                () -> {
                    Map<?, ?> e = r.partMap("unregistered");
                    String text = (String) e.get("text");
                    assertTrue(text.contains("cloudviper Java worker cannot run a Python function pickled by value"),
                            text);
                },
                () -> assertEquals(Map.of("sum", 15.0, "back", List.of(List.of(0L, 1L, 2L), List.of(3L, 4L, 5L)),
                        "dtype", "int32"), r.part("scatter")),
                () -> assertEquals(4_999_950_000.0, r.part("kwargs")),
                () -> assertEquals(List.of(-0.0, -1.0, -2.0), r.part("scale_kwargs")),
                () -> {
                    // B fetched x from A (get_data between Java workers), A fetched y back from B.
                    Map<?, ?> v = r.partMap("java_to_java");
                    assertEquals(63.0, v.get("sum"));
                    assertTrue(((List<?>) v.get("x_on")).contains(workerA), v.toString());
                    assertTrue(((List<?>) v.get("y_on")).contains(workerB), v.toString());
                });
    }
}
