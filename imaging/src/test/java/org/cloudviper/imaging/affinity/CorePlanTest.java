package org.cloudviper.imaging.affinity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Core selection on captured sysfs topologies (src/test/resources/topology) and allowed CPU sets. */
class CorePlanTest {

    static CpuTopology topology(String name) throws IOException {
        try (InputStream in = CorePlanTest.class.getResourceAsStream("/topology/" + name)) {
            return CpuTopology.parseCapture(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        }
    }

    static CorePlan plan(String topology, String allowed, CorePlan.Mode mode) throws IOException {
        return CorePlan.choose(topology(topology), CpuSet.parseList(allowed), mode, 0);
    }

    @Test
    void oneSocketEightCoresTwoThreads() throws IOException {
        CpuTopology t = topology("1s-8c-2t.txt");
        assertEquals(8, t.cores().size());
        assertTrue(t.smt());
        assertEquals(List.of(3, 11), t.cores().get(3).threads());
        CorePlan cores = plan("1s-8c-2t.txt", "0-15", CorePlan.Mode.PHYSICAL_CORES);
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), cores.cpus(), "one per core, siblings 8-15 idle");
        assertTrue(cores.description().contains("siblings idle"), cores.description());
        CorePlan all = plan("1s-8c-2t.txt", "0-15", CorePlan.Mode.ALL_THREADS);
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), all.cpus(),
                "first threads of every core, then the siblings");
        assertEquals(List.of(0, 1, 2), CorePlan.choose(t, CpuSet.parseList("0-15"), CorePlan.Mode.ALL_THREADS, 3).cpus());
    }

    @Test
    void twoSocketsAlternate() throws IOException {
        CpuTopology t = topology("2s-4c-2t.txt");
        assertEquals(8, t.cores().size(), "core ids repeat per socket: (package, core) is the core");
        CorePlan cores = plan("2s-4c-2t.txt", "0-15", CorePlan.Mode.PHYSICAL_CORES);
        assertEquals(List.of(0, 4, 1, 5, 2, 6, 3, 7), cores.cpus(), "alternating sockets, no siblings");
        assertTrue(cores.description().contains("2 package(s)"), cores.description());
        CorePlan four = CorePlan.choose(t, CpuSet.parseList("0-15"), CorePlan.Mode.PHYSICAL_CORES, 4);
        assertEquals(List.of(0, 4, 1, 5), four.cpus(), "a small pool spreads over both sockets");
    }

    @Test
    void anAllowedSubsetIsRespected() throws IOException {
        // a pod given cores 2-5 with their siblings by the static CPU manager
        assertEquals(List.of(2, 3, 4, 5), plan("1s-8c-2t.txt", "2-5,10-13", CorePlan.Mode.PHYSICAL_CORES).cpus());
        assertEquals(List.of(2, 3, 4, 5, 10, 11, 12, 13),
                plan("1s-8c-2t.txt", "2-5,10-13", CorePlan.Mode.ALL_THREADS).cpus());
        // only the second threads of cores 0 and 1 allowed: still one thread per core
        assertEquals(List.of(8, 9), plan("1s-8c-2t.txt", "8-9", CorePlan.Mode.PHYSICAL_CORES).cpus());
        // both threads of one core allowed: one thread, not two on one core
        assertEquals(List.of(1), plan("1s-8c-2t.txt", "1,9", CorePlan.Mode.PHYSICAL_CORES).cpus());
        // on two sockets, allowed only on the second
        assertEquals(List.of(4, 5), plan("2s-4c-2t.txt", "4,5,12,13", CorePlan.Mode.PHYSICAL_CORES).cpus());
        assertTrue(plan("1s-8c-2t.txt", "", CorePlan.Mode.PHYSICAL_CORES).cpus().isEmpty());
    }

    @Test
    void noSmt() throws IOException {
        CpuTopology t = topology("1s-4c-nosmt.txt");
        assertFalse(t.smt());
        assertEquals(List.of(0, 1, 2, 3), plan("1s-4c-nosmt.txt", "0-3", CorePlan.Mode.PHYSICAL_CORES).cpus());
        assertEquals(List.of(0, 1, 2, 3), plan("1s-4c-nosmt.txt", "0-3", CorePlan.Mode.ALL_THREADS).cpus());
        CorePlan here = plan("epyc-2vcpu-nosmt.txt", "0-1", CorePlan.Mode.PHYSICAL_CORES);
        assertEquals(List.of(0, 1), here.cpus());
        assertTrue(here.description().contains("SMT off"), here.description());
    }

    @Test
    void cpuListsAndMasks() {
        assertEquals("0-3,8,10-11", CpuSet.format(CpuSet.parseList("0-3,8,10-11")));
        BitSet mask = CpuSet.parseMask("ff,00000003");
        assertEquals("0-1,32-39", CpuSet.format(mask));
        assertEquals("0-1", CpuSet.format(AllowedCpus.fromStatus("Name:\tjava\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n")));
        assertEquals("/kubepods/pod1/abc", AllowedCpus.cgroupV2Path("0::/kubepods/pod1/abc\n").orElseThrow());
        assertTrue(AllowedCpus.cgroupV2Path("4:memory:/x\n").isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuSet.parseList("0-x"));
        assertTrue(e.getMessage().contains("0-x"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CpuTopology.parseCapture("cpu0/topology/core_id:0\n"));
        assertTrue(e.getMessage().contains("online"), e.getMessage());
    }
}
