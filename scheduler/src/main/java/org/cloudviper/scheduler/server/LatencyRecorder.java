package org.cloudviper.scheduler.server;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The scheduler's own added latency: from the moment a loop turn reads its first message to the
 * moment the messages it caused are handed to the sockets (the server keeps a second recorder that
 * stops before the first write, to tell its own work from the write syscalls). Keeps the last
 * {@code capacity} samples;
 * read through the {@code cloudviper_latency} RPC (benchmarks call it as
 * {@code client.scheduler.cloudviper_latency(reset=True)}). Owned by the event-loop thread.
 */
final class LatencyRecorder {
    private final long[] samples;
    private long count;
    private long recorded;
    private long maxSinceTaken;

    LatencyRecorder(int capacity) {
        samples = new long[capacity];
    }

    void record(long nanos) {
        samples[(int) (count++ % samples.length)] = nanos;
        recorded++;
        if (nanos > maxSinceTaken) {
            maxSinceTaken = nanos;
        }
    }

    /** Samples recorded since the recorder was made ({@link #reset} does not change it). */
    long recorded() {
        return recorded;
    }

    /** The longest sample since the last call (Dask's tick maximum "since Prometheus last scraped"). */
    long takeMax() {
        long m = maxSinceTaken;
        maxSinceTaken = 0;
        return m;
    }

    /** Count and p50/p90/p99/max in microseconds over the kept samples. */
    Map<String, Object> summary() {
        int n = (int) Math.min(count, samples.length);
        long[] s = Arrays.copyOf(samples, n);
        Arrays.sort(s);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("count", count);
        r.put("p50_us", n == 0 ? 0.0 : s[(int) (n * 0.50)] / 1e3);
        r.put("p90_us", n == 0 ? 0.0 : s[Math.min(n - 1, (int) (n * 0.90))] / 1e3);
        r.put("p99_us", n == 0 ? 0.0 : s[Math.min(n - 1, (int) (n * 0.99))] / 1e3);
        r.put("max_us", n == 0 ? 0.0 : s[n - 1] / 1e3);
        return r;
    }

    void reset() {
        count = 0;
    }
}
