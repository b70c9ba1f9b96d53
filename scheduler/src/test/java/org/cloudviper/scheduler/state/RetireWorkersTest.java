package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToWorker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.cloudviper.scheduler.state.SimCluster.address;
import static org.cloudviper.scheduler.state.SimCluster.keys;
import static org.cloudviper.scheduler.state.SimCluster.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * retire_workers in the state machine (distributed 2022.12.1 Scheduler.retire_workers with the
 * RetireWorker policy): a retiring worker gets no tasks, keys only it holds are copied to the running
 * worker with the least data, and it may go only once each has a replica elsewhere; with nowhere to put
 * them the retirement is called off and the worker keeps running with its data.
 */
class RetireWorkersTest {
    private static final String A = address("a");
    private static final String B = address("b");
    private static final String C = address("c");
    private static final String C1 = "Client-1";

    private SimCluster c;

    @AfterEach
    void nothingLeftUnasserted() {
        if (c != null) {
            c.state.validate();
            c.out.assertEmpty();
        }
    }

    /** x and y computed on a, then b joins: the cluster retirement starts from. */
    private void twoKeysOnA() {
        c = new SimCluster();
        c.autoDeliver = false;
        c.addWorker("a", 1);
        c.updateGraph(c.graph(C1, List.of(task("x"), task("y")), keys("x", "y"), null));
        c.out.takeCompute(A, "x");
        c.out.takeCompute(A, "y");
        c.taskFinished(A, "x", 100);
        c.taskFinished(A, "y", 200);
        c.out.expectInMemory(C1, "x");
        c.out.expectInMemory(C1, "y");
        c.addWorker("b", 1);
    }

    /** Task t running on a, b joined, then a's retirement begins (its status change taken). */
    private void retireAWhileItRunsT(SimCluster cluster) {
        c = cluster;
        c.autoDeliver = false;
        c.addWorker("a", 1);
        c.updateGraph(c.graph(C1, List.of(task("t")), keys("t"), null));
        c.out.takeCompute(A, "t");
        c.addWorker("b", 1);
        startRetiringA();
    }

    /** a's retirement begins; returns the status change a is sent. */
    private SchedulerToWorker.WorkerStatusChange startRetiringA() {
        c.state.onRetireWorkers(List.of(A), "retire-1");
        return statusTo(A);
    }

    private SchedulerToWorker.WorkerStatusChange statusTo(String worker) {
        return c.out.takeWorker(worker, SchedulerToWorker.WorkerStatusChange.class);
    }

    @Test
    void uniqueKeysAreCopiedAwayBeforeTheWorkerMayGo() {
        twoKeysOnA();
        assertEquals(List.of(A), c.state.onRetireWorkers(List.of(A, "tcp://unknown:1"), "retire-1"));
        c.state.validate();
        assertEquals("closing_gracefully", statusTo(A).status());
        SchedulerToWorker.AcquireReplicas ask = c.out.takeWorker(B, SchedulerToWorker.AcquireReplicas.class);
        assertEquals(Map.of("x", List.of(A), "y", List.of(A)), ask.whoHas());
        assertEquals(Map.of("x", 100L, "y", 200L), ask.nbytes());
        assertEquals(SchedulerState.RetireOutcome.PENDING, c.state.retirementOutcome(A));

        c.addKeys(B, List.of("x"));
        assertEquals(SchedulerState.RetireOutcome.PENDING, c.state.retirementOutcome(A), "y is still only on a");
        c.addKeys(B, List.of("y"));
        assertEquals(SchedulerState.RetireOutcome.READY, c.state.retirementOutcome(A));

        c.state.onRetiredWorkerRemoved(A, "retire-1");
        c.state.validate();
        assertEquals(Map.of("x", List.of(B), "y", List.of(B)), c.state.queries().whoHas(List.of("x", "y")));
        assertEquals("memory", c.state.queries().taskStatus("x"));
        assertEquals(SchedulerState.RetireOutcome.GONE, c.state.retirementOutcome(A));
    }

    @Test
    void aRetiringWorkerGetsNoNewTasks() {
        twoKeysOnA();
        startRetiringA();
        c.out.takeWorker(B, SchedulerToWorker.AcquireReplicas.class);
        c.updateGraph(c.graph(C1, List.of(task("z")), keys("z"), null));
        c.out.takeCompute(B, "z"); // would go to a by nothing else; a is closing_gracefully
        c.workerStatus(A, "closing_gracefully"); // the worker's echo keeps it out
        c.updateGraph(c.graph(C1, List.of(task("w")), keys("w"), null));
        c.out.takeCompute(B, "w");
    }

    @Test
    void withNoOtherRunningWorkerItIsCalledOffAndKeepsItsData() {
        twoKeysOnA();
        c.workerStatus(B, "paused");
        startRetiringA();
        assertEquals(SchedulerState.RetireOutcome.ABORTED, c.state.retirementOutcome(A));

        c.state.onRetirementAborted(A, "retire-1");
        assertEquals("running", statusTo(A).status());
        assertEquals(Map.of("x", List.of(A), "y", List.of(A)), c.state.queries().whoHas(List.of("x", "y")));
        c.updateGraph(c.graph(C1, List.of(task("z")), keys("z"), null));
        c.out.takeCompute(A, "z"); // running again
    }

    @Test
    void aRecipientThatDiesIsReplacedByAnother() {
        twoKeysOnA();
        c.addWorker("c", 1);
        startRetiringA();
        // x and y are spread over b and c by the bytes each will hold
        SchedulerToWorker.AcquireReplicas toB = c.out.takeWorker(B, SchedulerToWorker.AcquireReplicas.class);
        SchedulerToWorker.AcquireReplicas toC = c.out.takeWorker(C, SchedulerToWorker.AcquireReplicas.class);
        assertEquals(Set.of("x", "y"), union(toB.whoHas().keySet(), toC.whoHas().keySet()));
        c.addKeys(C, toC.whoHas().keySet());

        c.removeWorker(B);
        SchedulerToWorker.AcquireReplicas again = c.out.takeWorker(C, SchedulerToWorker.AcquireReplicas.class);
        assertEquals(toB.whoHas().keySet(), again.whoHas().keySet(), "b's share goes to c");
        assertEquals(SchedulerState.RetireOutcome.PENDING, c.state.retirementOutcome(A));
        c.addKeys(C, again.whoHas().keySet());
        assertEquals(SchedulerState.RetireOutcome.READY, c.state.retirementOutcome(A));
    }

    @Test
    void whenTheOnlyRecipientDiesItIsCalledOffWithoutLoss() {
        twoKeysOnA();
        startRetiringA();
        c.out.takeWorker(B, SchedulerToWorker.AcquireReplicas.class);
        c.addKeys(B, List.of("x"));
        c.removeWorker(B); // x's new copy goes with it; nobody is left to take x or y
        assertEquals(SchedulerState.RetireOutcome.ABORTED, c.state.retirementOutcome(A));
        c.state.onRetirementAborted(A, "retire-1");
        assertEquals("running", statusTo(A).status());
        assertEquals(Map.of("x", List.of(A), "y", List.of(A)), c.state.queries().whoHas(List.of("x", "y")));
        assertEquals("memory", c.state.queries().taskStatus("x"));
        assertEquals("memory", c.state.queries().taskStatus("y"));
    }

    /** Dask's retire_workers gives an aborted worker its previous status back, paused included. */
    @Test
    void aPausedWorkerCalledOffIsPausedAgain() {
        twoKeysOnA();
        c.workerStatus(B, "paused");
        c.workerStatus(A, "paused");
        assertEquals("closing_gracefully", startRetiringA().status());
        assertEquals(SchedulerState.RetireOutcome.ABORTED, c.state.retirementOutcome(A));
        c.state.onRetirementAborted(A, "retire-1");
        assertEquals("paused", statusTo(A).status());
        c.updateGraph(c.graph(C1, List.of(task("z")), keys("z"), null));
        assertTrue(c.out.isEmpty(), "a paused worker gets no task");
        c.workerStatus(A, "running");
        c.out.takeCompute(A, "z");
    }

    private static Set<Object> union(Set<Object> a, Set<Object> b) {
        Set<Object> r = new java.util.HashSet<>(a);
        r.addAll(b);
        return r;
    }

    @Test
    void keysNotCopiedAreAskedForAgainOnTheRetryTick() {
        twoKeysOnA();
        startRetiringA();
        c.out.takeWorker(B, SchedulerToWorker.AcquireReplicas.class);
        c.addKeys(B, List.of("x")); // y never arrives (the fetch failed on b)
        c.out.assertEmpty();
        c.state.onRetirementTick("retry-1");
        SchedulerToWorker.AcquireReplicas again = c.out.takeWorker(B, SchedulerToWorker.AcquireReplicas.class);
        assertEquals(Map.of("y", List.of(A)), again.whoHas(), "only what is still unique");
    }

    @Test
    void aResultThatLandsOnARetiringWorkerIsCopiedToo() {
        retireAWhileItRunsT(new SimCluster());
        c.taskFinished(A, "t", 10); // was still running when the retirement began
        c.out.expectInMemory(C1, "t");
        assertEquals(Map.of("t", List.of(A)), c.out.takeWorker(B, SchedulerToWorker.AcquireReplicas.class).whoHas());
        assertEquals(SchedulerState.RetireOutcome.PENDING, c.state.retirementOutcome(A));
    }

    @Test
    void tasksStillRunningOnARetiredWorkerMoveWithoutCountingAsFailures() {
        retireAWhileItRunsT(new SimCluster(1.1, 0)); // a single failure would make a KilledWorker
        assertEquals(SchedulerState.RetireOutcome.READY, c.state.retirementOutcome(A), "no data to move");
        c.state.onRetiredWorkerRemoved(A, "retire-1");
        c.state.validate();
        c.out.takeCompute(B, "t");
        assertEquals("processing", c.state.queries().taskStatus("t"));
    }

    @Test
    void aWorkerThatLeavesWhileRetiringWasNotLost() {
        retireAWhileItRunsT(new SimCluster(1.1, 0)); // remove=False: the worker closes itself
        c.removeWorker(A); // it unregisters
        c.out.takeCompute(B, "t");
        assertEquals("processing", c.state.queries().taskStatus("t"), "rescheduled, not erred");
    }

    @Test
    void workersToCloseArePickedIdleFirstThenByLeastData() {
        twoKeysOnA();
        c.addWorker("c", 1);
        c.updateGraph(c.graph(C1, List.of(task("busy", SimCluster.onWorkers(List.of(B), false))), keys("busy"),
                null));
        c.out.takeCompute(B, "busy");
        assertEquals(List.of(C, A), c.state.workersToClose(2), "idle first, the one without data before a");
        assertEquals(List.of(C, A, B), c.state.workersToClose(5));
    }
}
