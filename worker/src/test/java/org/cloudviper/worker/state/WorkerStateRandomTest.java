package org.cloudviper.worker.state;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random event sequences against the state machine, with every invariant checked after each event
 * ({@link WorkerState#validate}). The test plays scheduler and runtime: it answers the Execute and
 * GatherDep instructions in random order with random outcomes, and interleaves what a scheduler may
 * send at any time. At the end everything is completed and freed: no task may remain and every value
 * handed to the state must have been released exactly once.
 */
class WorkerStateRandomTest {
    static final String ME = "tcp://127.0.0.1:1";
    static final List<String> PEERS = List.of("tcp://127.0.0.1:2", "tcp://127.0.0.2:3");
    static final int KEYS = 10;

    @Test
    void randomSequencesKeepEveryInvariant() {
        for (long seed = 0; seed < 200; seed++) {
            try {
                runOne(seed, 150);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
            }
        }
    }

    private void runOne(long seed, int steps) {
        Random rnd = new Random(seed);
        Map<Object, Integer> released = new IdentityHashMap<>();
        List<Object> handedIn = new ArrayList<>();
        WorkerState s = new WorkerState(ME, 1 + rnd.nextInt(3), Map.of("java", 1.0 + rnd.nextInt(2)),
                new WorkerState.Limits(2, 1000, 500, 200), v -> released.merge(v, 1, Integer::sum)).validating(true);
        Map<Object, String> executing = new LinkedHashMap<>();
        Map<String, List<Object>> gathering = new LinkedHashMap<>();
        Set<String> busy = new LinkedHashSet<>();
        // What the scheduler knows: the dependents of each key it asked this worker to compute.
        Map<Object, Set<Object>> dependents = new HashMap<>();
        Set<TaskStatus> scheduledHere = Set.of(TaskStatus.WAITING, TaskStatus.READY, TaskStatus.CONSTRAINED,
                TaskStatus.EXECUTING, TaskStatus.RESUMED);
        int[] sid = {0};

        java.util.function.Consumer<List<Instruction>> absorb = out -> {
            for (Instruction i : out) {
                if (i instanceof Instruction.Execute x) {
                    assertFalse(executing.containsKey(x.key()), "second Execute for " + x.key() + " while running");
                    for (Object d : x.dependencies().keySet()) {
                        assertTrue(s.hasData(d), "executing with " + d + " not in memory");
                    }
                    executing.put(x.key(), x.stimulusId());
                } else if (i instanceof Instruction.GatherDep g) {
                    assertFalse(gathering.containsKey(g.worker()), "second GatherDep to " + g.worker());
                    assertFalse(g.keys().isEmpty());
                    gathering.put(g.worker(), g.keys());
                } else if (i instanceof Instruction.RetryBusyWorkerLater r) {
                    busy.add(r.worker());
                }
            }
        };
        java.util.function.Function<String, Object> value = name -> {
            Object v = new String(name);
            handedIn.add(v);
            return v;
        };

        for (int step = 0; step < steps; step++) {
            String id = "s" + sid[0]++;
            int ki = rnd.nextInt(KEYS);
            String key = "k" + ki;
            List<Instruction> out;
            switch (rnd.nextInt(14)) {
                case 0, 1, 2 -> {
                    Map<Object, List<String>> whoHas = new HashMap<>();
                    Map<Object, Long> nbytes = new HashMap<>();
                    int ndeps = rnd.nextInt(3);
                    for (int d = 0; d < ndeps; d++) {
                        if (ki == 0) {
                            break;
                        }
                        String dep = "k" + rnd.nextInt(ki); // graphs are acyclic: depend on lower keys only
                        List<String> holders = new ArrayList<>();
                        if (s.hasData(dep) && rnd.nextBoolean()) {
                            holders.add(ME);
                        }
                        for (String p : PEERS) {
                            if (rnd.nextInt(3) > 0) {
                                holders.add(p);
                            }
                        }
                        if (holders.isEmpty()) {
                            holders.add(PEERS.get(0));
                        }
                        whoHas.put(dep, holders);
                        dependents.computeIfAbsent(dep, x -> new LinkedHashSet<>()).add(key);
                        nbytes.put(dep, (long) rnd.nextInt(400));
                    }
                    Map<String, Double> restr = rnd.nextInt(3) == 0 ? Map.of("java", 1.0) : Map.of();
                    out = s.handle(new Event.ComputeTask(key, List.of((long) rnd.nextInt(3), 1L, (long) step), 0.5,
                            whoHas, nbytes, "spec", restr, -1, id));
                }
                case 3 -> {
                    // A scheduler frees a key only once no task it placed here still needs it.
                    if (dependents.getOrDefault(key, Set.of()).stream().anyMatch(d -> s.stateOf(d) != null
                            && scheduledHere.contains(s.stateOf(d)))) {
                        continue;
                    }
                    out = s.handle(new Event.FreeKeys(List.of(key), id));
                }
                case 4 -> out = s.handle(new Event.StealRequest(key, id));
                case 5 -> out = s.handle(new Event.CancelCompute(key, id));
                case 6, 7 -> {
                    if (executing.isEmpty()) {
                        continue;
                    }
                    Object k = new ArrayList<>(executing.keySet()).get(rnd.nextInt(executing.size()));
                    executing.remove(k);
                    out = rnd.nextInt(4) > 0
                            ? s.handle(new Event.ExecuteSuccess(k, value.apply("v-" + k), rnd.nextInt(300), null, "int",
                            1, 2, 1, id))
                            : s.handle(new Event.ExecuteFailure(k, "err", null, "err", "", 1, 2, 1, id));
                }
                case 8, 9 -> {
                    if (gathering.isEmpty()) {
                        continue;
                    }
                    String w = new ArrayList<>(gathering.keySet()).get(rnd.nextInt(gathering.size()));
                    List<Object> keys = gathering.remove(w);
                    int outcome = rnd.nextInt(6);
                    if (outcome <= 2) {
                        Map<Object, Object> data = new HashMap<>();
                        for (Object k : keys) {
                            if (outcome > 0 || rnd.nextBoolean()) {
                                data.put(k, value.apply("f-" + k));
                            }
                        }
                        out = s.handle(new Event.GatherDepSuccess(w, data, Map.of(), id));
                    } else if (outcome == 3) {
                        out = s.handle(new Event.GatherDepBusy(w, id));
                    } else if (outcome == 4) {
                        out = s.handle(new Event.GatherDepNetworkFailure(w, id));
                    } else {
                        out = s.handle(new Event.GatherDepFailure(w, "bad", "bad", id));
                    }
                }
                case 10 -> {
                    if (busy.isEmpty()) {
                        continue;
                    }
                    String w = busy.iterator().next();
                    busy.remove(w);
                    out = s.handle(new Event.RetryBusyWorker(w, id));
                }
                case 11 -> out = rnd.nextBoolean() ? s.handle(new Event.FindMissing(id))
                        : s.handle(new Event.RefreshWhoHas(Map.of(key, rnd.nextBoolean() ? List.of(PEERS.get(1))
                        : List.of()), id));
                case 12 -> out = s.stateOf(key) != null ? List.of() : switch (rnd.nextInt(3)) {
                    case 0 -> s.handle(new Event.AcquireReplicas(Map.of(key, List.of(PEERS.get(rnd.nextInt(2)))),
                            Map.of(key, 10L), id));
                    case 1 -> s.handle(new Event.RemoveReplicas(List.of(key), id));
                    default -> s.handle(new Event.UpdateData(Map.of(key, value.apply("u-" + key)), Map.of(key, 7L),
                            rnd.nextBoolean(), id));
                };
                default -> out = s.handle(new Event.WorkerStatusChange(rnd.nextInt(3) == 0 ? "paused" : "running", id));
            }
            absorb.accept(out);
        }

        // Drain: run normally, finish everything outstanding, then free every key.
        absorb.accept(s.handle(new Event.WorkerStatusChange("running", "drain")));
        for (int round = 0; round < 100 && (!executing.isEmpty() || !gathering.isEmpty() || !busy.isEmpty()); round++) {
            for (Object k : new ArrayList<>(executing.keySet())) {
                executing.remove(k);
                absorb.accept(s.handle(new Event.ExecuteSuccess(k, value.apply("d-" + k), 1, null, "int", 1, 2, 1,
                        "drain")));
            }
            for (String w : new ArrayList<>(gathering.keySet())) {
                List<Object> keys = gathering.remove(w);
                Map<Object, Object> data = new HashMap<>();
                keys.forEach(k -> data.put(k, value.apply("g-" + k)));
                absorb.accept(s.handle(new Event.GatherDepSuccess(w, data, Map.of(), "drain")));
            }
            for (String w : new ArrayList<>(busy)) {
                busy.remove(w);
                absorb.accept(s.handle(new Event.RetryBusyWorker(w, "drain")));
            }
        }
        for (int round = 0; round < 5 && s.taskCount() > 0; round++) {
            List<Object> all = new ArrayList<>(s.states().keySet());
            absorb.accept(s.handle(new Event.FreeKeys(all, "free-all")));
            for (Object k : new ArrayList<>(executing.keySet())) {
                executing.remove(k);
                absorb.accept(s.handle(new Event.ExecuteSuccess(k, value.apply("z-" + k), 1, null, "int", 1, 2, 1,
                        "drain")));
            }
            for (String w : new ArrayList<>(gathering.keySet())) {
                gathering.remove(w);
                absorb.accept(s.handle(new Event.GatherDepNetworkFailure(w, "drain")));
            }
        }
        assertEquals(0, s.taskCount(), () -> "left: " + s.states());
        for (Object v : handedIn) {
            Integer n = released.get(v);
            if (n == null || n != 1) {
                fail("value " + v + " released " + n + " times");
            }
        }
    }
}
