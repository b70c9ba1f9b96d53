package org.cloudviper.worker.runtime;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.file.Files;
import java.nio.file.Path;

/** Process figures for heartbeats: CPU percent, resident memory, open file descriptors. */
final class Metrics {
    private static final Path STATM = Path.of("/proc/self/statm");
    private static final long PAGE = 4096;
    private final OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();

    double cpuPercent() {
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            double load = sun.getProcessCpuLoad();
            return load < 0 ? 0.0 : load * 100 * os.getAvailableProcessors();
        }
        return 0.0;
    }

    /** Resident set size in bytes (what psutil reports to Dask), or the JVM heap in use. */
    long rss() {
        try {
            String[] f = Files.readString(STATM).trim().split("\\s+");
            return Long.parseLong(f[1]) * PAGE;
        } catch (IOException | RuntimeException e) {
            Runtime r = Runtime.getRuntime();
            return r.totalMemory() - r.freeMemory();
        }
    }

    long openFds() {
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getOpenFileDescriptorCount();
        }
        return 0;
    }
}
