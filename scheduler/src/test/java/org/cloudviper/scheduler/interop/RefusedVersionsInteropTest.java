package org.cloudviper.scheduler.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Stock clients and workers announcing a release outside every line (an old one, one between the
 * lines, a future one) are refused at connect with the scheduler's message, as their own code
 * reports it: the client raises it as ImportError, the worker logs it and does not start. The
 * client and worker of the real release already connected go on computing, and a worker still
 * joins after the refusals. Dask's own scheduler refuses nobody, so this runs against cloudviper
 * only.
 */
@DaskInterop
class RefusedVersionsInteropTest {
    private static final List<String> REFUSED = List.of("2021.1.1", "2023.1.0", "2027.1.0");

    @InteropTest(withDask2024_1 = true)
    void peersOfUnsupportedReleasesAreRefusedAndTheClusterGoesOn(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        assumeTrue(scheduler.isCloudviper(), "Dask's scheduler accepts every version");
        scheduler.startWorkers(peers, 1, 1, false);

        ScriptResult r = peers.runClient("refused_versions.py", scheduler.address(), REFUSED.toArray(new String[0]));

        List<Executable> checks = new ArrayList<>();
        checks.add(() -> assertEquals(2L, r.partLong("before")));
        for (String v : REFUSED) {
            checks.add(() -> {
                Map<String, Object> c = r.partMap("client " + v);
                assertEquals("ImportError", c.get("type"), "client " + v + ": " + c);
                String text = (String) c.get("text");
                assertTrue(text.contains(" runs distributed " + v + ", which cloudviper does not speak: it speaks"
                        + " distributed 2022.11.0 to 2022.12.1, 2023.10.0 to 2024.7.0, 2024.12.0 to 2024.12.1"), text);
            });
            checks.add(() -> {
                Map<String, Object> w = r.partMap("worker " + v);
                assertTrue(w.get("type") != null, "worker " + v + " started: " + w);
                assertTrue(String.valueOf(w.get("text")).contains("runs distributed " + v
                        + ", which cloudviper does not speak"), "worker " + v + ": " + w);
                List<?> logged = (List<?>) w.get("logged");
                assertEquals(1, logged.size(), "worker " + v + " logs the refusal once: " + logged);
                assertTrue(String.valueOf(logged.get(0)).contains("runs distributed " + v), logged.toString());
            });
        }
        checks.add(() -> assertEquals(55L, r.partLong("after"), "the client of the real release computes on"));
        assertAll(checks);

        assertEquals(1, scheduler.workerCount().orElseThrow(), "only the real worker is registered");
        scheduler.startWorkers(peers, 1, 1, false);
        assertEquals(2, scheduler.workerCount().orElseThrow(), "a worker of the real release joins after");
    }
}
