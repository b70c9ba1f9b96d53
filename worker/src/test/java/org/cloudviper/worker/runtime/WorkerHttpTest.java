package org.cloudviper.worker.runtime;

import org.cloudviper.worker.Worker;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.testing.StubScheduler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The worker's probe routes: /health while it runs, /metrics in Prometheus text with Dask's names. */
@Timeout(30)
class WorkerHttpTest {

    @Test
    void healthAndMetrics() throws Exception {
        try (StubScheduler scheduler = StubScheduler.start();
             Worker worker = Worker.start(WorkerConfig.defaults(scheduler.address()).withNthreads(3)
                     .withMemoryLimit(1L << 30).withHttpPort(0))) {
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + worker.httpPort();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertEquals("ok", health.body());
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
            String text = metrics.body();
            assertTrue(text.contains("# TYPE dask_worker_threads gauge\n"), text);
            assertTrue(text.contains("dask_worker_threads 3.0\n"), text);
            assertTrue(text.contains("dask_worker_memory_bytes{type=\"managed\"} 0.0\n"), text);
            assertTrue(text.contains("dask_worker_memory_bytes{type=\"spilled\"} 0.0\n"), text);
            assertTrue(text.contains("# TYPE dask_worker_transfer_incoming_count gauge\n"), text);
            assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(base + "/nothing")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(Map.of("dashboard", (long) worker.httpPort()), scheduler.services(),
                    "registered with its HTTP port, as a Dask worker registers its dashboard");
        }
    }

    @Test
    void noHttpSideUnlessAsked() throws Exception {
        try (StubScheduler scheduler = StubScheduler.start();
             Worker worker = Worker.start(WorkerConfig.defaults(scheduler.address()).withNthreads(1))) {
            assertEquals(-1, worker.httpPort());
            assertEquals(Map.of(), scheduler.services());
        }
    }
}
