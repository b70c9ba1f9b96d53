package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.CompactMap;
import org.cloudviper.scheduler.state.RunSpec;
import org.cloudviper.scheduler.state.ToClient;
import org.cloudviper.scheduler.state.ToWorker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Field-exact msgpack shapes of the messages the scheduler sends, per Dask generation. Python builds
 * an Event dataclass from each worker message, so the field set must match the worker's version
 * exactly (distributed/worker_state_machine.py); see docs of each record for the source.
 */
final class Wire {
    static final int GEN_2022 = 2022;
    static final int GEN_2024 = 2024;

    private Wire() {
    }

    static Map<String, Object> toWorker(ToWorker m, int generation) {
        Map<String, Object> r = new CompactMap<>(16);
        if (m instanceof ToWorker.ComputeTask c) {
            r.put("op", "compute-task");
            r.put("key", c.key());
            if (generation >= GEN_2024) {
                r.put("run_id", c.runId());
            }
            long[] p = c.priority();
            r.put("priority", List.of(p[0], p[1], p[2]));
            r.put("duration", c.duration());
            r.put("stimulus_id", c.stimulusId());
            r.put("who_has", c.whoHas());
            r.put("nbytes", c.nbytes());
            RunSpec s = c.spec();
            if (generation >= GEN_2024) {
                r.put("run_spec", s.runSpec());
                r.put("resource_restrictions", c.resourceRestrictions().isEmpty() ? null : c.resourceRestrictions());
                r.put("actor", false);
                r.put("annotations", c.annotations());
                r.put("span_id", null);
            } else {
                r.put("run_spec", s.runSpec());
                r.put("function", s.function());
                r.put("args", s.args());
                r.put("kwargs", s.kwargs());
                r.put("resource_restrictions", c.resourceRestrictions());
                r.put("actor", false);
                r.put("annotations", c.annotations());
            }
        } else if (m instanceof ToWorker.FreeKeys f) {
            r.put("op", "free-keys");
            r.put("keys", f.keys());
            r.put("stimulus_id", f.stimulusId());
        } else if (m instanceof ToWorker.AcquireReplicas a) {
            r.put("op", "acquire-replicas");
            r.put("who_has", a.whoHas());
            r.put("nbytes", a.nbytes());
            r.put("stimulus_id", a.stimulusId());
        } else if (m instanceof ToWorker.StatusChange c) {
            r.put("op", "worker-status-change");
            r.put("status", c.status());
            r.put("stimulus_id", c.stimulusId());
        } else if (m instanceof ToWorker.Close c) {
            r.put("op", "close");
            r.put("reason", c.reason());
        }
        return r;
    }

    static Map<String, Object> toClient(ToClient m, int generation) {
        Map<String, Object> r = new CompactMap<>(4);
        if (m instanceof ToClient.KeyInMemory k) {
            r.put("op", "key-in-memory");
            r.put("key", k.key());
            if (k.type() != null) {
                r.put("type", k.type());
            }
        } else if (m instanceof ToClient.TaskErred e) {
            r.put("op", "task-erred");
            r.put("key", e.key());
            r.put("exception", e.exception());
            r.put("traceback", e.traceback());
        } else if (m instanceof ToClient.LostData l) {
            r.put("op", "lost-data");
            r.put("key", l.key());
        } else if (m instanceof ToClient.CancelledKey c) {
            if (generation >= GEN_2024) {
                r.put("op", "cancelled-keys");
                r.put("keys", List.of(c.key()));
            } else {
                r.put("op", "cancelled-key");
                r.put("key", c.key());
            }
        } else if (m instanceof ToClient.TaskRetried t) {
            r.put("op", "task-retried");
            r.put("key", t.key());
        }
        return r;
    }

    // ---- reading helpers for decoded msgpack trees -------------------------------------------

    static String str(Map<?, ?> m, String k) {
        Object v = m.get(k);
        return v == null ? null : v instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8) : v.toString();
    }

    static long lng(Map<?, ?> m, String k, long dflt) {
        Object v = m.get(k);
        return v instanceof Number n ? n.longValue() : dflt;
    }

    static double dbl(Map<?, ?> m, String k, double dflt) {
        Object v = m.get(k);
        return v instanceof Number n ? n.doubleValue() : dflt;
    }

    static boolean bool(Map<?, ?> m, String k) {
        return Boolean.TRUE.equals(m.get(k));
    }

    static Map<?, ?> map(Map<?, ?> m, String k) {
        Object v = m.get(k);
        return v instanceof Map<?, ?> mm ? mm : Map.of();
    }

    /** A list, a {@code __Set__} marker's items, or a single value as a one-element list. Null stays null. */
    static List<Object> list(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("__Set__"))) {
            return list(m.get("as-list"));
        }
        if (v instanceof List<?> l) {
            @SuppressWarnings("unchecked") List<Object> r = (List<Object>) l;
            return r;
        }
        if (v instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        return List.of(v);
    }

    /**
     * The summed "compute" intervals of a task-finished's startstops (a list of
     * {action, start, stop} maps in both generations), NaN if there are none.
     */
    static double computeSeconds(Object startstops) {
        if (!(startstops instanceof List<?> l)) {
            return Double.NaN;
        }
        double sum = Double.NaN;
        for (Object o : l) {
            if (o instanceof Map<?, ?> ss && "compute".equals(ss.get("action"))
                    && ss.get("start") instanceof Number a && ss.get("stop") instanceof Number b) {
                double d = b.doubleValue() - a.doubleValue();
                if (d >= 0) {
                    sum = Double.isNaN(sum) ? d : sum + d;
                }
            }
        }
        return sum;
    }
}
