package org.cloudviper.imaging.affinity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.Optional;

/**
 * The CPUs this process may run on: its affinity mask ({@code Cpus_allowed_list} of
 * {@code /proc/self/status}, which the kernel already narrows to the cgroup's cpuset) intersected with
 * the cgroup's {@code cpuset.cpus.effective} where cgroup v2 shows one, so that a pod under the
 * static CPU manager gets its own cores. Parsing is pure; {@link #read} does the I/O.
 */
public final class AllowedCpus {
    private AllowedCpus() {
    }

    /** {@code Cpus_allowed_list} of a {@code /proc/<pid>/status} text. */
    public static BitSet fromStatus(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return CpuSet.parseList(line.substring("Cpus_allowed_list:".length()));
            }
        }
        throw new IllegalArgumentException("process status: no Cpus_allowed_list line");
    }

    /** The cgroup v2 path of a {@code /proc/<pid>/cgroup} text (its {@code 0::/path} line), if any. */
    public static Optional<String> cgroupV2Path(String cgroup) {
        for (String line : cgroup.split("\n")) {
            if (line.startsWith("0::")) {
                return Optional.of(line.substring(3).trim());
            }
        }
        return Optional.empty();
    }

    /** Reads the live process's allowed CPUs (see the class comment). */
    public static BitSet read() throws IOException {
        BitSet allowed = fromStatus(Files.readString(Path.of("/proc/self/status"), StandardCharsets.US_ASCII));
        Path cgroupFile = Path.of("/proc/self/cgroup");
        if (Files.isReadable(cgroupFile)) {
            Optional<String> path = cgroupV2Path(Files.readString(cgroupFile, StandardCharsets.US_ASCII));
            if (path.isPresent()) {
                Path cpus = Path.of("/sys/fs/cgroup").resolve(path.get().replaceFirst("^/", "")).resolve("cpuset.cpus.effective");
                if (Files.isReadable(cpus)) {
                    String list = Files.readString(cpus, StandardCharsets.US_ASCII);
                    if (!list.isBlank()) {
                        allowed.and(CpuSet.parseList(list));
                    }
                }
            }
        }
        return allowed;
    }
}
