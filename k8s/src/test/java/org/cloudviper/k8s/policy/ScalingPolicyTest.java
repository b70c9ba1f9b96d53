package org.cloudviper.k8s.policy;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scaling decisions, one situation at a time. */
class ScalingPolicyTest {
    private static final ScalingPolicy.Limits LIMITS = new ScalingPolicy.Limits(1, 4, 3);

    private static PodView pod(String name, String node) {
        return new PodView(name, node, false, false, name.hashCode());
    }

    private static WorkerView worker(String name, boolean idle) {
        return new WorkerView(name, "tcp://" + name + ":8789", idle);
    }

    private static ScalingPolicy.Observation seen(int target, List<PodView> pods, List<WorkerView> workers,
                                                  Set<String> interrupted, Set<String> retiring) {
        return new ScalingPolicy.Observation(target, pods, workers, interrupted, retiring);
    }

    @Test
    void aBurstScalesUpToTheTargetWithinMax() {
        ScalingPolicy p = new ScalingPolicy(LIMITS);
        ScalingPolicy.Decision d = p.decide(seen(1000, List.of(), List.of(), Set.of(), Set.of()));
        assertEquals(4, d.createPods(), "the target clamped to max");
        d = p.decide(seen(1000, List.of(pod("a", null), pod("b", null), pod("c", "n1"), pod("d", "n1")),
                List.of(worker("c", false)), Set.of(), Set.of()));
        assertTrue(d.isEmpty(), "pending pods count: nothing more to create " + d);
        d = p.decide(seen(0, List.of(), List.of(), Set.of(), Set.of()));
        assertEquals(1, d.createPods(), "min workers even without work");
    }

    @Test
    void scalingDownWaitsForThreeRoundsAndStartsWithPodsThatHoldNothing() {
        ScalingPolicy p = new ScalingPolicy(LIMITS);
        List<PodView> pods = List.of(new PodView("old", "n1", false, false, 1), new PodView("new", null, false, false, 3),
                new PodView("newer", null, false, false, 4), new PodView("busy", "n2", false, false, 2));
        List<WorkerView> workers = List.of(worker("old", true), worker("busy", false));
        ScalingPolicy.Observation o = seen(1, pods, workers, Set.of(), Set.of());
        assertTrue(p.decide(o).isEmpty());
        assertTrue(p.decide(o).isEmpty());
        ScalingPolicy.Decision d = p.decide(o);
        assertEquals(List.of("newer", "new"), d.deletePods(), "unregistered pods first, newest first");
        assertEquals(1, d.retireIdle(), "then the one idle worker (4 pods - target 1 = 3)");
        assertTrue(p.decide(o).isEmpty(), "the count starts again after acting");
    }

    @Test
    void aRoundThatWantsMoreResetsTheScaleDownCount() {
        ScalingPolicy p = new ScalingPolicy(LIMITS);
        List<PodView> pods = List.of(pod("a", "n1"), pod("b", "n1"));
        List<WorkerView> idle = List.of(worker("a", true), worker("b", true));
        p.decide(seen(1, pods, idle, Set.of(), Set.of()));
        p.decide(seen(1, pods, idle, Set.of(), Set.of()));
        p.decide(seen(2, pods, idle, Set.of(), Set.of()));
        assertTrue(p.decide(seen(1, pods, idle, Set.of(), Set.of())).isEmpty());
        assertTrue(p.decide(seen(1, pods, idle, Set.of(), Set.of())).isEmpty());
        assertEquals(1, p.decide(seen(1, pods, idle, Set.of(), Set.of())).retireIdle());
    }

    @Test
    void busyWorkersAreNeverRetired() {
        ScalingPolicy p = new ScalingPolicy(new ScalingPolicy.Limits(0, 4, 1));
        ScalingPolicy.Decision d = p.decide(seen(0, List.of(pod("a", "n1")), List.of(worker("a", false)), Set.of(),
                Set.of()));
        assertEquals(0, d.retireIdle());
        assertTrue(d.deletePods().isEmpty());
    }

    @Test
    void anInterruptedNodesWorkersRetireAtOnceAndAreReplacedElsewhere() {
        ScalingPolicy p = new ScalingPolicy(new ScalingPolicy.Limits(3, 3, 3));
        List<PodView> pods = new ArrayList<>(List.of(pod("a", "spot-1"), pod("b", "spot-2"), pod("c", "spot-1"),
                pod("pending", "spot-1")));
        List<WorkerView> workers = List.of(worker("a", false), worker("b", false), worker("c", true));
        ScalingPolicy.Decision d = p.decide(seen(3, pods, workers, Set.of("spot-1"), Set.of()));
        assertEquals(List.of("tcp://a:8789", "tcp://c:8789"), d.retireInterrupted(), "busy or idle alike");
        assertEquals(List.of("pending"), d.deletePods(), "no worker there yet: nothing to move");
        assertEquals(2, d.createPods(), "replacements for a and c, at once");
        assertEquals(Set.of("spot-1"), d.avoidNodes());

        pods.remove(3);
        d = p.decide(seen(3, pods, workers, Set.of("spot-1"), Set.of("a", "c")));
        assertEquals(List.of(), d.retireInterrupted(), "not asked twice while the retirement runs");
        assertEquals(2, d.createPods(), "the pods leaving still do not count");
    }

    @Test
    void finishedPodsAreDeletedAndReplaced() {
        ScalingPolicy p = new ScalingPolicy(new ScalingPolicy.Limits(2, 2, 3));
        ScalingPolicy.Decision d = p.decide(seen(2, List.of(new PodView("gone", "n1", true, false, 1), pod("b", "n1")),
                List.of(worker("b", true)), Set.of(), Set.of()));
        assertEquals(List.of("gone"), d.deletePods());
        assertEquals(1, d.createPods());
        d = p.decide(seen(2, List.of(new PodView("terminating", "n1", false, true, 1), pod("b", "n1")),
                List.of(worker("b", true)), Set.of(), Set.of()));
        assertEquals(List.of(), d.deletePods(), "already going");
        assertEquals(1, d.createPods());
    }

    @Test
    void limitsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new ScalingPolicy.Limits(3, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new ScalingPolicy.Limits(-1, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new ScalingPolicy.Limits(0, 2, 0));
    }

    @Test
    void interruptionsByTaintCordonOrDeletion() {
        Interruptions i = Interruptions.defaults();
        assertTrue(i.interrupted(new NodeView("n", Set.of(Interruptions.AWS_SPOT_ITN), false, false)));
        assertTrue(i.interrupted(new NodeView("n", Set.of(), true, false)), "cordoned");
        assertTrue(i.interrupted(new NodeView("n", Set.of(), false, true)), "deleted");
        assertTrue(!i.interrupted(new NodeView("n", Set.of("k8s.dask.org/dedicated"), false, false)),
                "the worker taint is no interruption");
        assertTrue(new Interruptions(Set.of("example.com/preempt")).interrupted(
                new NodeView("n", Set.of("example.com/preempt"), false, false)), "a configured key");
    }
}
