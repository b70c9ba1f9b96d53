package org.cloudviper.scheduler.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every operation name of the generation's distributed/scheduler.py (request handlers, and the
 * client and worker stream handlers) sent to the scheduler: each request is answered, a value or an
 * error, within 10 s on a connection that stays usable, and both streams still work after every
 * stream op. Against cloudviper no name is unknown: an error says what is not supported and why.
 */
@DaskInterop
class EveryHandlerInteropTest {

    @InteropTest
    void everyHandlerAnswers(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);

        ScriptResult r = peers.runClient("every_handler.py", scheduler.address());

        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> answers = (Map<String, Map<String, Object>>) r.get("requests");
        Map<String, String> errors = new TreeMap<>();
        List<String> broken = new ArrayList<>();
        answers.forEach((op, a) -> {
            if (!"value".equals(a.get("kind")) && !"error".equals(a.get("kind")) || !Boolean.TRUE.equals(a.get("alive"))) {
                broken.add(op + ": " + a);
            }
            if ("error".equals(a.get("kind"))) {
                errors.put(op, String.valueOf(a.get("text")));
            }
        });
        System.out.println("[interop] " + r.get("version") + ": " + answers.size() + " requests, errors:");
        errors.forEach((op, text) -> System.out.println("  " + op + ": " + text));
        Map<?, ?> client = (Map<?, ?>) r.get("client_stream");
        Map<?, ?> worker = (Map<?, ?>) r.get("worker_stream");
        assertAll(
                () -> assertTrue(answers.size() >= 50, "request handlers found: " + answers.keySet()),
                () -> assertEquals(List.of(), broken, "requests that hung or dropped the connection"),
                () -> {
                    if (scheduler.isCloudviper()) {
                        // every name Dask's scheduler serves is served or refused with its reason,
                        // and no handler fails inside
                        errors.forEach((op, text) -> assertTrue(!text.isBlank() && !text.contains("unknown operation")
                                && !text.contains("failed on cloudviper") && !text.contains("NoneType"),
                                op + " answered an error that does not say why: " + text));
                    }
                },
                () -> assertEquals(true, client.get("alive"), "client stream after " + client.get("sent")),
                () -> assertTrue(((List<?>) client.get("sent")).size() >= 9, String.valueOf(client.get("sent"))),
                () -> assertEquals("OK", worker.get("registered")),
                () -> assertEquals(true, worker.get("alive"), "worker stream after " + worker.get("sent")),
                () -> assertTrue(((List<?>) worker.get("sent")).size() >= 10, String.valueOf(worker.get("sent"))));
    }
}
