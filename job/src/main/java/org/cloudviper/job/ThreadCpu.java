package org.cloudviper.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The CPU time of this process's threads between two moments, grouped by thread name (digits
 * dropped, so that a pool's threads count as one group): where a run's CPU went, the JVM's own
 * threads (garbage collection, compilation) and the in-process S3 server included. Read from
 * {@code /proc/self/task} (Linux; the kernel keeps 15 characters of a name, in ticks of 10 ms);
 * elsewhere {@link #start} returns null. A thread that ended between the two moments is not counted.
 */
final class ThreadCpu {
    private static final Path TASKS = Path.of("/proc/self/task");
    private static final double TICK = 0.01;

    private final Map<String, Long> startTicks;

    private ThreadCpu(Map<String, Long> startTicks) {
        this.startTicks = startTicks;
    }

    /** Starts counting, or null where the threads cannot be read. */
    static ThreadCpu start() {
        Map<String, Long> now = ticks();
        return now.isEmpty() ? null : new ThreadCpu(now);
    }

    /** Seconds of CPU per group of threads since {@link #start}, largest first (groups under 5 ms left out). */
    Map<String, Double> since() {
        Map<String, Double> groups = new HashMap<>();
        ticks().forEach((key, t) -> {
            String name = key.substring(key.indexOf(' ') + 1).replaceAll("[0-9]+", "N");
            groups.merge(name, (t - startTicks.getOrDefault(key, 0L)) * TICK, Double::sum);
        });
        Map<String, Double> sorted = new LinkedHashMap<>();
        groups.entrySet().stream().filter(e -> e.getValue() >= 0.005)
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                .forEach(e -> sorted.put(e.getKey(), e.getValue()));
        return sorted;
    }

    /** {@link #since()} on one line. */
    String line() {
        StringBuilder b = new StringBuilder();
        since().forEach((k, v) -> b.append(b.length() == 0 ? "" : ", ").append(String.format("%s %.2f", k, v)));
        return b.toString();
    }

    /** Per thread ("tid name"), user + system ticks so far; empty if unreadable. */
    private static Map<String, Long> ticks() {
        Map<String, Long> out = new HashMap<>();
        try (Stream<Path> tasks = Files.list(TASKS)) {
            tasks.forEach(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    // pid (comm) state ... : utime and stime are fields 14 and 15, counted after the ')'
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    String[] f = stat.substring(close + 2).split(" ");
                    out.put(t.getFileName() + " " + stat.substring(open + 1, close),
                            Long.parseLong(f[11]) + Long.parseLong(f[12]));
                } catch (IOException | RuntimeException e) {
                    // the thread ended while being read
                }
            });
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
        return out;
    }
}
