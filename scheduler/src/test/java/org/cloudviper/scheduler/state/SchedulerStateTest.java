package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.cloudviper.scheduler.state.SimCluster.address;
import static org.cloudviper.scheduler.state.SimCluster.keys;
import static org.cloudviper.scheduler.state.SimCluster.task;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Example-based tests of {@link SchedulerState}: each event is followed by {@code validate()} (see
 * {@link SimCluster}), and every message the state sends must be asserted or handed to a simulated
 * peer — {@link #nothingLeftUnasserted()} fails the test otherwise. Expected behaviour is
 * distributed/scheduler.py 2022.12.1.
 */
class SchedulerStateTest {
    private static final String A = address("a");
    private static final String B = address("b");
    private static final String C1 = "Client-1";
    private static final String C2 = "Client-2";

    private SimCluster c;

    private SimCluster cluster() {
        c = new SimCluster();
        return c;
    }

    /** Explicit mode: messages stay in the outbox until the test asserts them. */
    private SimCluster explicitCluster() {
        c = new SimCluster();
        c.autoDeliver = false;
        return c;
    }

    @AfterEach
    void nothingLeftUnasserted() {
        if (c != null) {
            c.state.validate();
            c.out.assertEmpty();
        }
    }

    private static List<GraphUpdate.NewTask> list(GraphUpdate.NewTask... tasks) {
        return List.of(tasks);
    }

    // ------------------------------------------------------------------------------------------
    // One task: compute-task, task-finished, client-releases-keys
    // ------------------------------------------------------------------------------------------

    @Test
    void submitSendsComputeTaskWithSpecAndPriority() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x", SimCluster.priority(5)));

        SchedulerToWorker.ComputeTask ct = c.out.takeCompute(A, "x");
        assertArrayEquals(SimCluster.FUNCTION, (byte[]) ct.spec().function());
        assertArrayEquals("args-x".getBytes(StandardCharsets.UTF_8), (byte[]) ct.spec().args());
        assertNull(ct.spec().kwargs());
        assertNull(ct.spec().runSpec());
        assertEquals(3, ct.priority().size());
        assertEquals(-5, ct.priority().get(0).longValue(), "-user priority first");
        assertTrue(ct.priority().get(1).longValue() >= 1, "generation");
        assertEquals(0, ct.priority().get(2).longValue(), "the client's order");
        assertEquals(Map.of(), ct.whoHas());
        assertEquals(Map.of(), ct.nbytes());
        assertEquals(Map.of("priority", 5L), ct.annotations());
        assertEquals("processing", c.state.queries().taskStatus("x"));
    }

    /**
     * A dataset (or client) may want a key before the graph that computes it arrives: publish_put is an
     * RPC and can overtake the client's stream. The placeholder must take the graph's spec and run,
     * not err as lost scattered data.
     */
    @Test
    void keyWantedBeforeItsGraphArrivesIsComputed() {
        explicitCluster();
        c.addWorker("a", 1);
        c.clientDesiresKeys(C1, List.of("x"));
        assertEquals("released", c.state.queries().taskStatus("x"));
        c.submit(C1, task("x"));

        SchedulerToWorker.ComputeTask ct = c.out.takeCompute(A, "x");
        assertArrayEquals("args-x".getBytes(StandardCharsets.UTF_8), (byte[]) ct.spec().args());
        c.taskFinished(A, "x", 28);
        c.out.expectInMemory(C1, "x");
        assertEquals("memory", c.state.queries().taskStatus("x"));
    }

    @Test
    void dependencyComesWithWhoHasAndNbytes() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.out.takeCompute(A, "x");
        c.submit(C1, task("y", "x"));
        c.out.assertEmpty(); // y waits for x
        assertEquals("waiting", c.state.queries().taskStatus("y"));

        c.taskFinished(A, "x", 123);
        SchedulerToClient.KeyInMemory kim = c.out.expectInMemory(C1, "x");
        assertArrayEquals(SimCluster.RESULT_TYPE, kim.type());
        SchedulerToWorker.ComputeTask ct = c.out.takeCompute(A, "y");
        assertEquals(Map.of("x", List.of(A)), ct.whoHas());
        assertEquals(Map.of("x", 123L), ct.nbytes());
        assertEquals(0, ct.priority().get(2).longValue(), "submit's order");
    }

    @Test
    void taskFinishedReportsKeyInMemoryAndReleaseFreesAndForgets() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.out.takeCompute(A, "x");
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C1, "x");
        assertEquals("memory", c.state.queries().taskStatus("x"));
        assertEquals(Map.of("x", List.of(A)), c.state.queries().whoHas(List.of("x")));

        c.clientReleasesKeys(C1, List.of("x"));
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertNull(c.state.queries().taskStatus("x"), "forgotten");
        assertEquals(0, c.state.queries().taskCount());
        assertEquals(Map.of(A, List.of()), c.state.queries().hasWhat(null));
    }

    @Test
    void releasedInputIsKeptAsLineageUntilItsDependentIsForgotten() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.out.takeCompute(A, "x");
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C1, "x");
        c.submit(C1, task("y", "x"));
        c.out.takeCompute(A, "y");
        c.taskFinished(A, "y", 8);
        c.out.expectInMemory(C1, "y");

        // Dask: memory -> released (free-keys) but not forgotten while a dependent lives.
        c.clientReleasesKeys(C1, List.of("x"));
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertEquals("released", c.state.queries().taskStatus("x"));

        assertEquals(0, c.state.queries().forgottenTotal());
        c.clientReleasesKeys(C1, List.of("y"));
        assertEquals(Set.of("y"), c.out.takeFreed(A));
        assertNull(c.state.queries().taskStatus("y"));
        assertNull(c.state.queries().taskStatus("x"));
        assertEquals(2, c.state.queries().forgottenTotal(), "counted for dask_scheduler_tasks_forgotten");
    }

    @Test
    void releasingAProcessingTaskFreesItOnTheWorker() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.out.takeCompute(A, "x");
        c.clientReleasesKeys(C1, List.of("x"));
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertNull(c.state.queries().taskStatus("x"));
        // A late result is not wanted any more: the worker is told to drop it.
        c.taskFinished(A, "x", 8);
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertEquals(0, c.state.queries().taskCount());
    }

    // ------------------------------------------------------------------------------------------
    // Whole graphs on simulated workers
    // ------------------------------------------------------------------------------------------

    /** Submits {@code n} independent tasks inc-0..inc-(n-1) for C1, in that priority order; returns their keys. */
    private List<Object> submitIndependent(int n) {
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        Map<Object, Long> order = new HashMap<>();
        for (int i = 0; i < n; i++) {
            tasks.add(task("inc-" + i));
            keys.add("inc-" + i);
            order.put("inc-" + i, (long) i);
        }
        c.updateGraph(c.graph(C1, tasks, keys, order));
        return keys;
    }

    @Test
    void mapOf100OnTwoSingleThreadWorkersKeepsTwoOutstandingEach() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        SimCluster.SimWorker b = c.addWorker("b", 1);
        List<Object> keys = submitIndependent(100);
        int done = 0;
        while (c.busy()) {
            // saturation 1.1 x 1 thread -> ceil(1.1) = 2 slots per worker, kept full while work is left
            assertTrue(a.running.size() <= 2 && b.running.size() <= 2, a + " " + b);
            assertEquals(Math.min(4, 100 - done), a.running.size() + b.running.size(), "slots refilled at once");
            c.finishOne(done++);
        }
        assertEquals(100, done);
        assertEquals(2, a.peakRunning);
        assertEquals(2, b.peakRunning);
        assertTrue(a.memory.size() >= 25 && b.memory.size() >= 25, "both workers used: " + a.memory.size()
                + "/" + b.memory.size());
        for (Object k : keys) {
            assertEquals("memory", c.state.queries().taskStatus(k));
            assertEquals(1, c.timesComputed(k), "computed once: " + k);
            assertEquals("memory", c.client(C1).last.get(k));
        }
        c.assertQuiescent();
    }

    /** A 1-thread worker (Dask's cap: 2) running tasks of {@code computeSeconds} each, pipeline 5 ms. */
    private int peakRunningWithPipeline(double computeSeconds) {
        c = new SimCluster(1.1, 3, 0.005);
        c.computeSeconds = computeSeconds;
        SimCluster.SimWorker a = c.addWorker("a", 1);
        List<Object> keys = submitIndependent(100);
        assertEquals(2, a.running.size(), "before any duration is known: Dask's cap");
        int done = 0;
        while (c.busy()) {
            c.finishOne(done++);
        }
        assertEquals(100, done);
        for (Object k : keys) {
            assertEquals(1, c.timesComputed(k), "computed once: " + k);
        }
        c.assertQuiescent();
        return a.peakRunning;
    }

    @Test
    void shortTasksArePipelinedToCoverTheRoundTrip() {
        // 1 ms tasks: 5 per thread fill the 5 ms pipeline; 10 us tasks hit the cap of 16 per thread.
        assertEquals(5, peakRunningWithPipeline(0.001));
        assertEquals(Placement.MAX_PIPELINED_PER_THREAD, peakRunningWithPipeline(0.00001));
    }

    @Test
    void aPipeliningWorkerIsRefilledOnceHalfItsQueueHasRun() {
        c = new SimCluster(1.1, 3, 0.005);
        c.computeSeconds = 0.00001; // 10 us: the queue holds MAX_PIPELINED_PER_THREAD per thread
        SimCluster.SimWorker a = c.addWorker("a", 1);
        submitIndependent(1000);
        int full = Placement.MAX_PIPELINED_PER_THREAD;
        int done = 0;
        while (a.running.size() < full) { // the first results teach the scheduler the tasks are short
            c.finishOne(done++);
        }
        int sent = a.received.size();
        for (int i = 0; i < full / 2 - 1; i++) {
            c.finishOne(done++);
            assertEquals(sent, a.received.size(), "no refill while more than half the queue is left");
        }
        assertEquals(full / 2 + 1, a.running.size());
        c.finishOne(done++);
        assertEquals(sent + full / 2, a.received.size(), "half the queue refilled in one go");
        assertEquals(full, a.running.size());
        c.runToCompletion(10_000);
        c.assertQuiescent();
    }

    @Test
    void withinDasksCapAFreeSlotIsRefilledAtOnce() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1); // two slots, no durations known: no pipelining
        submitIndependent(10);
        int sent = a.received.size();
        c.finishOne(0);
        assertEquals(sent + 1, a.received.size());
        assertEquals(2, a.running.size());
        c.runToCompletion(100);
        c.assertQuiescent();
    }

    @Test
    void longOrUnknownTasksKeepDasksCap() {
        assertEquals(2, peakRunningWithPipeline(0.05));
        assertEquals(2, peakRunningWithPipeline(Double.NaN));
    }

    @Test
    void queuedTasksGoOutByPriority() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1); // two slots
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        Map<Object, Long> order = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            tasks.add(i == 7 || i == 8 ? task("t-" + i, SimCluster.priority(10)) : task("t-" + i));
            keys.add("t-" + i);
            order.put("t-" + i, (long) i);
        }
        c.updateGraph(c.graph(C1, tasks, keys, order));
        // Dask queues these root-ish tasks and hands them out best priority first, whatever the
        // order of the client's key list.
        assertEquals(Set.of("t-7", "t-8"), a.running.keySet());
        c.finish(A, "t-8");
        assertEquals(Set.of("t-7", "t-0"), a.running.keySet());
        c.runToCompletion();
        List<Object> sent = new ArrayList<>();
        for (SchedulerToWorker m : a.received) {
            sent.add(((SchedulerToWorker.ComputeTask) m).key());
        }
        assertEquals(List.of("t-0", "t-1", "t-2", "t-3", "t-4", "t-5", "t-6", "t-9"), sent.subList(2, 10));
        c.assertQuiescent();
    }

    @Test
    void olderGraphsGoFirst() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1); // two slots
        List<Object> first = keys("old-0", "old-1", "old-2", "old-3");
        List<Object> second = keys("new-0", "new-1", "new-2");
        c.updateGraph(c.graph(C1, list(task("old-0"), task("old-1"), task("old-2"), task("old-3")), first,
                Map.of("old-0", 0L, "old-1", 1L, "old-2", 2L, "old-3", 3L)));
        // A graph arriving later than fifo_timeout starts a new generation: (-user priority, generation,
        // order) puts every task of the older graph first, though both start their order at 0.
        c.updateGraph(c.graph(C2, list(task("new-0"), task("new-1"), task("new-2")), second,
                Map.of("new-0", 0L, "new-1", 1L, "new-2", 2L)));
        List<Object> sent = new ArrayList<>();
        c.runToCompletion();
        for (SchedulerToWorker m : a.received) {
            sent.add(((SchedulerToWorker.ComputeTask) m).key());
        }
        assertEquals(List.of("old-0", "old-1", "old-2", "old-3", "new-0", "new-1", "new-2"), sent);
        c.assertQuiescent();
    }

    @Test
    void treeReductionFreesIntermediatesAndStaysNarrow() {
        cluster();
        c.trackMemory = true;
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        Map<Object, List<Object>> children = new HashMap<>();
        List<Object> level = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            tasks.add(task("leaf-" + i));
            level.add("leaf-" + i);
        }
        int depth = 0;
        while (level.size() > 1) {
            depth++;
            List<Object> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i += 2) {
                String k = "sum-" + depth + "-" + i / 2;
                tasks.add(task(k, level.get(i), level.get(i + 1)));
                children.put(k, List.of(level.get(i), level.get(i + 1)));
                next.add(k);
            }
            level = next;
        }
        Object root = level.get(0);
        // The client sends leaves last, so only the scheduler's ordering can keep this narrow.
        java.util.Collections.reverse(tasks);
        c.updateGraph(c.graph(C1, tasks, List.of(root), null));
        int steps = 0;
        while (c.busy()) {
            SimCluster.SimWorker w = null;
            for (SimCluster.SimWorker x : c.workers.values()) {
                if (!x.running.isEmpty() && (w == null || steps % 2 == 0)) {
                    w = x;
                }
            }
            Object key = w.running.keySet().iterator().next();
            c.finish(w.address, key);
            steps++;
            if (children.containsKey(key) && !key.equals(root)) {
                for (Object child : children.get(key)) {
                    // Dask: memory -> released (free-keys); kept as lineage until the parent is forgotten.
                    assertEquals("released", c.state.queries().taskStatus(child), child + " after its parent " + key);
                    for (SimCluster.SimWorker x : c.workers.values()) {
                        assertFalse(x.memory.containsKey(child), child + " still on " + x.address);
                    }
                }
            }
        }
        assertEquals(127, steps);
        int bound = 2 * 6 + 2 * 2; // 2*log2(leaves) + workers * slots
        assertTrue(c.peakInMemory <= bound, "peak results in memory " + c.peakInMemory + " > " + bound);
        assertEquals("memory", c.state.queries().taskStatus(root));
        assertEquals(Map.of("memory", 1, "released", 126), c.state.queries().statusCounts());
        c.assertQuiescent();
        c.clientReleasesKeys(C1, List.of(root));
        assertEquals(0, c.state.queries().taskCount(), "the whole lineage forgotten with the root");
        c.assertQuiescent();
    }

    @Test
    void chainOf2000() {
        cluster();
        c.trackMemory = true;
        c.addWorker("a", 2);
        int n = 2000;
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        tasks.add(task("c-0"));
        for (int i = 1; i < n; i++) {
            tasks.add(task("c-" + i, "c-" + (i - 1)));
        }
        Object last = "c-" + (n - 1);
        c.updateGraph(c.graph(C1, tasks, List.of(last), null));
        assertEquals(n, c.runToCompletion());
        assertEquals("memory", c.state.queries().taskStatus(last));
        assertEquals(Map.of("memory", 1, "released", n - 1), c.state.queries().statusCounts());
        assertTrue(c.peakInMemory <= 2, "peak " + c.peakInMemory);
        c.assertQuiescent();
        c.clientReleasesKeys(C1, List.of(last));
        assertEquals(0, c.state.queries().taskCount());
        c.assertQuiescent();
    }

    @Test
    void chainOf2000ErrsAndRetriesWithoutDeepRecursion() {
        cluster();
        c.addWorker("a", 1);
        int n = 2000;
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        tasks.add(task("c-0"));
        for (int i = 1; i < n; i++) {
            tasks.add(task("c-" + i, "c-" + (i - 1)));
        }
        Object last = "c-" + (n - 1);
        c.failing = "c-0"::equals;
        c.updateGraph(c.graph(C1, tasks, List.of(last), null));
        c.runToCompletion();
        assertEquals(Map.of("erred", n), c.state.queries().statusCounts());
        assertEquals("erred", c.client(C1).last.get(last));
        c.failing = k -> false;
        List<Object> retried = c.retry(C1, List.of(last));
        assertEquals(n, retried.size());
        assertEquals(n, c.runToCompletion());
        assertEquals("memory", c.state.queries().taskStatus(last));
        c.clientReleasesKeys(C1, List.of(last));
        assertEquals(0, c.state.queries().taskCount());
        c.assertQuiescent();
    }

    // ------------------------------------------------------------------------------------------
    // Errors, retries, cancel
    // ------------------------------------------------------------------------------------------

    @Test
    void taskErredIsReportedForTheKeyAndForWantedDependents() {
        explicitCluster();
        c.addWorker("a", 1);
        c.addClient(C2);
        c.updateGraph(c.graph(C1, list(task("x"), task("y", "x"), task("z", "y"), task("u", "x")),
                keys("y", "z"), null));
        c.updateGraph(c.graph(C2, list(task("x")), keys("x"), null));
        c.out.takeCompute(A, "x");
        byte[] exc = SimCluster.exception("x");
        byte[] tb = SimCluster.traceback("x");
        c.taskErred(A, "x", exc, tb);
        SchedulerToClient.TaskErred e = c.out.expectErred(C2, "x");
        assertSame(exc, e.exception());
        assertSame(tb, e.traceback());
        Set<Object> erredKeys = new HashSet<>();
        for (SchedulerToClient m : c.out.drainClient(C1)) {
            SchedulerToClient.TaskErred te = assertInstanceOf(SchedulerToClient.TaskErred.class, m);
            assertSame(exc, te.exception(), "the failing task's exception");
            assertSame(tb, te.traceback());
            erredKeys.add(te.key());
        }
        assertEquals(Set.of("y", "z"), erredKeys, "u was culled (nobody wants it)");
        assertEquals("erred", c.state.queries().taskStatus("x"));
        assertEquals("erred", c.state.queries().taskStatus("y"));
        assertEquals("erred", c.state.queries().taskStatus("z"));
        assertNull(c.state.queries().taskStatus("u"));

        // A later request for an erred key is answered at once (report_on_key).
        c.updateGraph(c.graph(C1, list(task("z", "y")), keys("z"), null));
        c.out.expectErred(C1, "z");

        // Dask transition_erred_released: the worker that kept the error is told to forget the key.
        c.clientReleasesKeys(C1, keys("y", "z"));
        c.out.assertEmpty(); // x still wanted by C2
        c.clientReleasesKeys(C2, keys("x"));
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertEquals(0, c.state.queries().taskCount());
    }

    @Test
    void retriesTwoThenSuccess() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x", SimCluster.retries(2)));
        for (int attempt = 0; attempt < 2; attempt++) {
            c.out.takeCompute(A, "x");
            c.taskErred(A, "x", SimCluster.exception("x"), SimCluster.traceback("x"));
            // The worker keeps the key in error until told to forget it; it must forget it first.
            assertEquals(Set.of("x"), c.out.takeFreed(A));
            assertFalse(c.out.hasClientMessage(C1), "no task-erred while retries are left");
        }
        c.out.takeCompute(A, "x");
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C1, "x");
    }

    @Test
    void retriesExhaustedErrs() {
        cluster();
        c.addWorker("a", 1);
        c.failing = k -> true;
        c.submit(C1, task("x", SimCluster.retries(2)));
        assertEquals(3, c.runToCompletion());
        assertEquals("erred", c.state.queries().taskStatus("x"));
        assertEquals(1, c.client(C1).received.size());
        assertEquals("erred", c.client(C1).last.get("x"));
        c.assertQuiescent();
    }

    @Test
    void retryOfAnErredKeyRecomputesIt() {
        explicitCluster();
        c.addWorker("a", 1);
        c.updateGraph(c.graph(C1, list(task("x"), task("y", "x")), keys("x", "y"), null));
        c.out.takeCompute(A, "x");
        c.taskErred(A, "x", SimCluster.exception("x"), SimCluster.traceback("x"));
        c.out.expectErred(C1, "x");
        c.out.expectErred(C1, "y");
        c.out.assertEmpty();

        List<Object> retried = c.retry(C1, keys("y"));
        assertEquals(Set.of("x", "y"), new HashSet<>(retried));
        c.out.expectRetried(C1, "x");
        c.out.expectRetried(C1, "y");
        // The worker still keeps x in error (a Dask worker answers compute-task for such a key with
        // task-erred at once), so it must be told to forget it before it is sent again.
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        c.out.takeCompute(A, "x");
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C1, "x");
        c.out.takeCompute(A, "y");
        c.taskFinished(A, "y", 8);
        c.out.expectInMemory(C1, "y");
    }

    @Test
    void retryWithSimulatedWorkerActuallyRecomputes() {
        cluster();
        c.addWorker("a", 1);
        c.failing = "x"::equals;
        c.updateGraph(c.graph(C1, list(task("x"), task("y", "x")), keys("y"), null));
        c.runToCompletion();
        assertEquals("erred", c.state.queries().taskStatus("y"));
        c.failing = k -> false;
        c.retry(C1, keys("y"));
        c.runToCompletion();
        assertEquals("memory", c.state.queries().taskStatus("y"));
        c.assertQuiescent();
    }

    @Test
    void cancelOfAProcessingTask() {
        explicitCluster();
        c.addWorker("a", 1);
        c.updateGraph(c.graph(C1, list(task("x"), task("y", "x")), keys("x", "y"), null));
        c.out.takeCompute(A, "x");
        c.cancel(C1, keys("x"), false);
        Set<Object> cancelled = new HashSet<>();
        for (SchedulerToClient m : c.out.drainClient(C1)) {
            cancelled.addAll(assertInstanceOf(SchedulerToClient.CancelledKeys.class, m).keys());
        }
        assertEquals(Set.of("x", "y"), cancelled, "the key and its dependents");
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertNull(c.state.queries().taskStatus("x"));
        assertNull(c.state.queries().taskStatus("y"));
    }

    @Test
    void cancelLeavesKeysOtherClientsWant() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.submit(C2, task("x"));
        c.out.takeCompute(A, "x");
        c.cancel(C1, keys("x"), false);
        c.out.assertEmpty();
        assertEquals("processing", c.state.queries().taskStatus("x"));
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C2, "x");
        // force cancels for everyone
        c.cancel(C1, keys("x"), true);
        c.out.expectCancelled(C2, "x");
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertNull(c.state.queries().taskStatus("x"));
    }

    // ------------------------------------------------------------------------------------------
    // Worker loss
    // ------------------------------------------------------------------------------------------

    @Test
    void workerRemovalReschedulesAndRecomputesLostData() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        // r-i -> m-i, s(m-0, m-1); the client wants m-0 and s.
        c.updateGraph(c.graph(C1, list(task("r-0"), task("r-1"), task("m-0", "r-0"), task("m-1", "r-1"),
                task("s", "m-0", "m-1"), task("p")), keys("m-0", "s", "p"), null));
        while (!"processing".equals(c.state.queries().taskStatus("s"))) {
            assertTrue(c.finishOne(0));
        }
        if (a.running.containsKey("p")) {
            c.finish(A, "p");
        }
        assertEquals(Set.of("s"), a.running.keySet());
        assertEquals("released", c.state.queries().taskStatus("r-0"), "released, kept as lineage of m-0");
        assertEquals(Set.of("m-0", "m-1", "p"), a.memory.keySet());
        SimCluster.SimWorker b = c.addWorker("b", 1);
        assertTrue(b.running.isEmpty());
        int lostBefore = countLost(C1, "m-0");

        c.removeWorker(A);
        assertEquals(lostBefore + 1, countLost(C1, "m-0"), "lost-data for the wanted lost key");
        assertEquals("lost", c.client(C1).last.get("m-0"));
        assertEquals("lost", c.client(C1).last.get("p"));
        // s was processing on a: back to waiting on its lost inputs, recomputed from the released r-i.
        assertEquals("waiting", c.state.queries().taskStatus("s"));
        assertEquals(Set.of("r-0", "r-1"), b.running.keySet(), "lost inputs' inputs run first");
        c.runToCompletion();
        assertEquals(2, c.timesComputed("r-0"));
        assertEquals(2, c.timesComputed("m-0"));
        assertEquals("memory", c.state.queries().taskStatus("s"));
        assertEquals("memory", c.state.queries().taskStatus("m-0"));
        assertEquals("memory", c.state.queries().taskStatus("p"));
        assertEquals(List.of(B), c.state.queries().whoHas(List.of("s")).get("s"));
        c.assertQuiescent();
    }

    private int countLost(String client, Object key) {
        int n = 0;
        for (SchedulerToClient m : c.client(client).received) {
            if (m instanceof SchedulerToClient.LostData l && l.key().equals(key)) {
                n++;
            }
        }
        return n;
    }

    @Test
    void processingTasksOfARemovedWorkerMoveToTheOther() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        SimCluster.SimWorker b = c.addWorker("b", 1);
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            tasks.add(task("t-" + i));
        }
        c.updateGraph(c.graph(C1, tasks, keys("t-0", "t-1", "t-2", "t-3", "t-4", "t-5"), null));
        Set<Object> onA = new HashSet<>(a.running.keySet());
        assertEquals(2, onA.size());
        c.removeWorker(A);
        assertTrue(b.running.keySet().size() == 2, "b's slots stay full");
        c.runToCompletion();
        for (Object k : onA) {
            assertEquals(List.of(B), c.state.queries().whoHas(List.of(k)).get(k));
            assertEquals(1, c.timesComputed(k));
        }
        c.assertQuiescent();
    }

    @Test
    void allowedFailuresExceededGivesKilledWorker() {
        c = new SimCluster(1.1, 1);
        c.addWorker("a", 1);
        c.updateGraph(c.graph(C1, list(task("x"), task("y", "x")), keys("x", "y"), null));
        assertTrue(c.workers.get(A).running.containsKey("x"));
        c.removeWorker(A); // suspicious 1 <= allowed 1: rescheduled
        assertEquals("queued", c.state.queries().taskStatus("x"), "waits for a worker");
        c.addWorker("b", 1);
        assertTrue(c.workers.get(B).running.containsKey("x"));
        c.removeWorker(B); // suspicious 2 > 1: erred
        assertEquals("erred", c.state.queries().taskStatus("x"));
        assertEquals(Map.of("x", 2L), c.state.queries().suspiciousByPrefix(), "per prefix, for tasks_suspicious");
        assertEquals("erred", c.state.queries().taskStatus("y"));
        SchedulerToClient.TaskErred e = null;
        for (SchedulerToClient m : c.client(C1).received) {
            if (m instanceof SchedulerToClient.TaskErred te && te.key().equals("x")) {
                e = te;
            }
        }
        assertTrue(e != null, "task-erred for x");
        byte[] pickle = assertInstanceOf(byte[].class, e.exception());
        assertEquals((byte) 0x80, pickle[0], "pickle protocol opcode");
        String text = new String(pickle, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("distributed.scheduler") && text.contains("KilledWorker"), text);
        assertTrue(text.contains(B), "names the last worker");
        assertEquals("erred", c.client(C1).last.get("y"));
        c.addWorker("c", 1);
        assertTrue(c.workers.get(address("c")).running.isEmpty(), "an erred task is not run again");
        c.assertQuiescent();
    }

    // ------------------------------------------------------------------------------------------
    // Restrictions
    // ------------------------------------------------------------------------------------------

    @Test
    void workerRestrictionsOnlyGoThere() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        SimCluster.SimWorker b = c.addWorker("b", 1);
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            tasks.add(task("r-" + i, SimCluster.onWorkers(List.of(B), false)));
            keys.add("r-" + i);
        }
        tasks.add(task("by-name", SimCluster.onWorkers(List.of("a"), false)));
        keys.add("by-name");
        c.updateGraph(c.graph(C1, tasks, keys, null));
        assertEquals(Set.of("by-name"), a.running.keySet());
        assertEquals(5, b.running.size(), "restricted tasks ignore the saturation cap, as in Dask");
        SchedulerToWorker.ComputeTask ct = b.running.values().iterator().next().task();
        assertEquals(Map.of("workers", List.of(B)), ct.annotations());
        c.runToCompletion();
        assertEquals(Set.of("by-name"), a.memory.keySet());
        assertEquals(5, b.memory.size());
        c.assertQuiescent();
    }

    @Test
    void resourceRestrictedTaskWaitsForAWorkerWithTheResource() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 4);
        c.submit(C1, task("gpu", SimCluster.resources(Map.of("GPU", 1.0))));
        assertEquals("no-worker", c.state.queries().taskStatus("gpu"));
        assertTrue(a.running.isEmpty());
        c.submit(C1, task("cpu"));
        assertEquals(Set.of("cpu"), a.running.keySet());
        SimCluster.SimWorker g = c.addWorker("g", 1, Map.of("GPU", 2.0));
        assertEquals(Set.of("gpu"), g.running.keySet());
        assertEquals(Map.of("GPU", 1.0), g.running.get("gpu").task().resourceRestrictions());
        c.runToCompletion();
        assertEquals("memory", c.state.queries().taskStatus("gpu"));
        assertTrue(g.memory.containsKey("gpu"));
        c.assertQuiescent();
    }

    @Test
    void pausedWorkerGetsNoNewTasks() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        SimCluster.SimWorker b = c.addWorker("b", 1);
        c.workerStatus(A, "paused");
        List<GraphUpdate.NewTask> tasks = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            tasks.add(task("t-" + i));
            keys.add("t-" + i);
        }
        tasks.add(task("on-a", SimCluster.onWorkers(List.of(A), false)));
        keys.add("on-a");
        c.updateGraph(c.graph(C1, tasks, keys, null));
        assertEquals(2, b.running.size());
        assertTrue(a.running.isEmpty());
        assertEquals("no-worker", c.state.queries().taskStatus("on-a"));
        assertEquals(Map.of(B, 1L), c.state.queries().ncores(null, true));
        for (int i = 0; i < 4; i++) {
            c.finishOne(1);
            assertTrue(a.running.isEmpty(), "paused worker got work");
        }
        c.workerStatus(A, "running");
        assertTrue(a.running.containsKey("on-a"));
        assertEquals(2, a.running.size(), "queued work flows to the resumed worker at once");
        c.runToCompletion();
        c.assertQuiescent();
    }

    // ------------------------------------------------------------------------------------------
    // Graph edge cases, scatter, publish
    // ------------------------------------------------------------------------------------------

    @Test
    void unknownDependencyCancelsTheKeyAndItsDependents() {
        explicitCluster();
        c.addWorker("a", 1);
        c.updateGraph(c.graph(C1, list(task("y", "ghost"), task("z", "y"), task("ok")), keys("z", "ok"), null));
        Set<Object> cancelled = new HashSet<>();
        for (SchedulerToClient m : c.out.drainClient(C1)) {
            cancelled.addAll(assertInstanceOf(SchedulerToClient.CancelledKeys.class, m).keys());
        }
        assertEquals(Set.of("y", "z"), cancelled);
        assertNull(c.state.queries().taskStatus("y"));
        assertNull(c.state.queries().taskStatus("z"));
        assertNull(c.state.queries().taskStatus("ghost"));
        c.out.takeCompute(A, "ok");
    }

    @Test
    void reportKeyOfAForgottenKeyAnswersCancelled() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.out.takeCompute(A, "x");
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C1, "x");
        c.reportKey(C1, "x");
        c.out.expectInMemory(C1, "x");
        c.clientReleasesKeys(C1, keys("x"));
        c.out.takeFreed(A);
        // Dask report_on_key: an unknown key is reported as cancelled-key, so the Future does not hang.
        c.reportKey(C1, "x");
        c.out.expectCancelled(C1, "x");
    }

    @Test
    void scatteredDataFeedsATask() {
        explicitCluster();
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        c.scatter(C1, Map.of("d", B));
        SchedulerToClient.KeyInMemory kim = c.out.expectInMemory(C1, "d");
        assertNull(kim.type());
        assertEquals(Map.of("d", List.of(B)), c.state.queries().whoHas(keys("d")));
        c.submit(C1, task("t", "d"));
        SchedulerToWorker.ComputeTask ct = c.out.takeCompute(B, "t");
        assertEquals(Map.of("d", List.of(B)), ct.whoHas());
        assertEquals(Map.of("d", 8L), ct.nbytes());
        c.taskFinished(B, "t", 8);
        c.out.expectInMemory(C1, "t");
        c.clientReleasesKeys(C1, keys("d"));
        assertEquals(Set.of("d"), c.out.takeFreed(B));
        c.clientReleasesKeys(C1, keys("t"));
        assertEquals(Set.of("t"), c.out.takeFreed(B));
        assertEquals(0, c.state.queries().taskCount());
    }

    @Test
    void aReplicaWithANewSizeMovesEveryHoldersCount() {
        explicitCluster();
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        c.submit(C1, task("x"));
        String on = c.out.hasWorkerMessage(A) ? A : B;
        String other = on.equals(A) ? B : A;
        c.out.takeCompute(on, "x");
        c.taskFinished(on, "x", 100);
        c.out.expectInMemory(C1, "x");
        // Dask stimulus_task_finished on a key in memory: add_keys; set_nbytes moves every holder.
        c.taskFinished(other, "x", 120); // validate() checks each worker's nbytes against its keys
        c.out.assertEmpty();
        assertEquals(120, c.stateWorkers().get(A).nbytes);
        assertEquals(120, c.stateWorkers().get(B).nbytes);
        assertEquals(Set.of(A, B), new HashSet<>(c.state.queries().whoHas(keys("x")).get("x")));
        c.clientReleasesKeys(C1, keys("x"));
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertEquals(Set.of("x"), c.out.takeFreed(B));
    }

    @Test
    void scatterOverAKeyBeingComputed() {
        explicitCluster();
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        c.submit(C1, task("x"));
        String on = c.out.hasWorkerMessage(A) ? A : B;
        String other = on.equals(A) ? B : A;
        c.out.takeCompute(on, "x");
        c.scatter(C2, Map.of("x", other)); // Client.scatter({"x": value}) names the key
        c.out.expectInMemory(C1, "x");
        c.out.expectInMemory(C2, "x");
        assertEquals(Set.of("x"), c.out.takeFreed(on), "the computing worker drops its run");
        assertEquals(List.of(other), c.state.queries().whoHas(keys("x")).get("x"));
        c.taskFinished(on, "x", 10); // its result raced the free-keys: kept as a replica
        assertEquals(2, c.state.queries().whoHas(keys("x")).get("x").size());

        c.submit(C1, task("y"));
        String yOn = c.out.hasWorkerMessage(A) ? A : B;
        c.out.takeCompute(yOn, "y");
        c.scatter(C1, Map.of("y", yOn)); // onto the worker computing it: it took the data over
        c.out.expectAllInMemory(C1, "y");
        c.out.assertEmpty();
        assertEquals("memory", c.state.queries().taskStatus("y"));
    }

    @Test
    void scatterOverAnErredKey() {
        explicitCluster();
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        for (String key : List.of("x", "y")) {
            c.submit(C1, task(key));
            String on = c.out.hasWorkerMessage(A) ? A : B;
            c.out.takeCompute(on, key);
            c.taskErred(on, key, SimCluster.exception(key), SimCluster.traceback(key));
            c.out.expectErred(C1, key);
            String target = key.equals("x") ? on : (on.equals(A) ? B : A);
            c.scatter(C1, Map.of(key, target));
            c.out.expectAllInMemory(C1, key);
            if (!target.equals(on)) {
                // The worker that kept the error must forget it; the one that got the data keeps it.
                assertEquals(Set.of(key), c.out.takeFreed(on));
            }
            c.out.assertEmpty();
            assertEquals("memory", c.state.queries().taskStatus(key));
        }
    }

    @Test
    void lostScatteredDataCannotBeRecomputed() {
        cluster();
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        c.scatter(C1, Map.of("d", A));
        c.submit(C1, task("t", "d"));
        c.removeWorker(A);
        assertEquals("erred", c.state.queries().taskStatus("d"));
        assertEquals("erred", c.state.queries().taskStatus("t"));
        assertEquals("erred", c.client(C1).last.get("t"));
        c.assertQuiescent();
    }

    @Test
    void publishKeepsKeysUntilDeleted() {
        explicitCluster();
        c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.out.takeCompute(A, "x");
        c.taskFinished(A, "x", 8);
        c.out.expectInMemory(C1, "x");

        assertTrue(c.publishPut("ds", keys("x"), false));
        c.out.drainClient("published-ds"); // Dask reports to the pseudo-client too; nobody listens
        assertFalse(c.publishPut("ds", keys("x"), false), "exists, no override");
        assertEquals(List.of("ds"), c.state.datasetNames());
        assertEquals(List.of("x"), c.state.dataset("ds").keys());
        c.clientReleasesKeys(C1, keys("x"));
        c.out.assertEmpty();
        assertEquals("memory", c.state.queries().taskStatus("x"), "the dataset still wants x");

        // publish_get: another client asks for the dataset's keys
        c.clientDesiresKeys(C2, c.state.dataset("ds").keys());
        c.out.expectInMemory(C2, "x");
        c.clientReleasesKeys(C2, keys("x"));

        // Overriding with the same keys must not drop them in between.
        assertTrue(c.publishPut("ds", keys("x"), true));
        c.out.drainClient("published-ds");
        c.out.assertEmpty();
        assertEquals("memory", c.state.queries().taskStatus("x"));

        c.publishDelete("ds");
        assertEquals(Set.of("x"), c.out.takeFreed(A));
        assertNull(c.state.queries().taskStatus("x"));
        assertNull(c.state.dataset("ds"));
        assertEquals(List.of(), c.state.datasetNames());
    }

    @Test
    void duplicateWorkerNameIsRefused() {
        cluster();
        c.addWorker("a", 1);
        String error = c.addWorkerRefused(address("other"), "a");
        assertTrue(error.contains("name taken"), error);
        assertTrue(c.addWorkerRefused(A, "fresh").contains("already registered"));
        assertEquals(List.of(A), c.state.queries().workerAddresses());
        c.removeWorker(A);
        c.addWorker("a", 1); // the name is free again
        assertEquals(1, c.state.queries().workerCount());
    }

    @Test
    void tickFindsASilentWorkerBehindOnesHeardOfSince() {
        cluster();
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        c.now = 1030;
        assertTrue(c.heartbeat(A), "a, registered first, is heard of again: b is now the longest silent");
        assertEquals(List.of(B), c.tick(1065, 60));
        assertEquals(List.of(), c.tick(1089, 60));
        assertEquals(List.of(A), c.tick(1091, 60));
    }

    @Test
    void tickRemovesSilentWorkers() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        c.now = 1010;
        SimCluster.SimWorker b = c.addWorker("b", 1);
        c.updateGraph(c.graph(C1, list(task("t-0"), task("t-1"), task("t-2"), task("t-3")),
                keys("t-0", "t-1", "t-2", "t-3"), null));
        assertEquals(2, a.running.size());
        Set<Object> wasOnA = new HashSet<>(a.running.keySet());
        c.now = 1050;
        assertTrue(c.heartbeat(B));
        assertEquals(List.of(), c.tick(1055, 60));
        assertEquals(List.of(A), c.tick(1065, 60), "a silent for 65 s > 60 s");
        assertFalse(c.heartbeat(A), "a removed worker is told it is missing");
        assertEquals(List.of(B), c.state.queries().workerAddresses());
        assertEquals(2, b.running.size());
        for (Object k : wasOnA) {
            assertEquals("queued", c.state.queries().taskStatus(k));
        }
        c.runToCompletion();
        for (Object k : wasOnA) {
            assertEquals(List.of(B), c.state.queries().whoHas(List.of(k)).get(k));
        }
        c.assertQuiescent();
    }

    @Test
    void removingAClientReleasesItsKeys() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        c.addClient(C1);
        c.updateGraph(c.graph(C1, list(task("x"), task("y", "x")), keys("x", "y"), null));
        c.runToCompletion();
        assertEquals(Set.of("x", "y"), a.memory.keySet());
        c.removeClient(C1);
        assertEquals(0, c.state.queries().taskCount());
        assertTrue(a.memory.isEmpty(), "free-keys sent for everything");
        assertEquals(0, c.state.queries().clientCount());
        c.assertQuiescent();
    }

    @Test
    void longRunningTaskFreesItsSlot() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        c.updateGraph(c.graph(C1, list(task("t-0"), task("t-1"), task("t-2")), keys("t-0", "t-1", "t-2"),
                Map.of("t-0", 0L, "t-1", 1L, "t-2", 2L)));
        assertEquals(Set.of("t-0", "t-1"), a.running.keySet());
        c.longRunning(A, "t-0");
        assertEquals(Set.of("t-0", "t-1", "t-2"), a.running.keySet());
        c.runToCompletion();
        c.assertQuiescent();
    }

    @Test
    void rescheduledTaskRunsAgain() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.reschedule(A, "x");
        assertEquals(Set.of("x"), a.running.keySet(), "sent again (to the only worker)");
        c.runToCompletion();
        assertEquals("memory", c.state.queries().taskStatus("x"));
        c.assertQuiescent();
    }

    @Test
    void releaseWorkerDataOfTheOnlyCopyRecomputes() {
        cluster();
        SimCluster.SimWorker a = c.addWorker("a", 1);
        c.submit(C1, task("x"));
        c.runToCompletion();
        c.releaseWorkerData(A, "x");
        assertEquals("lost", c.client(C1).last.get("x"));
        assertEquals(Set.of("x"), a.running.keySet());
        c.runToCompletion();
        assertEquals("memory", c.client(C1).last.get("x"));
        c.assertQuiescent();
    }
}
