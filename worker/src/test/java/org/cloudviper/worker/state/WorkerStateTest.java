package org.cloudviper.worker.state;

import org.cloudviper.protocol.message.StartStop;
import org.cloudviper.protocol.message.WorkerToScheduler;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker state machine driven by events alone, as distributed's test_worker_state_machine.py
 * does: each test feeds events and compares the instructions that come out. Validation runs after
 * every event, and every value handed to the state must be released exactly once by the end.
 */
class WorkerStateTest {
    static final String ME = "tcp://127.0.0.1:1000";
    static final String PEER = "tcp://127.0.0.1:2000";
    static final String PEER2 = "tcp://127.0.0.2:3000";

    /** Values are strings; the release callback counts each one. */
    final Map<Object, Integer> released = new HashMap<>();
    final List<Object> handedIn = new ArrayList<>();

    WorkerState state(int nthreads, Map<String, Double> resources) {
        return new WorkerState(ME, nthreads, resources, WorkerState.Limits.defaults(0),
                v -> released.merge(v, 1, Integer::sum)).validating(true);
    }

    WorkerState state() {
        return state(1, Map.of("java", 1.0));
    }

    Object value(String s) {
        Object v = new String(s); // distinct identity per value
        handedIn.add(v);
        return v;
    }

    @AfterEach
    void eachValueReleasedAtMostOnce() {
        released.forEach((v, n) -> assertEquals(1, n, "released " + n + " times: " + v));
    }

    static Event.ComputeTask compute(String key, String sid) {
        return compute(key, List.of(0L, 1L, 0L), Map.of(), Map.of(), sid);
    }

    static Event.ComputeTask compute(String key, List<Number> priority, Map<Object, List<String>> whoHas,
                                     Map<String, Double> restrictions, String sid) {
        Map<Object, Long> nbytes = new HashMap<>();
        whoHas.keySet().forEach(k -> nbytes.put(k, 100L));
        return new Event.ComputeTask(key, priority, 0.5, whoHas, nbytes, "spec-" + key, restrictions, -1, sid);
    }

    Event.ExecuteSuccess success(String key, String sid) {
        return new Event.ExecuteSuccess(key, value("value-" + key), 8, new byte[]{1}, "float", 1.0, 2.0, 7, sid);
    }

    static <T extends Instruction> T only(List<Instruction> out, Class<T> type) {
        assertEquals(1, out.size(), "instructions: " + out);
        return assertInstanceOf(type, out.get(0));
    }

    /** The instruction that sends {@code m} to the scheduler. */
    static Instruction sent(WorkerToScheduler m) {
        return new Instruction.Send(m);
    }

    /** The one instruction of {@code out}, a message of {@code type} to the scheduler. */
    static <T extends WorkerToScheduler> T onlySent(List<Instruction> out, Class<T> type) {
        return assertInstanceOf(type, only(out, Instruction.Send.class).message());
    }

    /** The messages of {@code type} to the scheduler among {@code out}, in order. */
    static <T extends WorkerToScheduler> List<T> sentOf(List<Instruction> out, Class<T> type) {
        List<T> r = new ArrayList<>();
        for (Instruction i : out) {
            if (i instanceof Instruction.Send s && type.isInstance(s.message())) {
                r.add(type.cast(s.message()));
            }
        }
        return r;
    }

    @Test
    void shortTasksArePrefetchedAndALongOneEndsIt() {
        WorkerState s = state(2, Map.of());
        List<Instruction> first = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            first.addAll(s.handle(compute("t" + i, "s" + i)));
        }
        assertEquals(2, first.stream().filter(i -> i instanceof Instruction.Execute).count(),
                "before any duration is known, one task per thread");
        // t0 took 10 us: each thread may now hold up to 1 ms of such tasks, at most 16.
        List<Instruction> out = s.handle(new Event.ExecuteSuccess("t0", value("v0"), 8, new byte[]{1}, "int",
                1.0, 1.00001, 7, "done-0"));
        List<Object> started = out.stream().filter(i -> i instanceof Instruction.Execute)
                .map(i -> ((Instruction.Execute) i).key()).toList();
        assertEquals(2 * ExecutionSlots.MAX_PREFETCH_PER_THREAD - 1, started.size(), "prefetched: " + started);
        assertEquals(2 * ExecutionSlots.MAX_PREFETCH_PER_THREAD, s.executingCount());
        // A 1 s task raises the mean past the threshold: nothing new starts until the pool drains.
        out = s.handle(new Event.ExecuteSuccess("t1", value("v1"), 8, new byte[]{1}, "int", 1.0, 2.0, 7, "done-1"));
        assertTrue(out.stream().noneMatch(i -> i instanceof Instruction.Execute), "instructions: " + out);
        assertEquals(2 * ExecutionSlots.MAX_PREFETCH_PER_THREAD - 1, s.executingCount());
    }

    @Test
    void computeExecuteFinishFree() {
        WorkerState s = state();
        Instruction.Execute x = only(s.handle(compute("x", "s1")), Instruction.Execute.class);
        assertEquals("x", x.key());
        assertEquals("spec-x", x.runSpec());
        assertEquals(Map.of(), x.dependencies());
        assertEquals("s1", x.stimulusId());
        assertEquals(TaskStatus.EXECUTING, s.stateOf("x"));

        WorkerToScheduler.TaskFinished f = onlySent(s.handle(success("x", "s2")), WorkerToScheduler.TaskFinished.class);
        assertEquals("x", f.key());
        assertEquals(8, f.nbytes());
        assertEquals("float", f.typename());
        assertEquals(7L, f.thread());
        assertEquals(List.of(new StartStop("compute", 1.0, 2.0)), f.startstops());
        assertEquals(-1, f.runId());
        assertEquals("s2", f.stimulusId());
        assertTrue(s.hasData("x"));
        assertEquals(8, s.managedBytes());

        // Distributed's worker would echo release-worker-data; the scheduler ignores it (see freedByScheduler).
        assertEquals(List.of(), s.handle(new Event.FreeKeys(List.of("x"), "s3")));
        assertNull(s.stateOf("x"));
        assertEquals(0, s.managedBytes());
        assertEquals(1, released.size());
    }

    @Test
    void dependencyIsFetchedFromItsHolderThenTheTaskRuns() {
        WorkerState s = state();
        List<Instruction> out = s.handle(compute("y", List.of(0L, 1L, 0L), Map.of("x", List.of(PEER)), Map.of(), "s1"));
        Instruction.GatherDep g = only(out, Instruction.GatherDep.class);
        assertEquals(PEER, g.worker());
        assertEquals(List.of("x"), g.keys());
        assertEquals(100, g.totalNbytes());
        assertEquals(TaskStatus.FLIGHT, s.stateOf("x"));
        assertEquals(TaskStatus.WAITING, s.stateOf("y"));

        Object vx = value("x-data");
        out = s.handle(new Event.GatherDepSuccess(PEER, Map.of("x", vx), Map.of("x", 80L), "s2"));
        assertEquals(2, out.size(), out.toString());
        assertEquals(sent(new WorkerToScheduler.AddKeys(List.of("x"), "s2")), out.get(0));
        Instruction.Execute x = assertInstanceOf(Instruction.Execute.class, out.get(1));
        assertEquals(Map.of("x", vx), x.dependencies());
        assertEquals(80, s.managedBytes());

        onlySent(s.handle(success("y", "s3")), WorkerToScheduler.TaskFinished.class);
        // The scheduler releases the dependency once y is done, then y.
        assertEquals(List.of(), s.handle(new Event.FreeKeys(List.of("x"), "s4")));
        assertEquals(List.of(), s.handle(new Event.FreeKeys(List.of("y"), "s5")));
        assertEquals(0, s.taskCount());
        assertEquals(2, released.size());
    }

    @Test
    void ownAddressInWhoHasIsIgnored() {
        WorkerState s = state();
        only(s.handle(compute("x", "s1")), Instruction.Execute.class);
        onlySent(s.handle(success("x", "s2")), WorkerToScheduler.TaskFinished.class);
        Instruction.Execute x = only(s.handle(compute("y", List.of(0L, 1L, 1L), Map.of("x", List.of(ME)), Map.of(),
                "s3")), Instruction.Execute.class);
        assertEquals(List.of("x"), new ArrayList<>(x.dependencies().keySet()));
    }

    @Test
    void keysFromOnePeerGoInOneGatherDep() {
        WorkerState s = state();
        Event.ComputeTask c = new Event.ComputeTask("z", List.of(0L), 0.5,
                Map.of("a", List.of(PEER), "b", List.of(PEER)), Map.of("a", 10L, "b", 10L), "spec", Map.of(), -1, "s1");
        Instruction.GatherDep g = only(s.handle(c), Instruction.GatherDep.class);
        assertEquals(PEER, g.worker());
        assertEquals(2, g.keys().size());
        assertEquals(20, g.totalNbytes());
    }

    @Test
    void busyPeerIsRetriedLaterAndSchedulerAskedForOthers() {
        WorkerState s = state();
        s.handle(compute("y", List.of(0L), Map.of("x", List.of(PEER)), Map.of(), "s1"));
        List<Instruction> out = s.handle(new Event.GatherDepBusy(PEER, "s2"));
        assertEquals(List.of(new Instruction.RetryBusyWorkerLater(PEER, "s2"),
                sent(new WorkerToScheduler.RequestRefreshWhoHas(List.of("x"), "s2"))), out);
        assertEquals(TaskStatus.FETCH, s.stateOf("x"));
        Instruction.GatherDep g = only(s.handle(new Event.RetryBusyWorker(PEER, "s3")), Instruction.GatherDep.class);
        assertEquals(PEER, g.worker());
    }

    @Test
    void lostPeerMakesKeyMissingUntilTheSchedulerNamesAnother() {
        WorkerState s = state();
        s.handle(compute("y", List.of(0L), Map.of("x", List.of(PEER)), Map.of(), "s1"));
        assertEquals(List.of(), s.handle(new Event.GatherDepNetworkFailure(PEER, "s2")));
        assertEquals(TaskStatus.MISSING, s.stateOf("x"));
        assertEquals(List.of(sent(new WorkerToScheduler.RequestRefreshWhoHas(List.of("x"), "s3"))),
                s.handle(new Event.FindMissing("s3")));
        Instruction.GatherDep g = only(s.handle(new Event.RefreshWhoHas(Map.of("x", List.of(PEER2)), "s4")),
                Instruction.GatherDep.class);
        assertEquals(PEER2, g.worker());
        assertEquals(TaskStatus.FLIGHT, s.stateOf("x"));
    }

    @Test
    void peerWithoutTheKeyIsDroppedFromItsHolders() {
        WorkerState s = state();
        s.handle(compute("y", List.of(0L), Map.of("x", List.of(PEER, PEER2)), Map.of(), "s1"));
        // Both hold x; one GatherDep goes out (local peer first on a tie: same host as ME).
        List<Instruction> none = s.handle(new Event.GatherDepSuccess(PEER, Map.of(), Map.of(), "s2"));
        Instruction.GatherDep g = only(none, Instruction.GatherDep.class);
        assertEquals(PEER2, g.worker());
    }

    @Test
    void stealRequestReleasesAWaitingTaskButNotARunningOne() {
        WorkerState s = state();
        s.handle(compute("y", List.of(0L), Map.of("x", List.of(PEER)), Map.of(), "s1"));
        List<Instruction> out = s.handle(new Event.StealRequest("y", "s2"));
        assertEquals(sent(new WorkerToScheduler.StealResponse("y", "waiting", "s2")), out.get(0));
        assertNull(s.stateOf("y"));
        assertEquals(TaskStatus.CANCELLED, s.stateOf("x")); // in flight: wait for the fetch to end

        only(s.handle(compute("z", "s3")), Instruction.Execute.class);
        assertEquals(List.of(sent(new WorkerToScheduler.StealResponse("z", "executing", "s4"))),
                s.handle(new Event.StealRequest("z", "s4")));
        assertEquals(TaskStatus.EXECUTING, s.stateOf("z"));
        assertEquals(List.of(sent(new WorkerToScheduler.StealResponse("nope", null, "s5"))),
                s.handle(new Event.StealRequest("nope", "s5")));

        // The cancelled fetch returns: its data is dropped, nobody is told.
        Object vx = value("x");
        assertEquals(List.of(), s.handle(new Event.GatherDepSuccess(PEER, Map.of("x", vx), Map.of(), "s6")));
        assertNull(s.stateOf("x"));
        assertEquals(1, released.get(vx));
    }

    @Test
    void cancelComputeOnlyBeforeItRuns() {
        WorkerState s = state(1, Map.of());
        only(s.handle(compute("a", "s1")), Instruction.Execute.class);
        assertEquals(List.of(), s.handle(compute("b", List.of(1L), Map.of(), Map.of(), "s2")));
        assertEquals(TaskStatus.READY, s.stateOf("b"));
        assertEquals(List.of(), s.handle(new Event.CancelCompute("b", "s3")));
        assertNull(s.stateOf("b"));
        assertEquals(List.of(), s.handle(new Event.CancelCompute("a", "s4")));
        assertEquals(TaskStatus.EXECUTING, s.stateOf("a"));
    }

    @Test
    void freedWhileRunningTheResultIsDropped() {
        WorkerState s = state();
        only(s.handle(compute("x", "s1")), Instruction.Execute.class);
        assertEquals(List.of(), s.handle(new Event.FreeKeys(List.of("x"), "s2")));
        assertEquals(TaskStatus.CANCELLED, s.stateOf("x"));
        Event.ExecuteSuccess done = success("x", "s3");
        assertEquals(List.of(), s.handle(done));
        assertNull(s.stateOf("x"));
        assertEquals(1, released.get(done.value()));
    }

    @Test
    void freedThenAskedAgainWhileRunningKeepsTheRun() {
        WorkerState s = state();
        only(s.handle(compute("x", "s1")), Instruction.Execute.class);
        s.handle(new Event.FreeKeys(List.of("x"), "s2"));
        assertEquals(List.of(), s.handle(compute("x", "s3")));
        assertEquals(TaskStatus.EXECUTING, s.stateOf("x"));
        onlySent(s.handle(success("x", "s4")), WorkerToScheduler.TaskFinished.class);
    }

    @Test
    void resourcesLimitConcurrency() {
        WorkerState s = state(2, Map.of("java", 1.0));
        Map<String, Double> java = Map.of("java", 1.0);
        only(s.handle(compute("a", List.of(0L), Map.of(), java, "s1")), Instruction.Execute.class);
        assertEquals(List.of(), s.handle(compute("b", List.of(0L), Map.of(), java, "s2")));
        assertEquals(TaskStatus.CONSTRAINED, s.stateOf("b"));
        assertEquals(0.0, s.availableResources().get("java"));
        // An unrestricted task uses the second thread.
        only(s.handle(compute("c", "s3")), Instruction.Execute.class);
        List<Instruction> out = s.handle(success("a", "s4"));
        assertEquals(2, out.size(), out.toString());
        assertEquals("b", assertInstanceOf(Instruction.Execute.class, out.get(0)).key());
        assertInstanceOf(WorkerToScheduler.TaskFinished.class, ((Instruction.Send) out.get(1)).message());
    }

    @Test
    void higherPriorityRunsFirst() {
        WorkerState s = state(1, Map.of());
        only(s.handle(compute("busy", "s0")), Instruction.Execute.class);
        s.handle(compute("low", List.of(0L, 1L, 5L), Map.of(), Map.of(), "s1"));
        s.handle(compute("high", List.of(-1L, 1L, 9L), Map.of(), Map.of(), "s2"));
        s.handle(compute("mid", List.of(0L, 1L, 2L), Map.of(), Map.of(), "s3"));
        List<Object> order = new ArrayList<>();
        String running = "busy";
        for (int i = 0; i < 3; i++) {
            List<Instruction> out = s.handle(success(running, "d" + i));
            running = (String) assertInstanceOf(Instruction.Execute.class, out.get(0)).key();
            order.add(running);
        }
        assertEquals(List.of("high", "mid", "low"), order);
    }

    @Test
    void pausedWorkerRunsNothingUntilResumed() {
        WorkerState s = state();
        assertEquals(List.of(sent(new WorkerToScheduler.WorkerStatusChange("paused", "s1"))),
                s.handle(new Event.WorkerStatusChange("paused", "s1")));
        assertEquals(List.of(), s.handle(compute("x", "s2")));
        assertEquals(TaskStatus.READY, s.stateOf("x"));
        List<Instruction> out = s.handle(new Event.WorkerStatusChange("running", "s3"));
        assertEquals(sent(new WorkerToScheduler.WorkerStatusChange("running", "s3")), out.get(0));
        assertEquals("x", assertInstanceOf(Instruction.Execute.class, out.get(1)).key());
    }

    /**
     * Retirement: the scheduler pushes closing_gracefully; the worker echoes it, starts nothing new,
     * keeps its data; a retirement called off gives back "running" and the ready task runs.
     */
    @Test
    void closingGracefullyWorkerStartsNothingAndKeepsItsData() {
        WorkerState s = state();
        s.handle(compute("x", "s0"));
        onlySent(s.handle(success("x", "s1")), WorkerToScheduler.TaskFinished.class);
        assertEquals(List.of(sent(new WorkerToScheduler.WorkerStatusChange("closing_gracefully", "r1"))),
                s.handle(new Event.WorkerStatusChange("closing_gracefully", "r1")));
        assertEquals("closing_gracefully", s.status());
        assertEquals(List.of(), s.handle(compute("y", "s2")));
        assertEquals(TaskStatus.READY, s.stateOf("y"));
        assertEquals(TaskStatus.MEMORY, s.stateOf("x"));
        List<Instruction> out = s.handle(new Event.WorkerStatusChange("running", "r2"));
        assertEquals(sent(new WorkerToScheduler.WorkerStatusChange("running", "r2")), out.get(0));
        assertEquals("y", assertInstanceOf(Instruction.Execute.class, out.get(1)).key());
    }

    @Test
    void failureIsReportedAndRepeatedOnRequest() {
        WorkerState s = state();
        s.handle(compute("x", "s1"));
        WorkerToScheduler.TaskErred e = onlySent(s.handle(new Event.ExecuteFailure("x", "boom", null, "RuntimeError('boom')",
                "tb", 1.0, 2.0, 3, "s2")), WorkerToScheduler.TaskErred.class);
        assertEquals("boom", e.exception());
        assertEquals("RuntimeError('boom')", e.exceptionText());
        assertEquals("tb", e.tracebackText());
        assertEquals(TaskStatus.ERROR, s.stateOf("x"));
        WorkerToScheduler.TaskErred again = onlySent(s.handle(compute("x", "s3")), WorkerToScheduler.TaskErred.class);
        assertEquals("s3", again.stimulusId());
        assertEquals(List.of(), s.handle(new Event.FreeKeys(List.of("x"), "s4")));
        assertNull(s.stateOf("x"));
    }

    @Test
    void scatteredDataIsHeldServedAndReleased() {
        WorkerState s = state();
        Object v = value("scattered");
        assertEquals(List.of(sent(new WorkerToScheduler.AddKeys(List.of("d"), "s1"))),
                s.handle(new Event.UpdateData(Map.of("d", v), Map.of("d", 5L), true, "s1")));
        assertTrue(s.hasData("d"));
        assertEquals(5L, s.nbytes("d"));
        assertEquals(List.of(), s.handle(new Event.UpdateData(Map.of("e", value("e")), Map.of(), false, "s2")));
        // A task on scattered data runs at once.
        Instruction.Execute x = only(s.handle(compute("t", List.of(0L), Map.of("d", List.of(ME)), Map.of(), "s3")),
                Instruction.Execute.class);
        assertEquals(Map.of("d", v), x.dependencies());
    }

    @Test
    void replicasAcquiredAndRemoved() {
        WorkerState s = state();
        Instruction.GatherDep g = only(s.handle(new Event.AcquireReplicas(Map.of("r", List.of(PEER)),
                Map.of("r", 10L), "s1")), Instruction.GatherDep.class);
        assertEquals(List.of("r"), g.keys());
        assertEquals(List.of(sent(new WorkerToScheduler.AddKeys(List.of("r"), "s2"))),
                s.handle(new Event.GatherDepSuccess(PEER, Map.of("r", value("r")), Map.of(), "s2")));
        assertEquals(List.of(sent(new WorkerToScheduler.ReleaseWorkerData("r", "s3"))),
                s.handle(new Event.RemoveReplicas(List.of("r"), "s3")));
        assertNull(s.stateOf("r"));

        // A replica a waiting task needs is kept, and the scheduler is told so.
        s.handle(new Event.UpdateData(Map.of("k", value("k")), Map.of(), false, "s4"));
        s.handle(compute("busy", "s5"));
        s.handle(compute("needs-k", List.of(0L), Map.of("k", List.of(ME)), Map.of(), "s6"));
        assertEquals(List.of(sent(new WorkerToScheduler.AddKeys(List.of("k"), "s7"))),
                s.handle(new Event.RemoveReplicas(List.of("k"), "s7")));
        assertTrue(s.hasData("k"));
        assertEquals(List.of(), s.handle(new Event.RemoveReplicas(List.of("unknown"), "s8")));
    }

    @Test
    void taskCountsAddUp() {
        WorkerState s = state();
        s.handle(compute("a", "s1"));
        s.handle(compute("b", List.of(0L), Map.of("x", List.of(PEER)), Map.of(), "s2"));
        Map<String, Long> c = s.taskCounts();
        assertEquals(1, c.get("executing"));
        assertEquals(1, c.get("waiting"));
        assertEquals(1, c.get("flight"));
        assertEquals(0, c.get("other"));
        assertEquals(List.of("executing", "long-running", "memory", "ready", "constrained", "waiting", "fetch",
                "missing", "flight", "other"), new ArrayList<>(c.keySet()));
        assertFalse(s.story(List.of("a")).isEmpty());
    }

    /**
     * distributed's WorkerState.story, as get_story returns it: tuples ending in stimulus id and time.
     * The entries for x are, but for the times, what distributed 2022.12.1's and 2024.12.1's
     * WorkerState log for the same three events.
     */
    @Test
    void storyHasDasksShapeAndSelectsByKeyOrStimulus() {
        WorkerState s = state();
        s.handle(100.5, compute("x", "s1"));
        s.handle(101.0, success("x", "s2"));
        s.handle(102.0, new Event.FreeKeys(List.of("x"), "s3"));
        assertEquals(List.of(
                List.of("x", "compute-task", "released", "s1", 100.5),
                List.of("x", "released", "waiting", "waiting", Map.of("x", "ready"), "s1", 100.5),
                List.of("x", "waiting", "ready", "ready", Map.of("x", "executing"), "s1", 100.5),
                List.of("x", "ready", "executing", "executing", Map.of(), "s1", 100.5),
                List.of("x", "put-in-memory", "s2", 101.0),
                List.of("x", "executing", "memory", "memory", Map.of(), "s2", 101.0),
                List.of("free-keys", List.of("x"), "s3", 102.0),
                List.of("x", "memory", "released", "released", Map.of("x", "forgotten"), "s3", 102.0),
                List.of("x", "released", "forgotten", "forgotten", Map.of(), "s3", 102.0)),
                s.story(List.of("x")));
        assertEquals(List.of(List.of("x", "put-in-memory", "s2", 101.0),
                        List.of("x", "executing", "memory", "memory", Map.of(), "s2", 101.0)),
                s.story(List.of("s2")));
        assertEquals(List.of(), s.story(List.of("y", "s4")));

        // A tuple key is mentioned by itself and, as in distributed._stories.worker_story, by its parts.
        s.handle(103.0, new Event.UpdateData(Map.of(List.of("t", 1L), value("t")), Map.of(), false, "s5"));
        List<Object> scatter = List.of(List.of("t", 1L), "receive-from-scatter", "s5", 103.0);
        assertTrue(s.story(List.of(List.of("t", 1L))).contains(scatter), s.story(List.of(List.of("t", 1L))).toString());
        assertTrue(s.story(List.of("t")).contains(scatter));
        s.releaseAll();
    }

    @Test
    void releaseAllFreesEveryValue() {
        WorkerState s = state();
        s.handle(new Event.UpdateData(Map.of("a", value("a"), "b", value("b")), Map.of(), false, "s1"));
        s.releaseAll();
        assertEquals(2, released.size());
    }
}
