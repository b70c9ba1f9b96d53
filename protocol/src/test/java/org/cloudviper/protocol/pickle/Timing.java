package org.cloudviper.protocol.pickle;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Wall-clock checks that stay meaningful on shared CI machines. */
final class Timing {
    private Timing() {
    }

    /** The best of {@code runs} timed runs, after one untimed warm-up run. */
    static long bestNanos(int runs, Runnable r) {
        r.run();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best;
    }

    /**
     * Fails if {@code nanos} exceeds {@code limitMillis}, unless the machine is saturated by other
     * work (1-minute load average above the processor count), where a wall-clock figure says
     * nothing about this code: then the figure is only printed. {@code -Dpickle.timing.strict=true}
     * asserts regardless.
     */
    static void assertUnder(String what, long nanos, long limitMillis) {
        long ms = nanos / 1_000_000;
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        int cpus = Runtime.getRuntime().availableProcessors();
        boolean saturated = load > cpus && !Boolean.getBoolean("pickle.timing.strict");
        System.out.printf("%s: %d ms (limit %d ms, load average %.1f on %d processors)%s%n", what, ms, limitMillis,
                load, cpus, saturated && ms >= limitMillis ? " -- not asserted: machine saturated" : "");
        if (!saturated) {
            assertTrue(ms < limitMillis, what + " took " + ms + " ms (limit " + limitMillis + " ms)");
        }
    }
}
