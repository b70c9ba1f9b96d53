package org.cloudviper.imaging.affinity;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which CPUs the compute threads are pinned to, chosen (purely) from the topology and the allowed
 * CPUs: by default one thread per physical core that has an allowed hardware thread, on the lowest
 * such thread, its siblings left idle (two threads on one core share its FP units and caches; the
 * gridder and FFT are bound by them); or every allowed hardware thread. Cores are taken alternately
 * from each package, so a pool smaller than the machine spreads over the sockets' memory.
 *
 * @param cpus        CPU ids, one per compute thread, in the order threads are created
 * @param description what was chosen, for the log line
 */
public record CorePlan(List<Integer> cpus, String description) {

    /** One thread per physical core, or one per hardware thread. */
    public enum Mode {
        PHYSICAL_CORES, ALL_THREADS
    }

    public CorePlan {
        cpus = List.copyOf(cpus);
    }

    /**
     * @param maxThreads at most this many threads (0: no limit)
     */
    public static CorePlan choose(CpuTopology topology, BitSet allowed, Mode mode, int maxThreads) {
        // per package, per core: the allowed threads
        Map<Integer, List<List<Integer>>> byPackage = new TreeMap<>();
        int coresWithAllowed = 0;
        for (CpuTopology.Core core : topology.cores()) {
            List<Integer> threads = new ArrayList<>();
            for (int t : core.threads()) {
                if (allowed.get(t)) {
                    threads.add(t);
                }
            }
            if (!threads.isEmpty()) {
                byPackage.computeIfAbsent(core.packageId(), k -> new ArrayList<>()).add(threads);
                coresWithAllowed++;
            }
        }
        List<Integer> cpus = new ArrayList<>();
        int rounds = mode == Mode.PHYSICAL_CORES ? 1 : maxSiblings(byPackage);
        for (int thread = 0; thread < rounds; thread++) {
            List<List<List<Integer>>> packages = new ArrayList<>(byPackage.values());
            int most = packages.stream().mapToInt(List::size).max().orElse(0);
            for (int i = 0; i < most; i++) {
                for (List<List<Integer>> cores : packages) {
                    if (i < cores.size() && thread < cores.get(i).size()) {
                        cpus.add(cores.get(i).get(thread));
                    }
                }
            }
        }
        if (maxThreads > 0 && cpus.size() > maxThreads) {
            cpus = cpus.subList(0, maxThreads);
        }
        BitSet chosen = new BitSet();
        cpus.forEach(chosen::set);
        String what = mode == Mode.PHYSICAL_CORES ? "one per physical core" + (topology.smt() ? ", siblings idle" : "")
                : "one per hardware thread";
        String description = String.format("%d compute threads, %s, pinned to CPUs %s (allowed %s; %d of %d cores "
                        + "with an allowed CPU, %d package(s), SMT %s)", cpus.size(), what, CpuSet.format(chosen),
                CpuSet.format(allowed), coresWithAllowed, topology.cores().size(), byPackage.size(),
                topology.smt() ? "on" : "off");
        return new CorePlan(cpus, description);
    }

    private static int maxSiblings(Map<Integer, List<List<Integer>>> byPackage) {
        int most = 0;
        for (List<List<Integer>> cores : byPackage.values()) {
            for (List<Integer> threads : cores) {
                most = Math.max(most, threads.size());
            }
        }
        return most;
    }
}
