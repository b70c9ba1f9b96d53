package org.cloudviper.scheduler.interop;

import java.util.Map;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test 4: task errors reach the client intact, and {@code retries=} reruns a failing task. */
@DaskInterop
class ErrorsInteropTest {

    @InteropTest(withDask2024_1 = true)
    void exceptionTracebackAndRetries(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 1, 1, false);

        ScriptResult r = peers.runClient("errors_retries.py", scheduler.address(),
                peers.inPython(peers.scratchDir("counter")));

        assertAll(
                () -> {
                    Map<String, Object> e = r.partMap("error");
                    assertEquals("ZeroDivisionError", e.get("raised"), "type raised by result()");
                    assertEquals("ZeroDivisionError", e.get("exception_type"), "type of future.exception()");
                    assertEquals("error", e.get("status"), "future.status");
                    String tb = (String) e.get("traceback");
                    assertTrue(tb.contains("in divide_by_zero") && tb.contains("return x / 0"),
                            "the traceback should show the failing line of divide_by_zero:\n" + tb);
                },
                () -> {
                    Map<String, Object> retried = r.partMap("retries");
                    assertEquals(3L, retried.get("attempts"), "attempt that succeeded");
                    assertEquals(3L, retried.get("counted"), "attempts counted in the file");
                });
    }
}
