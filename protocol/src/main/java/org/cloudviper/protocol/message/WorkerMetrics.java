package org.cloudviper.protocol.message;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code metrics} a worker reports in register-worker and every heartbeat (distributed
 * Worker.get_metrics). The scheduler reads memory, spilled bytes, task counts (and 2024's digests);
 * the rest is shown on dashboards. cloudviper measures no bandwidth or network and disk rates yet:
 * those are reported as Dask's defaults.
 *
 * @param cpu    percent of one core over the last interval
 * @param memory the process's resident set, bytes
 * @param time   when measured, seconds since the epoch
 */
public record WorkerMetrics(Map<String, Long> taskCounts, long managedBytes, long spilledMemoryBytes,
                            long spilledDiskBytes, long incomingBytes, long incomingCount, long incomingCountTotal,
                            long outgoingCount, long outgoingCountTotal, double cpu, long memory, long numFds,
                            double time) {
    /** distributed.scheduler.bandwidth, what Dask assumes before it has measured any transfer. */
    static final long DEFAULT_BANDWIDTH = 100_000_000L;

    public Map<String, Object> encode(Generation g) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task_counts", taskCounts);
        Map<String, Object> bw = new LinkedHashMap<>();
        bw.put("total", DEFAULT_BANDWIDTH);
        bw.put("workers", Map.of());
        bw.put("types", Map.of());
        m.put("bandwidth", bw);
        if (g.reportsDigests()) {
            m.put("digests_total_since_heartbeat", Map.of());
        }
        m.put("managed_bytes", managedBytes);
        Map<String, Object> spilled = new LinkedHashMap<>();
        spilled.put("memory", spilledMemoryBytes);
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
        m.put("time", time);
        m.put("host_net_io", rates());
        m.put("host_disk_io", rates());
        m.put("num_fds", numFds);
        return m;
    }

    private static Map<String, Object> rates() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("read_bps", 0.0);
        r.put("write_bps", 0.0);
        return r;
    }
}
