package org.cloudviper.scheduler.server.http;

import org.cloudviper.scheduler.state.Adaptive;
import org.cloudviper.scheduler.state.ClusterSummary;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the status page shows, as one JSON document: workers (threads, memory, tasks, status), task
 * counts per state and per task prefix with each prefix's progress, and the totals.
 */
final class StatusJson {
    /** States of tasks that have run (or will not): a prefix's progress counts these. */
    private static final List<String> DONE = List.of("memory", "erred", "released");

    private StatusJson() {
    }

    static Map<String, Object> of(ClusterSummary s) {
        List<Map<String, Object>> workers = new ArrayList<>();
        long memoryLimit = 0;
        long bytes = 0;
        for (ClusterSummary.Worker w : s.workers()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", w.name());
            m.put("address", w.address());
            m.put("nthreads", w.nthreads());
            m.put("memory_limit", w.memoryLimit());
            m.put("nbytes", w.nbytes());
            m.put("processing", w.processing());
            m.put("held", w.held());
            m.put("status", w.status().daskName);
            workers.add(m);
            memoryLimit += w.memoryLimit();
            bytes += w.nbytes();
        }
        List<Map<String, Object>> groups = new ArrayList<>();
        s.groups().forEach((prefix, counts) -> {
            int total = counts.values().stream().mapToInt(Integer::intValue).sum();
            int done = DONE.stream().mapToInt(st -> counts.getOrDefault(st, 0)).sum();
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("name", prefix);
            g.put("total", total);
            g.put("done", done);
            g.put("states", counts);
            groups.add(g);
        });
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("workers", workers);
        r.put("threads", s.threads());
        r.put("memory_limit", memoryLimit);
        r.put("nbytes", bytes);
        r.put("clients", s.clients());
        r.put("tasks", s.taskCounts());
        r.put("task_total", s.taskTotal());
        r.put("groups", groups);
        r.put("desired_workers", Adaptive.target(s, Adaptive.DEFAULT_TARGET_SECONDS));
        return r;
    }
}
