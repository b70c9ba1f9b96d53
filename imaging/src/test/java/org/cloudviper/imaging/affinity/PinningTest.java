package org.cloudviper.imaging.affinity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** On this machine: a pinned thread runs where it was pinned, read back two ways. */
class PinningTest {

    /** Field 39 ("processor", the CPU last run on) of /proc/thread-self/stat. */
    static int processorFromProc() throws Exception {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"), StandardCharsets.US_ASCII);
        // the command name (field 2) may hold spaces: count fields after its closing parenthesis
        String[] rest = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        return Integer.parseInt(rest[39 - 3]);
    }

    @Test
    void aPinnedThreadRunsWhereItWasPinned() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/sys/devices/system/cpu")), "Linux only");
        assertTrue(Pinning.available(), "pinning on this machine: " + Pinning.unavailableReason());
        CpuTopology topology = CpuTopology.read(Path.of("/sys/devices/system/cpu"));
        BitSet allowed = AllowedCpus.read();
        CorePlan plan = CorePlan.choose(topology, allowed, CorePlan.Mode.PHYSICAL_CORES, 0);
        assertTrue(!plan.cpus().isEmpty(), plan.description());
        for (int cpu : plan.cpus()) {
            int[] seen = new int[3];
            BitSet[] mask = new BitSet[1];
            Thread t = new Thread(() -> {
                Pinning.pinCurrentThread(cpu);
                mask[0] = Pinning.currentAffinity();
                double x = 0;
                for (int i = 0; i < 5_000_000; i++) {
                    x += Math.sqrt(i);
                }
                seen[0] = Pinning.currentCpu();
                try {
                    seen[1] = processorFromProc();
                } catch (Exception e) {
                    seen[1] = -1;
                }
                seen[2] = x > 0 ? 1 : 0;
            });
            t.start();
            t.join();
            BitSet expected = new BitSet();
            expected.set(cpu);
            assertEquals(expected, mask[0], "sched_getaffinity after pinning to " + cpu);
            assertEquals(cpu, seen[0], "sched_getcpu");
            assertEquals(cpu, seen[1], "/proc/thread-self/stat processor");
        }
    }

    @Test
    void theComputePoolPinsItsThreads() throws Exception {
        assumeTrue(Pinning.available());
        try (ComputePool pool = ComputePool.create()) {
            assertTrue(pool.pinned(), pool.plan().description());
            assertEquals(pool.plan().cpus().size(), pool.parallelism());
            List<CompletableFuture<Integer>> where = new ArrayList<>();
            for (int i = 0; i < pool.parallelism(); i++) {
                where.add(CompletableFuture.supplyAsync(() -> {
                    BitSet m = Pinning.currentAffinity();
                    return m.cardinality() == 1 ? m.nextSetBit(0) : -1;
                }, pool));
            }
            for (CompletableFuture<Integer> f : where) {
                int cpu = f.get();
                assertTrue(pool.plan().cpus().contains(cpu), "a pool thread pinned to one of " + pool.plan().cpus()
                        + ", got " + cpu);
            }
        }
        try (ComputePool free = ComputePool.create(ComputePool.Placement.UNPINNED, 1)) {
            assertTrue(!free.pinned());
            assertEquals(1, free.parallelism());
            assertTrue(free.plan().description().contains("not pinned"), free.plan().description());
        }
    }
}
