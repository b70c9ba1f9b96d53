package org.cloudviper.worker.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;
import org.cloudviper.worker.tasks.ArrowTable;
import org.junit.jupiter.api.AfterEach;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pyarrow Tables and RecordBatches between the Java worker and real Dask 2022.12.1 peers with pyarrow
 * (the venv of scripts/setup-peers.sh; the 2024.12.1 root has no pyarrow, so those runs are
 * skipped): the Python side compares every table it gets with the one pyarrow makes from the same
 * values, and the Java side ends with no Arrow memory allocated.
 */
@DaskInterop(pyarrow = true)
public class ArrowInteropTest extends JavaWorkerInterop {

    @AfterEach
    public void noArrowMemoryLeft() {
        assertEquals(0, ArrowTable.allocatedBytes(), "Arrow memory still allocated after the test");
    }

    @InteropTest
    public void pythonClientGetsTablesFromJavaTasks(PythonPeers peers) throws Exception {
        String scheduler = startScheduler(peers);
        String java = startJavaWorker(peers, scheduler, 2).address();

        ScriptResult r = peers.runClient("arrow_client.py", scheduler, java);

        assertAll(
                () -> {
                    Map<?, ?> v = r.partMap("range");
                    assertEquals("pyarrow.lib.Table", v.get("type"), v.toString());
                    assertEquals(true, v.get("equal"), v.toString());
                    assertEquals(1000L, v.get("rows"));
                },
                () -> assertEquals(true, r.partMap("range_empty").get("equal"), r.toString()),
                () -> {
                    Map<?, ?> v = r.partMap("scatter_table");
                    assertEquals("pyarrow.lib.Table", v.get("type"), v.toString());
                    assertEquals(true, v.get("equal"), v.toString());
                },
                () -> {
                    Map<?, ?> v = r.partMap("scatter_batch");
                    assertEquals("pyarrow.lib.RecordBatch", v.get("type"), v.toString());
                    assertEquals(true, v.get("equal"), v.toString());
                },
                () -> assertPandasRefused(r.partMap("pandas")),
                // Inside the task's own pickle (not scattered): refused with advice, never run.
                () -> assertPandasRefused(r.partMap("pandas_embedded")),
                () -> {
                    Map<?, ?> e = r.partMap("table_embedded");
                    assertEquals("RuntimeError", e.get("type"), e.toString());
                    assertTrue(((String) e.get("text")).contains("scatter it (client.scatter)"), e.toString());
                });
    }

    @InteropTest
    public void mixedClusterPassesTablesPythonJavaPython(PythonPeers peers) throws Exception {
        String scheduler = startScheduler(peers);
        String python = startPythonWorker(peers, scheduler).workerAddress();
        String java = startJavaWorker(peers, scheduler, 2).address();

        ScriptResult r = peers.runClient("arrow_mixed.py", scheduler);

        assertAll(
                () -> {
                    Map<?, ?> v = r.partMap("py_java_py");
                    assertEquals(true, v.get("consumed_x_exact"), v.toString());
                    assertEquals(true, v.get("consumed_id_exact"), v.toString());
                    assertEquals(true, v.get("consumed_tag_exact"), v.toString());
                    assertEquals("Table", v.get("consumed_type"), v.toString());
                    assertEquals(true, v.get("client_equal"), v.toString());
                    assertEquals("Table", v.get("client_type"), v.toString());
                    // who_has lists replicas too: the consumer's worker fetched the scaled table.
                    assertTrue(((List<?>) v.get("scaled_on")).contains(java), v.toString());
                    assertTrue(((List<?>) v.get("made_on")).contains(python), v.toString());
                    assertTrue(((List<?>) v.get("used_on")).contains(python), v.toString());
                },
                () -> assertPandasRefused(r.partMap("pandas")));
    }

    private static void assertPandasRefused(Map<?, ?> e) {
        assertEquals("RuntimeError", e.get("type"), e.toString());
        String text = (String) e.get("text");
        assertTrue(text.contains("send it as a pyarrow Table"), text);
    }
}
