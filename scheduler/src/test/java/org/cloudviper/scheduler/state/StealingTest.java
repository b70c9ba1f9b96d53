package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.SchedulerToWorker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.cloudviper.scheduler.state.SimCluster.address;
import static org.cloudviper.scheduler.state.SimCluster.onWorkers;
import static org.cloudviper.scheduler.state.SimCluster.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Work stealing: a periodic balance asks a saturated worker to give tasks not yet started to an idle
 * one; only a "ready"/"waiting"/"constrained" answer moves the task, and a request outlived by its
 * task (finished, victim died) is ignored.
 */
class StealingTest {
    private static final String A = address("a");
    private static final String B = address("b");
    private static final String C1 = "Client-1";

    private SimCluster c;

    @AfterEach
    void valid() {
        if (c != null) {
            c.state.validate();
        }
    }

    /** saturation inf: every task goes to the only worker, a; then b joins idle. */
    private List<SchedulerToWorker.StealRequest> loadAThenAddB(int n) {
        c = new SimCluster(Double.POSITIVE_INFINITY, 3);
        c.autoDeliver = false;
        c.addWorker("a", 1);
        List<GraphUpdate.NewTask> ts = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ts.add(task("t" + i));
            keys.add("t" + i);
        }
        c.updateGraph(c.graph(C1, ts, keys, null));
        assertEquals(n, c.out.drainWorker(A).size());
        c.addWorker("b", 1);
        assertTrue(c.out.drainWorker(B).isEmpty(), "nothing queued in the scheduler for b");
        c.state.onBalance(c.now);
        List<SchedulerToWorker.StealRequest> asked = new ArrayList<>();
        for (SchedulerToWorker m : c.out.drainWorker(A)) {
            asked.add((SchedulerToWorker.StealRequest) m);
        }
        return asked;
    }

    @Test
    void idleWorkerTakesReadyTasksFromASaturatedOne() {
        List<SchedulerToWorker.StealRequest> asked = loadAThenAddB(10);
        // b has one thread: it is asked to hold two (one running, one ready).
        assertEquals(2, asked.size());
        assertEquals(2, c.state.stealsInFlight());
        SchedulerToWorker.StealRequest r = asked.get(0);
        c.state.onStealResponse(A, r.key(), "ready", r.stimulusId());
        SchedulerToWorker.ComputeTask moved = c.out.takeCompute(B, r.key());
        assertEquals(r.stimulusId(), moved.stimulusId());
        assertEquals("processing", c.state.queries().taskStatus(r.key()));
        assertTrue(c.state.queries().story(List.of(r.key())).stream().anyMatch(e -> e.toString().contains(r.stimulusId())),
                "the move is in the key's story");
        assertTrue(c.out.drainWorker(A).isEmpty(), "the victim forgot the key itself: no free-keys");
        // A second answer to the same request changes nothing.
        c.state.onStealResponse(A, r.key(), "ready", r.stimulusId());
        assertTrue(c.out.isEmpty());
        assertEquals(1, c.state.stealsInFlight());
    }

    @Test
    void taskAlreadyExecutingStaysOnTheVictim() {
        List<SchedulerToWorker.StealRequest> asked = loadAThenAddB(10);
        SchedulerToWorker.StealRequest r = asked.get(0);
        c.state.onStealResponse(A, r.key(), "executing", r.stimulusId());
        assertTrue(c.out.isEmpty(), "nothing sent when the victim keeps the task");
        c.taskFinished(A, r.key(), 8);
        c.out.expectInMemory(C1, r.key());
    }

    @Test
    void victimDyingMidStealReschedulesAndIgnoresTheLateAnswer() {
        List<SchedulerToWorker.StealRequest> asked = loadAThenAddB(4);
        c.removeWorker(A);
        assertEquals(0, c.state.stealsInFlight(), "the requests died with their victim");
        assertEquals(4, c.out.drainWorker(B).size(), "every task of a runs on b now");
        SchedulerToWorker.StealRequest r = asked.get(0);
        c.state.onStealResponse(A, r.key(), "ready", r.stimulusId());
        assertTrue(c.out.isEmpty());
        assertEquals("processing", c.state.queries().taskStatus(r.key()));
    }

    @Test
    void taskFinishingOnTheVictimWhileTheStealIsInFlightStaysThere() {
        List<SchedulerToWorker.StealRequest> asked = loadAThenAddB(10);
        SchedulerToWorker.StealRequest r = asked.get(0);
        c.taskFinished(A, r.key(), 8);
        c.out.expectInMemory(C1, r.key());
        assertEquals(1, c.state.stealsInFlight());
        c.state.onStealResponse(A, r.key(), "memory", r.stimulusId());
        assertTrue(c.out.isEmpty(), "no compute-task for a finished task");
        assertEquals("memory", c.state.queries().taskStatus(r.key()));
    }

    @Test
    void unknownToTheVictimIsScheduledAfresh() {
        List<SchedulerToWorker.StealRequest> asked = loadAThenAddB(10);
        SchedulerToWorker.StealRequest r = asked.get(0);
        c.state.onStealResponse(A, r.key(), null, r.stimulusId());
        assertEquals("processing", c.state.queries().taskStatus(r.key()));
        List<SchedulerToWorker> toB = c.out.drainWorker(B);
        List<SchedulerToWorker> toA = c.out.drainWorker(A);
        assertEquals(1, toA.size() + toB.size(), "sent once, wherever placement chose");
    }

    @Test
    void thiefGoneBeforeTheAnswerReschedules() {
        List<SchedulerToWorker.StealRequest> asked = loadAThenAddB(10);
        c.removeWorker(B);
        SchedulerToWorker.StealRequest r = asked.get(0);
        c.state.onStealResponse(A, r.key(), "ready", r.stimulusId());
        c.out.takeCompute(A, r.key());
        assertEquals("processing", c.state.queries().taskStatus(r.key()));
    }

    @Test
    void noStealWhenNobodyIsIdleOrNobodyIsSaturated() {
        c = new SimCluster(1.0, 3);
        c.autoDeliver = false;
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        c.updateGraph(c.graph(C1, List.of(task("x"), task("y"), task("z")), List.of("x", "y", "z"), null));
        c.out.drainAll();
        c.state.onBalance(c.now);
        assertTrue(c.out.isEmpty(), "queued tasks wait in the scheduler: no worker holds more than it runs");
        assertEquals(0, c.state.stealsInFlight());
    }

    @Test
    void restrictedTaskOnlyGoesToAWorkerThatMeetsItsRestrictions() {
        c = new SimCluster(1.1, 3);
        c.autoDeliver = false;
        c.addWorker("a", 1);
        c.addWorker("b", 1);
        List<GraphUpdate.NewTask> ts = new ArrayList<>();
        List<Object> keys = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ts.add(task("r" + i, onWorkers(List.of(A), i % 2 == 0)));
            keys.add("r" + i);
        }
        c.updateGraph(c.graph(C1, ts, keys, null));
        assertEquals(6, c.out.drainWorker(A).size(), "restricted to a (loosely or not)");
        c.state.onBalance(c.now);
        List<SchedulerToWorker> asked = c.out.drainWorker(A);
        assertFalse(asked.isEmpty());
        for (SchedulerToWorker m : asked) {
            Object key = ((SchedulerToWorker.StealRequest) m).key();
            int i = Integer.parseInt(key.toString().substring(1));
            assertEquals(0, i % 2, "only loosely restricted tasks may move: " + key);
        }
    }

    @Test
    void oneRequestPerKeyInFlight() {
        List<SchedulerToWorker.StealRequest> asked = loadAThenAddB(10);
        c.state.onBalance(c.now + 0.1);
        assertTrue(c.out.drainWorker(A).isEmpty(), "b already has two coming: no more requests");
        assertEquals(2, asked.size());
        assertEquals(2, c.state.stealsInFlight());
    }
}
