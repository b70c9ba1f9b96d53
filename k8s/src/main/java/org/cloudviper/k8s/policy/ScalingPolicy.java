package org.cloudviper.k8s.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the scaler does next, from what it sees: the scheduler's adaptive target (Dask's
 * {@code adaptive_target}: queued work times the average task duration over a target duration), the
 * worker pods, the registered workers and the interrupted nodes. Pure: no Kubernetes client, no
 * scheduler, no clock; one instance remembers only how many rounds in a row asked to scale down.
 *
 * <ul>
 *   <li>A worker on an interrupted node is retired at once (its data moves to the others) and its pod
 *       is deleted once that is done; a pod there without a registered worker is deleted at once. The
 *       pods leaving do not count, so replacements are created in the same round, kept off the
 *       interrupted nodes.</li>
 *   <li>Up: pods are created until the live pods reach the target, at most {@code max}.</li>
 *   <li>Down, after {@code scaleDownAfter} rounds in a row that asked for it (Dask's Adaptive waits
 *       for 3 too): pods whose worker has not registered go first, newest first (they hold nothing);
 *       then idle workers are retired through the scheduler, which picks those with the least data.
 *       A worker that runs something is never let go.</li>
 *   <li>Finished pods (their worker exited) are deleted.</li>
 * </ul>
 */
public final class ScalingPolicy {
    /**
     * @param min            workers kept even without work
     * @param max            workers never exceeded (replacements for interrupted nodes aside)
     * @param scaleDownAfter rounds in a row that must ask to shrink before anything is retired
     */
    public record Limits(int min, int max, int scaleDownAfter) {
        public Limits {
            if (min < 0 || max < min || scaleDownAfter < 1) {
                throw new IllegalArgumentException("limits: min " + min + ", max " + max + ", scale down after "
                        + scaleDownAfter + " (expected: 0 <= min <= max, scale down after >= 1)");
            }
        }
    }

    /**
     * @param target      the scheduler's adaptive target, in workers
     * @param pods        this cluster's worker pods
     * @param workers     the workers registered with the scheduler
     * @param interrupted names of the nodes about to go away (see {@link Interruptions})
     * @param retiring    names of workers the scaler is retiring right now
     */
    public record Observation(int target, List<PodView> pods, List<WorkerView> workers, Set<String> interrupted,
                              Set<String> retiring) {
    }

    /**
     * @param retireInterrupted addresses of workers on interrupted nodes to retire now
     * @param retireIdle        how many idle workers to retire (the scheduler picks which)
     * @param deletePods        pods to delete now
     * @param createPods        pods to create now
     * @param avoidNodes        nodes new pods must not land on
     */
    public record Decision(List<String> retireInterrupted, int retireIdle, List<String> deletePods, int createPods,
                           Set<String> avoidNodes) {
        public boolean isEmpty() {
            return retireInterrupted.isEmpty() && retireIdle == 0 && deletePods.isEmpty() && createPods == 0;
        }
    }

    private final Limits limits;
    private int scaleDownStreak;

    public ScalingPolicy(Limits limits) {
        this.limits = limits;
    }

    public Limits limits() {
        return limits;
    }

    public Decision decide(Observation o) {
        Map<String, WorkerView> workers = new HashMap<>();
        for (WorkerView w : o.workers()) {
            workers.put(w.name(), w);
        }
        List<String> retireInterrupted = new ArrayList<>();
        List<String> delete = new ArrayList<>();
        List<PodView> staying = new ArrayList<>();
        for (PodView p : o.pods()) {
            WorkerView w = workers.get(p.name());
            if (p.deleting()) {
                continue;
            }
            if (p.finished()) {
                delete.add(p.name());
            } else if (p.node() != null && o.interrupted().contains(p.node())) {
                if (w == null) {
                    delete.add(p.name());
                } else if (!o.retiring().contains(w.name())) {
                    retireInterrupted.add(w.address());
                }
            } else if (w == null || !o.retiring().contains(w.name())) {
                staying.add(p);
            }
        }
        int desired = Math.max(limits.min(), Math.min(limits.max(), o.target()));
        int create = 0;
        int retireIdle = 0;
        if (desired > staying.size()) {
            scaleDownStreak = 0;
            create = desired - staying.size();
        } else if (desired < staying.size()) {
            scaleDownStreak++;
            if (scaleDownStreak >= limits.scaleDownAfter()) {
                scaleDownStreak = 0;
                int excess = staying.size() - desired;
                List<PodView> unregistered = new ArrayList<>();
                int idle = 0;
                for (PodView p : staying) {
                    WorkerView w = workers.get(p.name());
                    if (w == null) {
                        unregistered.add(p);
                    } else if (w.idle()) {
                        idle++;
                    }
                }
                unregistered.sort(Comparator.comparingDouble(PodView::created).reversed());
                for (PodView p : unregistered) {
                    if (excess == 0) {
                        break;
                    }
                    delete.add(p.name());
                    excess--;
                }
                retireIdle = Math.min(excess, idle);
            }
        } else {
            scaleDownStreak = 0;
        }
        return new Decision(List.copyOf(retireInterrupted), retireIdle, List.copyOf(delete), create,
                Set.copyOf(o.interrupted()));
    }
}
