package org.cloudviper.scheduler.interop;

import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.scheduler.state.ClusterSummary;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The status page as a person sees it: headless chromium loads {@code /status} of a scheduler with two
 * stock workers, 20 results held and 5 slow tasks running or queued, takes a screenshot (kept under
 * the test's interop logs) and the DOM after the page's script has polled; the numbers it shows match
 * the client's {@code scheduler_info()} (workers, threads, memory limits) and the scheduler's own counts
 * (tasks per state and per prefix).
 */
@DaskInterop
class StatusPageInteropTest {

    @InteropTest
    void theStatusPageShowsWhatTheSchedulerKnows(PythonPeers peers) throws Exception {
        assumeTrue(HeadlessChromium.installed(), "chromium is installed by scripts/setup-peers.sh");
        Scheduler s = peers.inProcessScheduler(Scheduler.start(SchedulerConfig.defaults().withHost("127.0.0.1")
                .withPort(0).withDashboard("127.0.0.1:0")));
        peers.startWorkers(s.address(), 2, 1, false);
        Path scratch = peers.scratchDir("status");
        Path go = scratch.resolve("go");
        Peer client = peers.startClient("status_page.py", s.address(), peers.inPython(go));
        client.awaitMarker("holding", PythonPeers.READY_TIMEOUT);

        String url = "http://127.0.0.1:" + s.dashboardPort() + "/status";
        HeadlessChromium chromium = new HeadlessChromium(peers.logDir());
        Path png = peers.logDir().resolve("status-page.png");
        chromium.screenshot(url, 3000, png);
        String dom = chromium.dumpDom(url, 3000);
        ClusterSummary summary = s.summary(true);
        Files.createFile(go);
        ScriptResult r = client.awaitResult(PythonPeers.CLIENT_TIMEOUT);

        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> workers = (Map<String, Map<String, Object>>) ((Map<String, Object>) r.get(
                "info")).get("workers");
        assertEquals("2", text(dom, "b", "id=\"n-workers\""));
        assertEquals(String.valueOf(workers.values().stream().mapToLong(w -> (Long) w.get("nthreads")).sum()),
                text(dom, "b", "id=\"n-threads\""));
        assertEquals(String.valueOf(summary.taskTotal()), text(dom, "b", "id=\"n-tasks\""));
        assertEquals("1", text(dom, "b", "id=\"n-clients\""));
        for (Map.Entry<String, Map<String, Object>> w : workers.entrySet()) {
            String row = row(dom, "data-worker=\"" + w.getKey() + "\"");
            assertEquals(String.valueOf(w.getValue().get("name")), text(row, "td", "class=\"name\""));
            assertEquals(String.valueOf(w.getValue().get("nthreads")), text(row, "td", "class=\"threads\""));
            assertTrue(row.contains("data-value=\"" + w.getValue().get("memory_limit") + "\""),
                    "memory limit " + w.getValue().get("memory_limit") + " in " + row);
            assertEquals("running", text(row, "td", "class=\"status status-running\""));
        }
        assertEquals(20, summary.tasks("memory"));
        summary.taskCounts().forEach((state, n) ->
                assertEquals(String.valueOf(n), text(row(dom, "id=\"state-" + state + "\""), "td", "class=\"count\""),
                        state));
        String inc = row(dom, "data-group=\"inc\"");
        assertEquals("20", text(inc, "td", "class=\"done\""));
        assertEquals("20", text(inc, "td", "class=\"total\""));
        String slow = row(dom, "data-group=\"slow\"");
        assertEquals("0", text(slow, "td", "class=\"done\""));
        assertEquals("5", text(slow, "td", "class=\"total\""));
        assertTrue(Files.size(png) > 10_000, "a screenshot with content: " + png);
    }

    /** The text of the first {@code <tag ...attr...>text</tag>} in {@code html}. */
    private static String text(String html, String tag, String attr) {
        Matcher m = Pattern.compile("<" + tag + "[^>]*" + Pattern.quote(attr) + "[^>]*>([^<]*)</" + tag + ">")
                .matcher(html);
        assertTrue(m.find(), "<" + tag + " " + attr + "> in " + html);
        return m.group(1);
    }

    /** The first table row carrying {@code attr}. */
    private static String row(String html, String attr) {
        Matcher m = Pattern.compile("<tr[^>]*" + Pattern.quote(attr) + "[^>]*>.*?</tr>", Pattern.DOTALL).matcher(html);
        assertTrue(m.find(), "row " + attr + " in " + html);
        return m.group();
    }
}
