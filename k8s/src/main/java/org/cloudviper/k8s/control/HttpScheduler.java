package org.cloudviper.k8s.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.cloudviper.k8s.policy.WorkerView;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A scheduler reached over its HTTP side, as the dask-kubernetes operator reaches one:
 * {@code GET /api/v1/get_workers}, {@code GET /api/v1/adaptive_target}, {@code POST
 * /api/v1/retire_workers} with {@code {"workers": [...]}} or {@code {"n": N}}. Works with cloudviper's
 * scheduler and with Dask's own (whose routes must include {@code distributed.http.scheduler.api}).
 * The routes tell no worker's idleness: every worker counts as busy here, and scaling down goes by
 * {@code n}, for which the scheduler picks idle workers first.
 */
public final class HttpScheduler implements SchedulerControl {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    /** {@code base}: the scheduler's dashboard, such as {@code http://scheduler:8787}. */
    public HttpScheduler(URI base) {
        this.base = base;
    }

    @Override
    public List<WorkerView> workers() throws IOException {
        List<WorkerView> r = new ArrayList<>();
        for (JsonNode w : get("/api/v1/get_workers").path("workers")) {
            r.add(new WorkerView(w.path("name").asText(), w.path("address").asText(), false));
        }
        return r;
    }

    @Override
    public int adaptiveTarget() throws IOException {
        return get("/api/v1/adaptive_target").path("workers").asInt();
    }

    @Override
    public CompletableFuture<Map<String, String>> retire(List<String> addresses) {
        return post(Map.of("workers", addresses));
    }

    @Override
    public CompletableFuture<Map<String, String>> retireIdle(int n) {
        return post(Map.of("n", n));
    }

    private JsonNode get(String path) throws IOException {
        HttpRequest rq = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT).GET().build();
        try {
            return parse(path, http.send(rq, HttpResponse.BodyHandlers.ofByteArray()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: GET " + path, e);
        }
    }

    /** Retirement waits for data to move: no timeout on the answer. */
    private CompletableFuture<Map<String, String>> post(Map<String, Object> body) {
        String path = "/api/v1/retire_workers";
        HttpRequest rq;
        try {
            rq = HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body))).build();
        } catch (IOException e) {
            return CompletableFuture.failedFuture(e);
        }
        return http.sendAsync(rq, HttpResponse.BodyHandlers.ofByteArray()).thenApply(resp -> {
            try {
                Map<String, String> r = new LinkedHashMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = parse(path, resp).fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    r.put(e.getKey(), e.getValue().path("name").asText(e.getKey()));
                }
                return r;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private static JsonNode parse(String path, HttpResponse<byte[]> resp) throws IOException {
        if (resp.statusCode() != 200) {
            throw new IOException(path + ": HTTP " + resp.statusCode());
        }
        return JSON.readTree(resp.body());
    }
}
