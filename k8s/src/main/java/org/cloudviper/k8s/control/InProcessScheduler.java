package org.cloudviper.k8s.control;

import org.cloudviper.k8s.policy.WorkerView;
import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.state.Adaptive;
import org.cloudviper.scheduler.state.ClusterSummary;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The scheduler of this process, through its facade: retired workers are told to close (their pods
 * end), and the adaptive target uses the configured target duration.
 */
public final class InProcessScheduler implements SchedulerControl {
    private final Scheduler scheduler;
    private final Duration targetDuration;

    public InProcessScheduler(Scheduler scheduler, Duration targetDuration) {
        this.scheduler = scheduler;
        this.targetDuration = targetDuration;
    }

    @Override
    public List<WorkerView> workers() {
        List<WorkerView> r = new ArrayList<>();
        for (ClusterSummary.Worker w : scheduler.summary(false).workers()) {
            r.add(new WorkerView(w.name(), w.address(), w.idle()));
        }
        return r;
    }

    @Override
    public int adaptiveTarget() {
        return scheduler.adaptiveTarget(targetDuration);
    }

    @Override
    public CompletableFuture<Map<String, String>> retire(List<String> addresses) {
        Map<String, String> names = new LinkedHashMap<>();
        for (ClusterSummary.Worker w : scheduler.summary(false).workers()) {
            names.put(w.address(), w.name());
        }
        return scheduler.retireWorkers(addresses, true).thenApply(retired -> named(retired, names));
    }

    @Override
    public CompletableFuture<Map<String, String>> retireIdle(int n) {
        List<String> idle = Adaptive.idleToClose(scheduler.summary(false));
        return retire(idle.subList(0, Math.min(n, idle.size())));
    }

    private static Map<String, String> named(Set<String> addresses, Map<String, String> names) {
        Map<String, String> r = new LinkedHashMap<>();
        for (String a : addresses) {
            r.put(a, names.getOrDefault(a, a));
        }
        return r;
    }
}
