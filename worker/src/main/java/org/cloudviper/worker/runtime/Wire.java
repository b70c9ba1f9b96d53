package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import org.cloudviper.protocol.CompactMap;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.worker.state.Event;
import org.cloudviper.worker.state.Instruction;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Field-exact shapes of the messages a worker exchanges with its scheduler, per Dask generation
 * (distributed/worker_state_machine.py {@code *Msg.to_dict} and {@code *Event}, docs/dask-protocol.md
 * §5). A 2022 scheduler builds each handler call from the message's fields, so a field it does not
 * know is an error there: 2024-only fields ({@code run_id}) are sent to 2024 peers only.
 */
final class Wire {
    static final int GEN_2022 = 2022;
    static final int GEN_2024 = 2024;

    private Wire() {
    }

    /** The generation of a peer from its {@code versions} (Node.versions) reply; 2022 if unknown. */
    static int generationOf(Object versionsReply) {
        if (!(versionsReply instanceof Map<?, ?> m)) {
            return GEN_2022;
        }
        String v = str(map(m, "packages"), "distributed");
        if (v == null) {
            v = str(map(map(m, "scheduler"), "packages"), "distributed");
        }
        return generationOfVersion(v);
    }

    /** 2024 for distributed >= 2023.4 (pickled graphs and the task-spec era), else 2022. */
    static int generationOfVersion(String v) {
        if (v == null) {
            return GEN_2022;
        }
        try {
            int dot = v.indexOf('.');
            int year = Integer.parseInt(v.substring(0, dot));
            int month = Integer.parseInt(v.substring(dot + 1).replaceFirst("[^0-9].*", ""));
            return year > 2023 || year == 2023 && month >= 4 ? GEN_2024 : GEN_2022;
        } catch (RuntimeException e) {
            return GEN_2022;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Requests

    /**
     * register-worker (distributed Worker._register_with_scheduler): the field set of a 2022 worker
     * (the scheduler's add_worker takes exactly these), without keys/nbytes/types for 2024.
     */
    static Map<String, Object> registerWorker(int generation, String address, String name, int nthreads,
                                              Map<String, Double> resources, long memoryLimit, String localDirectory,
                                              long pid, Map<String, Object> versions, Map<String, Object> metrics,
                                              String stimulusId, String serverId, double now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", "register-worker");
        m.put("reply", false);
        m.put("address", address);
        m.put("status", "init");
        if (generation < GEN_2024) {
            m.put("keys", List.of());
        }
        m.put("nthreads", (long) nthreads);
        m.put("name", name);
        if (generation < GEN_2024) {
            m.put("nbytes", Map.of());
            m.put("types", Map.of());
        }
        m.put("now", now);
        m.put("resources", resources);
        m.put("memory_limit", memoryLimit);
        m.put("local_directory", localDirectory);
        m.put("services", Map.of());
        m.put("nanny", null);
        m.put("pid", pid);
        m.put("versions", versions);
        m.put("metrics", metrics);
        m.put("extra", Map.of());
        m.put("stimulus_id", stimulusId);
        m.put("server_id", serverId);
        return m;
    }

    /** heartbeat_worker (distributed Worker.heartbeat). */
    static Map<String, Object> heartbeat(String address, double now, Map<String, Object> metrics,
                                         Map<Object, Object> executing) {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("op", "heartbeat_worker");
        req.put("address", address);
        req.put("now", now);
        req.put("metrics", metrics);
        req.put("executing", executing);
        req.put("extensions", Map.of());
        req.put("reply", true);
        return req;
    }

    /**
     * The metrics a Python worker sends (distributed Worker.get_metrics, §5.2): the scheduler reads
     * bandwidth, memory, spilled_bytes (and 2024's digests), dashboards the rest.
     */
    static Map<String, Object> metrics(int generation, Map<String, Long> taskCounts, long managedBytes,
                                       long spilledManagedBytes, long spilledDiskBytes,
                                       long incomingBytes, long incomingCount, long incomingCountTotal,
                                       long outgoingCount, long outgoingCountTotal, double cpu, long memory,
                                       long numFds, double now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task_counts", taskCounts);
        Map<String, Object> bw = new LinkedHashMap<>();
        bw.put("total", 100_000_000L); // distributed.scheduler.bandwidth: we measure none yet
        bw.put("workers", Map.of());
        bw.put("types", Map.of());
        m.put("bandwidth", bw);
        m.put("managed_bytes", managedBytes);
        Map<String, Object> spilled = new LinkedHashMap<>();
        spilled.put("memory", spilledManagedBytes);
        spilled.put("disk", spilledDiskBytes);
        m.put("spilled_bytes", spilled);
        Map<String, Object> transfer = new LinkedHashMap<>();
        transfer.put("incoming_bytes", incomingBytes);
        transfer.put("incoming_count", incomingCount);
        transfer.put("incoming_count_total", incomingCountTotal);
        transfer.put("outgoing_bytes", 0L);
        transfer.put("outgoing_count", outgoingCount);
        transfer.put("outgoing_count_total", outgoingCountTotal);
        m.put("transfer", transfer);
        m.put("event_loop_interval", 0.02);
        m.put("cpu", cpu);
        m.put("memory", memory);
        m.put("time", now);
        Map<String, Object> net = new LinkedHashMap<>();
        net.put("read_bps", 0.0);
        net.put("write_bps", 0.0);
        m.put("host_net_io", net);
        Map<String, Object> disk = new LinkedHashMap<>();
        disk.put("read_bps", 0.0);
        disk.put("write_bps", 0.0);
        m.put("host_disk_io", disk);
        m.put("num_fds", numFds);
        if (generation >= GEN_2024) {
            m.put("digests_total_since_heartbeat", Map.of()); // 2024 reads it; we keep no digests yet
        }
        return m;
    }

    /** get_data to a peer (get_data_from_worker): 2022 also sends max_connections, which 2024 rejects. */
    static Map<String, Object> getData(int generation, List<Object> keys, String who) {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("op", "get_data");
        req.put("keys", keys);
        req.put("who", who);
        if (generation < GEN_2024) {
            req.put("max_connections", null);
        }
        req.put("reply", true);
        return req;
    }

    /**
     * Whether update_data (scatter) is followed by add-keys to the scheduler. 2022's handler takes
     * {@code report=True} by default; 2024's has no such parameter and never sends add-keys: the
     * scheduler's scatter registers the replicas itself, and an add-keys that overtakes it finds no
     * task in memory, answers remove-replicas, and the scattered data is lost.
     */
    static boolean reportsUpdateData(int generation, Object report) {
        return generation >= GEN_2024 ? Boolean.TRUE.equals(report) : !Boolean.FALSE.equals(report);
    }

    // ---------------------------------------------------------------------------------------------
    // Worker -> scheduler

    /**
     * The stream message for {@code m}. Sub-objects it creates (exceptions) are added to
     * {@code created}; the caller releases them once the message is encoded.
     */
    static Map<String, Object> toScheduler(Instruction.ToScheduler m, int generation, List<SubObject> created) {
        Map<String, Object> r = new CompactMap<>(12);
        if (m instanceof Instruction.TaskFinished t) {
            r.put("op", "task-finished");
            r.put("key", t.key());
            r.put("nbytes", t.nbytes());
            r.put("type", t.type());
            r.put("typename", t.typename() == null ? "object" : t.typename());
            r.put("metadata", Map.of());
            r.put("thread", t.thread());
            r.put("startstops", startstops(t.startstops()));
            r.put("stimulus_id", t.stimulusId());
            r.put("status", "OK");
            if (generation >= GEN_2024) {
                r.put("run_id", t.runId());
            }
        } else if (m instanceof Instruction.TaskErred e) {
            r.put("op", "task-erred");
            r.put("key", e.key());
            r.put("exception", exception(e.exception(), created));
            r.put("traceback", e.traceback() instanceof SubObject s ? s : null);
            r.put("exception_text", e.exceptionText());
            r.put("traceback_text", e.tracebackText());
            r.put("thread", e.thread());
            r.put("startstops", startstops(e.startstops()));
            r.put("stimulus_id", e.stimulusId());
            r.put("status", "error");
            if (generation >= GEN_2024) {
                r.put("run_id", e.runId());
            }
        } else if (m instanceof Instruction.ReleaseWorkerData d) {
            r.put("op", "release-worker-data");
            r.put("key", d.key());
            r.put("stimulus_id", d.stimulusId());
        } else if (m instanceof Instruction.AddKeys a) {
            r.put("op", "add-keys");
            r.put("keys", a.keys());
            r.put("stimulus_id", a.stimulusId());
        } else if (m instanceof Instruction.StealResponse s) {
            r.put("op", "steal-response");
            r.put("key", s.key());
            r.put("state", s.state());
            r.put("stimulus_id", s.stimulusId());
        } else if (m instanceof Instruction.RequestRefreshWhoHas q) {
            r.put("op", "request-refresh-who-has");
            r.put("keys", q.keys());
            r.put("stimulus_id", q.stimulusId());
        } else if (m instanceof Instruction.WorkerStatus w) {
            r.put("op", "worker-status-change");
            r.put("status", w.status());
            r.put("stimulus_id", w.stimulusId());
        } else {
            throw new IllegalArgumentException("no wire form for " + m);
        }
        return r;
    }

    private static Object exception(Object e, List<SubObject> created) {
        if (e instanceof TaskError t) {
            SubObject s = Serde.pythonException(t.text());
            created.add(s);
            return s;
        }
        return e == null ? null : String.valueOf(e);
    }

    private static List<Object> startstops(List<Instruction.StartStop> l) {
        List<Object> r = new ArrayList<>(l.size());
        for (Instruction.StartStop s : l) {
            Map<String, Object> m = new CompactMap<>(3);
            m.put("action", s.action());
            m.put("start", s.start());
            m.put("stop", s.stop());
            r.add(m);
        }
        return r;
    }

    // ---------------------------------------------------------------------------------------------
    // Scheduler -> worker

    /**
     * The state machine event of a stream message, or null for ops the runtime handles itself
     * ({@code close}) or ignores. Accepts the field sets of both generations.
     */
    static Event fromScheduler(String op, Map<?, ?> m) {
        String sid = str(m, "stimulus_id");
        if (sid == null) {
            sid = op + "-" + TaskRunner.now();
        }
        return switch (op) {
            case "compute-task" -> computeTask(m, sid);
            case "free-keys" -> new Event.FreeKeys(keys(m.get("keys")), sid);
            case "remove-replicas" -> new Event.RemoveReplicas(keys(m.get("keys")), sid);
            case "acquire-replicas" -> new Event.AcquireReplicas(whoHas(m.get("who_has")), nbytes(m.get("nbytes")), sid);
            case "refresh-who-has" -> new Event.RefreshWhoHas(whoHas(m.get("who_has")), sid);
            case "steal-request" -> new Event.StealRequest(m.get("key"), sid);
            case "cancel-compute" -> new Event.CancelCompute(m.get("key"), sid);
            case "worker-status-change" -> new Event.WorkerStatusChange(str(m, "status"), sid);
            default -> null;
        };
    }

    private static Event.ComputeTask computeTask(Map<?, ?> m, String sid) {
        List<Number> priority = new ArrayList<>();
        for (Object p : keys(m.get("priority"))) {
            priority.add(p instanceof Number n ? n : 0L);
        }
        Map<String, Double> restrictions = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map(m, "resource_restrictions").entrySet()) {
            if (e.getValue() instanceof Number n) {
                restrictions.put(String.valueOf(e.getKey()), n.doubleValue());
            }
        }
        Map<?, ?> nb = map(m, "nbytes");
        Map<Object, List<String>> who = whoHas(m.get("who_has"));
        Map<Object, Long> nbytes = nbytes(nb);
        for (Object k : who.keySet()) {
            nbytes.putIfAbsent(k, null == nb.get(k) ? 1024L : ((Number) nb.get(k)).longValue());
        }
        return new Event.ComputeTask(m.get("key"), priority, dbl(m, "duration", 0.5), who, nbytes, runSpec(m),
                restrictions, m.get("run_id") instanceof Number n ? n.longValue() : -1, sid);
    }

    /** The task to run, copied out of the message (which is released after it is handled). */
    private static RunSpec runSpec(Map<?, ?> m) {
        if (Boolean.TRUE.equals(m.get("actor"))) {
            return RunSpec.refused("cloudviper Java worker does not host actors");
        }
        Object spec = m.get("run_spec");
        if (m.get("function") instanceof byte[] f) {
            return new RunSpec(f, m.get("args") instanceof byte[] a ? a : null,
                    m.get("kwargs") instanceof byte[] k ? k : null, null, null);
        }
        if (spec instanceof SubObject s && s.kind() == SubObject.Kind.PICKLED) {
            // distributed >= 2023.4: ToPickle(Task); the pickle is the sub-header's "pickled-obj",
            // the sub-frames are its out-of-band buffers (distributed/protocol/core.py).
            Object h = MessageCodec.decodeValue(s.header());
            if (!(h instanceof Map<?, ?> hm) || !(hm.get("pickled-obj") instanceof byte[] pickle)) {
                return RunSpec.refused("cloudviper Java worker cannot read this task (pickled run_spec without"
                        + " pickled-obj)");
            }
            return RunSpec.taskSpec(pickle, s.frames().size());
        }
        if (spec instanceof SubObject s) {
            Object h = MessageCodec.decodeValue(s.header());
            if (!(h instanceof Map<?, ?> hm) || !"pickle".equals(hm.get("serializer")) || s.frames().size() != 1
                    || hm.get("compression") instanceof List<?> c && c.stream().anyMatch(x -> x != null)) {
                return RunSpec.refused("cloudviper Java worker cannot read this task (run_spec " + h + ")");
            }
            ByteBuf f = s.frames().get(0);
            byte[] b = new byte[f.readableBytes()];
            f.getBytes(f.readerIndex(), b);
            return new RunSpec(null, null, null, b, null);
        }
        return RunSpec.refused("compute-task without function or run_spec");
    }

    static Map<Object, List<String>> whoHas(Object v) {
        Map<Object, List<String>> r = sizedLike(v);
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                List<String> ws = new ArrayList<>();
                for (Object w : keys(e.getValue())) {
                    ws.add(String.valueOf(w));
                }
                r.put(e.getKey(), ws);
            }
        }
        return r;
    }

    private static <K, V> Map<K, V> sizedLike(Object v) {
        return CompactMap.forSize(v instanceof Map<?, ?> m ? m.size() : 0);
    }

    static Map<Object, Long> nbytes(Object v) {
        Map<Object, Long> r = sizedLike(v);
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                r.put(e.getKey(), e.getValue() instanceof Number n ? n.longValue() : 1024L);
            }
        }
        return r;
    }

    // ---------------------------------------------------------------------------------------------
    // Reading helpers for decoded msgpack trees

    static String str(Map<?, ?> m, String k) {
        Object v = m.get(k);
        return v == null ? null : v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v.toString();
    }

    static long lng(Map<?, ?> m, String k, long dflt) {
        return m.get(k) instanceof Number n ? n.longValue() : dflt;
    }

    static double dbl(Map<?, ?> m, String k, double dflt) {
        return m.get(k) instanceof Number n ? n.doubleValue() : dflt;
    }

    static Map<?, ?> map(Map<?, ?> m, String k) {
        return m.get(k) instanceof Map<?, ?> mm ? mm : Map.of();
    }

    /** A list, a {@code __Set__} marker's items, or nothing; never null. */
    static List<Object> keys(Object v) {
        if (v instanceof Map<?, ?> m && Boolean.TRUE.equals(m.get("__Set__"))) {
            return keys(m.get("as-list"));
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        if (v instanceof Collection<?> c) {
            return new ArrayList<>(c);
        }
        return v == null ? new ArrayList<>() : new ArrayList<>(List.of(v));
    }
}
