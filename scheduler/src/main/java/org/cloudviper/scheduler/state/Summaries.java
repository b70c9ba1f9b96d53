package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Builds {@link ClusterSummary} copies of the state (see {@link SchedulerState#summary}). */
final class Summaries {
    private Summaries() {
    }

    static ClusterSummary of(Collection<WorkerState> workers, Iterable<TaskState> tasks, int clients, long transitions,
                             boolean groups) {
        List<ClusterSummary.Worker> rows = new ArrayList<>(workers.size());
        for (WorkerState ws : workers) {
            rows.add(new ClusterSummary.Worker(ws.address, ws.name, ws.nthreads, ws.memoryLimit, ws.nbytes,
                    ws.processing.size(), ws.hasWhat.size(), status(ws), ws.meanComputeSeconds));
        }
        int[] counts = new int[TaskState.Status.values().length];
        Map<String, int[]> byPrefix = new HashMap<>();
        // Keys of one layer share their prefix and usually arrive together: remember the last one.
        Object lastKey = null;
        int[] lastCounts = null;
        for (TaskState ts : tasks) {
            counts[ts.status.ordinal()]++;
            if (groups) {
                Object k = ts.key;
                if (lastCounts == null || !samePrefixCandidate(lastKey, k)) {
                    lastCounts = byPrefix.computeIfAbsent(KeyPrefix.of(k),
                            p -> new int[TaskState.Status.values().length]);
                }
                lastKey = k;
                lastCounts[ts.status.ordinal()]++;
            }
        }
        Map<String, Integer> taskCounts = new TreeMap<>();
        for (TaskState.Status s : TaskState.Status.values()) {
            if (counts[s.ordinal()] > 0) {
                taskCounts.put(s.daskName, counts[s.ordinal()]);
            }
        }
        Map<String, Map<String, Integer>> prefixes = new TreeMap<>();
        for (Map.Entry<String, int[]> e : byPrefix.entrySet()) {
            Map<String, Integer> c = new TreeMap<>();
            for (TaskState.Status s : TaskState.Status.values()) {
                if (e.getValue()[s.ordinal()] > 0) {
                    c.put(s.daskName, e.getValue()[s.ordinal()]);
                }
            }
            prefixes.put(e.getKey(), c);
        }
        return new ClusterSummary(List.copyOf(rows), taskCounts, prefixes, clients, transitions);
    }

    /** Whether {@code b} certainly has {@code a}'s prefix: the same text up to its last '-' or ','. */
    private static boolean samePrefixCandidate(Object a, Object b) {
        if (!(a instanceof String sa) || !(b instanceof String sb)) {
            return false;
        }
        int cut = Math.max(sa.lastIndexOf('-'), sa.lastIndexOf(','));
        if (cut <= 0 || sb.length() <= cut || !sb.regionMatches(0, sa, 0, cut + 1)) {
            return false;
        }
        // the differing tails must both be digits (x-1, x-2 or "('x', 1)", "('x', 2)")
        return digitsTail(sa, cut + 1) && digitsTail(sb, cut + 1);
    }

    private static boolean digitsTail(String s, int from) {
        int end = s.endsWith(")") ? s.length() - 1 : s.length();
        if (from >= end) {
            return false;
        }
        for (int i = from; i < end; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9') && c != ' ') {
                return false;
            }
        }
        return true;
    }

    private static ClusterSummary.WorkerStatus status(WorkerState ws) {
        if (ws.retiring) {
            return ClusterSummary.WorkerStatus.CLOSING_GRACEFULLY;
        }
        return ws.running ? ClusterSummary.WorkerStatus.RUNNING : ClusterSummary.WorkerStatus.PAUSED;
    }
}
