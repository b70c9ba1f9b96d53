package org.cloudviper.scheduler.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.ScheduledFuture;
import org.cloudviper.protocol.netty.HttpEndpoint;
import org.cloudviper.scheduler.state.Adaptive;
import org.cloudviper.scheduler.state.ClusterSummary;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The scheduler's HTTP side on the dashboard port (Dask's default 8787): {@code /health},
 * {@code /metrics} (Prometheus, {@link ClusterMetrics}), the {@code /api/v1} routes the
 * dask-kubernetes operator calls (distributed/http/scheduler/api.py, same JSON shapes), Dask's
 * {@code /json/counts.json} and {@code /json/identity.json}, and a status page ({@code /status},
 * polling {@code /status.json}). Runs on the scheduler's event loop: every route reads the state on
 * the thread that owns it, through {@link SchedulerView}.
 */
public final class DashboardService {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String JSON_TYPE = "application/json";
    /** Dask checks for idleness every 250 ms (Scheduler.__init__, PeriodicCallback(self.check_idle, 250)). */
    private static final long IDLE_CHECK_MS = 250;

    private final SchedulerView view;
    private final HttpEndpoint endpoint;
    private final IdleWatch idle = new IdleWatch();
    private final ScheduledFuture<?> idleTimer;

    private DashboardService(SchedulerView view, EventLoopGroup group, String host, int port)
            throws InterruptedException {
        this.view = view;
        Map<String, HttpEndpoint.Route> routes = new LinkedHashMap<>();
        routes.put("/health", (rq, r) -> r.text(200, "ok"));
        routes.put("/metrics", (rq, r) -> r.send(200, ClusterMetrics.CONTENT_TYPE,
                ClusterMetrics.text(ClusterMetrics.snapshots(view.summary(false), view.activity(),
                        System.currentTimeMillis() / 1e3))));
        routes.put("/api/v1", (rq, r) -> r.text(200, "API V1"));
        routes.put("/api/v1/get_workers", (rq, r) -> json(r, getWorkers(view.summary(false))));
        routes.put("/api/v1/adaptive_target", (rq, r) -> json(r, Map.of("workers",
                Adaptive.target(view.summary(false), Adaptive.DEFAULT_TARGET_SECONDS))));
        routes.put("/api/v1/check_idle", (rq, r) -> json(r, mapOf("idle_since", idle.idleSince())));
        routes.put("/api/v1/retire_workers", this::retireWorkers);
        routes.put("/json/counts.json", (rq, r) -> json(r, counts(view.summary(false))));
        routes.put("/json/identity.json", (rq, r) -> json(r, view.identity()));
        byte[] page = resource("status.html");
        routes.put("/status", (rq, r) -> r.send(200, "text/html; charset=utf-8", page));
        routes.put("/", (rq, r) -> r.send(200, "text/html; charset=utf-8", page));
        routes.put("/status.json", (rq, r) -> json(r, StatusJson.of(view.summary(true))));
        this.endpoint = HttpEndpoint.bind(group, host, port, routes);
        this.idleTimer = group.next().scheduleAtFixedRate(
                () -> idle.check(view.transitions(), () -> view.summary(false), System.currentTimeMillis() / 1000.0),
                0, IDLE_CHECK_MS, TimeUnit.MILLISECONDS);
    }

    /** Binds {@code host:port} (0: a free port) on {@code group}, the scheduler's event loop. */
    public static DashboardService start(SchedulerView view, EventLoopGroup group, String host, int port)
            throws InterruptedException {
        return new DashboardService(view, group, host, port);
    }

    public int port() {
        return endpoint.port();
    }

    public void close() {
        idleTimer.cancel(false);
        endpoint.close();
    }

    static Map<String, Object> getWorkers(ClusterSummary s) {
        List<Map<String, Object>> workers = new ArrayList<>();
        for (ClusterSummary.Worker w : s.workers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", w.name());
            m.put("address", w.address());
            workers.add(m);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("num_workers", s.workers().size());
        r.put("workers", workers);
        return r;
    }

    /** POST {"n": N} (the N cheapest workers) or {"workers": [addresses]}, as Dask's RetireWorkersHandler. */
    private void retireWorkers(HttpEndpoint.Request rq, HttpEndpoint.Reply r) {
        if (rq.method() != HttpMethod.POST) {
            r.text(405, "retire_workers takes POST\n");
            return;
        }
        List<String> workers = new ArrayList<>();
        try {
            JsonNode params = JSON.readTree(rq.body());
            int n = params.path("n").asInt(0);
            if (n > 0) {
                workers.addAll(view.workersToClose(n));
            } else {
                params.path("workers").forEach(w -> workers.add(w.asText()));
            }
        } catch (IOException | RuntimeException e) {
            r.send(500, JSON_TYPE, "{\"Error\": \"Internal Server Error\"}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        view.retireWorkers(workers, result -> {
            if (result instanceof Map<?, ?> m && "error".equals(m.get("status"))) {
                r.send(500, JSON_TYPE, "{\"Error\": \"Internal Server Error\"}".getBytes(StandardCharsets.UTF_8));
            } else {
                json(r, result);
            }
        });
    }

    /** Dask's CountsJSON (distributed/http/scheduler/json.py) from what the summary has. */
    static Map<String, Object> counts(ClusterSummary s) {
        long bytes = 0;
        int memory = 0;
        int processing = 0;
        for (ClusterSummary.Worker w : s.workers()) {
            bytes += w.nbytes();
            memory += w.held();
            processing += w.processing();
        }
        WorkerStates ws = WorkerStates.of(s);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("bytes", bytes);
        r.put("clients", s.clients());
        r.put("cores", s.threads());
        r.put("erred", s.tasks("erred"));
        r.put("hosts", s.workers().stream().map(w -> host(w.address())).distinct().count());
        r.put("idle", ws.idle());
        r.put("memory", memory);
        r.put("processing", processing);
        r.put("released", s.tasks("released"));
        r.put("saturated", ws.saturated());
        r.put("tasks", s.taskTotal());
        r.put("unrunnable", s.tasks("no-worker"));
        r.put("waiting", s.tasks("waiting"));
        r.put("workers", s.workers().size());
        r.put("desired_workers", Adaptive.target(s, Adaptive.DEFAULT_TARGET_SECONDS));
        return r;
    }

    private static String host(String address) {
        String rest = address.substring(address.indexOf("://") + 3);
        return rest.substring(0, Math.max(0, rest.lastIndexOf(':')));
    }

    private static void json(HttpEndpoint.Reply r, Object value) {
        try {
            r.send(200, JSON_TYPE, JSON.writeValueAsBytes(plain(value)));
        } catch (IOException e) {
            r.text(500, e + "\n");
        }
    }

    /** Values as JSON has them: maps with text keys, lists, numbers, text, booleans, null. */
    static Object plain(Object v) {
        if (v == null || v instanceof Number || v instanceof String || v instanceof Boolean) {
            return v;
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> r = new LinkedHashMap<>();
            m.forEach((k, x) -> r.put(String.valueOf(k), plain(x)));
            return r;
        }
        if (v instanceof Collection<?> c) {
            List<Object> r = new ArrayList<>(c.size());
            c.forEach(x -> r.add(plain(x)));
            return r;
        }
        if (v instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return String.valueOf(v);
    }

    private static Map<String, Object> mapOf(String k, Object v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k, v);
        return m;
    }

    private static byte[] resource(String name) {
        try (InputStream in = DashboardService.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }
}
