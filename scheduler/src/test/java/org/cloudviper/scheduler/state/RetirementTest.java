package org.cloudviper.scheduler.state;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.cloudviper.scheduler.state.SimCluster.address;
import static org.cloudviper.scheduler.state.SimCluster.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The retirement state machine ({@link Retirements} through {@link SchedulerState#onRetireWorkers}):
 * every message is asserted (explicit mode), expected behaviour is Dask's retire_workers with the
 * RetireWorker policy (2022.12.1 and 2024.12.1 agree on it).
 */
class RetirementTest {
    private static final String A = address("a");
    private static final String B = address("b");
    private static final String C = address("c");
    private static final String CL = "Client-1";

    private SimCluster c;

    @AfterEach
    void nothingLeftUnasserted() {
        if (c != null) {
            c.state.validate();
            c.out.assertEmpty();
        }
    }

    /** Worker a holds the results of {@code keys} (computed there, wanted by the client). */
    private void cluster(String... keys) {
        c = new SimCluster();
        c.autoDeliver = false;
        c.addWorker("a", 1);
        for (String k : keys) {
            c.submit(CL, task(k));
            c.out.takeCompute(A, k);
            c.taskFinished(A, k, 100);
            c.out.expectInMemory(CL, k);
        }
    }

    private void retire(long id, List<String> addresses) {
        c.state.onRetireWorkers(id, addresses, null, null, true, true, c.now, "retire-" + id);
        c.state.validate();
    }

    private void expectStatus(String worker, String status) {
        ToWorker.WorkerStatusChange m = c.out.takeWorker(worker, ToWorker.WorkerStatusChange.class);
        assertEquals(status, m.status());
    }

    private ToWorker.AcquireReplicas expectAcquire(String worker, Map<Object, List<String>> whoHas) {
        ToWorker.AcquireReplicas m = c.out.takeWorker(worker, ToWorker.AcquireReplicas.class);
        assertEquals(whoHas, m.whoHas());
        assertEquals(whoHas.keySet(), m.nbytes().keySet());
        return m;
    }

    @Test
    void uniqueKeysAreCopiedThenTheWorkerIsRetired() {
        cluster("x", "y");
        c.addWorker("b", 1);
        retire(1, List.of(A));
        expectStatus(A, "closing_gracefully");
        assertEquals("closing_gracefully", c.state.workerStatus(A));
        expectAcquire(B, Map.of("x", List.of(A), "y", List.of(A)));
        assertTrue(c.out.retirements.isEmpty(), "done before the recipient confirmed");

        // No new task goes to the retiring worker.
        c.submit(CL, task("z"));
        c.out.takeCompute(B, "z");

        c.addKeys(B, List.of("x"));
        assertTrue(c.out.retirements.isEmpty(), "done while y is only on a");
        c.addKeys(B, List.of("y"));
        RetirementOutcome o = c.out.takeRetirement();
        assertEquals(new RetirementOutcome(1, List.of(A), List.of(), true, true, "retire-1"), o);
        assertEquals(Map.of("x", List.of(A, B), "y", List.of(A, B)), c.state.whoHas(List.of("x", "y")));

        // The caller removes the retired worker: nothing is lost, nothing recomputed.
        c.removeWorker(A);
        assertEquals("memory", c.state.taskStatus("x"));
        assertEquals("memory", c.state.taskStatus("y"));
        assertEquals(Map.of("x", List.of(B)), c.state.whoHas(List.of("x")));
    }

    @Test
    void keysReplicatedElsewhereNeedNoCopy() {
        cluster("x");
        c.addWorker("b", 1);
        c.addKeys(B, List.of("x"));
        retire(2, List.of(A));
        expectStatus(A, "closing_gracefully");
        assertEquals(new RetirementOutcome(2, List.of(A), List.of(), true, true, "retire-2"), c.out.takeRetirement());
    }

    @Test
    void refusedWithoutRecipientKeepsDataAndRunsAgain() {
        cluster("x");
        retire(3, List.of(A));
        expectStatus(A, "closing_gracefully");
        expectStatus(A, "running");
        assertEquals("running", c.state.workerStatus(A));
        RetirementOutcome o = c.out.takeRetirement();
        assertEquals(List.of(), o.retired());
        assertEquals(List.of(A), o.refused());
        assertEquals(Map.of("x", List.of(A)), c.state.whoHas(List.of("x")));
        // Running again: it takes tasks.
        c.submit(CL, task("z"));
        c.out.takeCompute(A, "z");
    }

    @Test
    void pausedWorkersAreNoRecipientsAndPreviousStatusComesBack() {
        cluster("x");
        c.addWorker("b", 1);
        c.workerStatus(B, "paused");
        c.workerStatus(A, "paused");
        retire(4, List.of(A));
        expectStatus(A, "closing_gracefully");
        expectStatus(A, "paused");
        assertEquals("paused", c.state.workerStatus(A));
        assertEquals(List.of(A), c.out.takeRetirement().refused());
    }

    @Test
    void recipientThatDiesIsReplacedByAnother() {
        cluster("x");
        c.addWorker("b", 1);
        c.addWorker("c", 1);
        retire(5, List.of(A));
        expectStatus(A, "closing_gracefully");
        expectAcquire(B, Map.of("x", List.of(A)));
        c.removeWorker(B);
        expectAcquire(C, Map.of("x", List.of(A)));
        assertTrue(c.out.retirements.isEmpty());
        c.addKeys(C, List.of("x"));
        assertEquals(List.of(A), c.out.takeRetirement().retired());
        assertEquals(Map.of("x", List.of(A, C)), c.state.whoHas(List.of("x")));
    }

    @Test
    void lastRecipientDyingAbortsWithoutLoss() {
        cluster("x");
        c.addWorker("b", 1);
        retire(6, List.of(A));
        expectStatus(A, "closing_gracefully");
        expectAcquire(B, Map.of("x", List.of(A)));
        c.removeWorker(B);
        expectStatus(A, "running");
        RetirementOutcome o = c.out.takeRetirement();
        assertEquals(List.of(A), o.refused());
        assertEquals("memory", c.state.taskStatus("x"));
        assertEquals(Map.of("x", List.of(A)), c.state.whoHas(List.of("x")));
    }

    @Test
    void unconfirmedRequestIsSentAgainAfterTwoSeconds() {
        cluster("x");
        c.addWorker("b", 1);
        retire(7, List.of(A));
        expectStatus(A, "closing_gracefully");
        expectAcquire(B, Map.of("x", List.of(A)));
        c.tick(c.now + 1, 1e9);
        c.out.assertNothingTo(B);
        c.tick(c.now + Retirements.RESEND_SECONDS, 1e9);
        expectAcquire(B, Map.of("x", List.of(A)));
        c.addKeys(B, List.of("x"));
        assertEquals(List.of(A), c.out.takeRetirement().retired());
    }

    @Test
    void resultFinishedDuringRetirementIsCopiedToo() {
        cluster("x");
        c.submit(CL, task("w"));
        c.out.takeCompute(A, "w");
        c.addWorker("b", 1);
        retire(8, List.of(A));
        expectStatus(A, "closing_gracefully");
        expectAcquire(B, Map.of("x", List.of(A)));
        c.addKeys(B, List.of("x"));
        // w still runs on a, but has no data yet: the retirement is done (as Dask's policy says).
        assertEquals(List.of(A), c.out.takeRetirement().retired());
    }

    @Test
    void workerThatLeavesByItselfCountsAsRetired() {
        cluster("x");
        c.addWorker("b", 1);
        retire(9, List.of(A));
        expectStatus(A, "closing_gracefully");
        expectAcquire(B, Map.of("x", List.of(A)));
        c.removeWorker(A);
        assertEquals(List.of(A), c.out.takeRetirement().retired());
        // Its only copy went with it: x is lost and recomputed on b, as for any dead worker.
        c.out.expectLost(CL, "x");
        c.out.takeCompute(B, "x");
    }

    @Test
    void twoWorkersRetiringTogetherSendTheirKeysToTheThird() {
        cluster("x");
        c.addWorker("b", 1);
        c.submit(CL, task("y", SimCluster.onWorkers(List.of(B), false)));
        c.out.takeCompute(B, "y");
        c.taskFinished(B, "y", 100);
        c.out.expectInMemory(CL, "y");
        c.addWorker("c", 1);
        retire(10, List.of(A, B));
        expectStatus(A, "closing_gracefully");
        expectStatus(B, "closing_gracefully");
        ToWorker.AcquireReplicas m = c.out.takeWorker(C, ToWorker.AcquireReplicas.class);
        assertEquals(Set.of("x", "y"), m.whoHas().keySet());
        c.addKeys(C, List.of("x", "y"));
        RetirementOutcome o = c.out.takeRetirement();
        assertEquals(Set.of(A, B), Set.copyOf(o.retired()));
    }

    @Test
    void byNameByCountAndNothingChosen() {
        cluster();
        c.addWorker("b", 1);
        c.state.onRetireWorkers(11, null, List.of("b"), null, false, false, c.now, "by-name");
        expectStatus(B, "closing_gracefully");
        assertEquals(List.of(B), c.out.takeRetirement().retired());

        c.state.onRetireWorkers(12, List.of("tcp://nobody:1"), null, null, false, false, c.now, "unknown");
        assertEquals(new RetirementOutcome(12, List.of(), List.of(), false, false, "unknown"), c.out.takeRetirement());

        assertEquals(List.of(A), c.state.workersToClose(1), "b is retiring already");
        assertThrows(IllegalArgumentException.class,
                () -> c.state.onRetireWorkers(13, List.of(A), List.of("a"), null, false, false, c.now, "both"));
        assertFalse(c.out.hasWorkerMessage(A));
    }
}
