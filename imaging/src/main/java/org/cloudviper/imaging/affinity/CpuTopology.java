package org.cloudviper.imaging.affinity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The machine's CPUs grouped into physical cores, from {@code /sys/devices/system/cpu}: the online
 * CPUs ({@code online}), and per CPU its package ({@code cpuN/topology/physical_package_id}), its core
 * id within the package ({@code core_id}) and the hardware threads sharing its core
 * ({@code thread_siblings_list}). Parsing is pure: {@link #parse} takes the files' contents keyed by
 * their path below the cpu directory, as {@code grep -H . online cpu*}{@code /topology/*} prints them;
 * {@link #read} reads a live directory into that form.
 */
public final class CpuTopology {
    /** One physical core: its package, its core id and its hardware threads (CPU ids, ascending). */
    public record Core(int packageId, int coreId, List<Integer> threads) {
    }

    private final List<Core> cores;
    private final BitSet online;

    private CpuTopology(List<Core> cores, BitSet online) {
        this.cores = List.copyOf(cores);
        this.online = online;
    }

    /** The physical cores, by package then core id. */
    public List<Core> cores() {
        return cores;
    }

    public BitSet online() {
        return (BitSet) online.clone();
    }

    /** Whether some core has more than one hardware thread. */
    public boolean smt() {
        return cores.stream().anyMatch(c -> c.threads().size() > 1);
    }

    /**
     * Builds the topology from the files' contents, keyed by path relative to the cpu directory
     * ({@code online}, {@code cpu3/topology/core_id}, ...). A CPU missing its topology files counts as
     * a core of its own (as on kernels without topology information).
     */
    public static CpuTopology parse(Map<String, String> files) {
        String onlineList = files.get("online");
        if (onlineList == null) {
            throw new IllegalArgumentException("cpu topology: no 'online' file");
        }
        BitSet online = CpuSet.parseList(onlineList);
        Map<List<Integer>, Core> byCore = new TreeMap<>((a, b) -> a.get(0).equals(b.get(0))
                ? Integer.compare(a.get(1), b.get(1)) : Integer.compare(a.get(0), b.get(0)));
        for (int cpu = online.nextSetBit(0); cpu >= 0; cpu = online.nextSetBit(cpu + 1)) {
            String dir = "cpu" + cpu + "/topology/";
            int pkg = intOr(files.get(dir + "physical_package_id"), 0, dir);
            int core = intOr(files.get(dir + "core_id"), -1 - cpu, dir);
            List<Integer> key = List.of(pkg, core);
            Core known = byCore.get(key);
            TreeSet<Integer> threads = new TreeSet<>(known == null ? List.of() : known.threads());
            threads.add(cpu);
            String siblings = files.get(dir + "thread_siblings_list");
            if (siblings != null) {
                BitSet s = CpuSet.parseList(siblings);
                s.and(online);
                s.stream().forEach(threads::add);
            }
            byCore.put(key, new Core(pkg, core, List.copyOf(threads)));
        }
        return new CpuTopology(new ArrayList<>(byCore.values()), online);
    }

    private static int intOr(String text, int fallback, String where) {
        if (text == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cpu topology: " + where + ": " + text.trim() + " (expected: an integer)", e);
        }
    }

    /** Reads a cpu directory, {@code /sys/devices/system/cpu} on a live machine. */
    public static CpuTopology read(Path cpuDir) throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("online", Files.readString(cpuDir.resolve("online"), StandardCharsets.US_ASCII));
        BitSet online = CpuSet.parseList(files.get("online"));
        for (int cpu = online.nextSetBit(0); cpu >= 0; cpu = online.nextSetBit(cpu + 1)) {
            for (String f : new String[] {"physical_package_id", "core_id", "thread_siblings_list"}) {
                String rel = "cpu" + cpu + "/topology/" + f;
                Path p = cpuDir.resolve(rel);
                if (Files.isReadable(p)) {
                    files.put(rel, Files.readString(p, StandardCharsets.US_ASCII));
                }
            }
        }
        return parse(files);
    }

    /**
     * Parses a capture made with {@code cd /sys/devices/system/cpu && grep -H . online
     * cpu*}{@code /topology/{core_id,physical_package_id,thread_siblings_list}}: lines {@code path:value}.
     */
    public static CpuTopology parseCapture(String capture) {
        Map<String, String> files = new LinkedHashMap<>();
        for (String line : capture.split("\n")) {
            int colon = line.indexOf(':');
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            if (colon < 0) {
                throw new IllegalArgumentException("cpu topology capture: " + line + " (expected: path:value)");
            }
            files.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
        }
        return parse(files);
    }
}
