package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Turns a graph update into tasks: creates the new keys (keeping known ones as they are, as Dask's
 * update_graph does), links dependencies, forgets tasks that depend on unknown keys, gives each
 * task its priority (user priority, FIFO generation, order) and makes the client want its keys.
 * The new tasks stay released; {@link SchedulerState#onUpdateGraph} starts what is wanted.
 */
final class GraphIngest {
    private final TaskTable tasks;
    private final Release release;
    private final Interner interner;
    private long generation;
    private double generationTime = Double.NEGATIVE_INFINITY;

    /**
     * The tasks an update created (including any forgotten at once as lost), and the existing tasks
     * of its wanted keys, now wanted by the client.
     */
    record Added(List<TaskState> created, List<TaskState> wanted) {
    }

    GraphIngest(TaskTable tasks, Release release, Interner interner) {
        this.tasks = tasks;
        this.release = release;
        this.interner = interner;
    }

    Added add(GraphUpdate u, ClientState cs) {
        if (u.now() - generationTime > u.fifoTimeout()) {
            generation++;
            generationTime = u.now();
        }
        tasks.reserve(u.tasks().size());
        List<TaskState> created = new ArrayList<>(u.tasks().size());
        List<List<Object>> createdDeps = new ArrayList<>(u.tasks().size());
        long[] createdOrder = u.clientOrder() ? new long[u.tasks().size()] : null;
        for (GraphUpdate.NewTask nt : u.tasks()) {
            // One probe: the new task goes in unless the key is known.
            TaskState fresh = tasks.create(nt.key());
            TaskState known = tasks.putIfAbsent(fresh);
            TaskState ts;
            if (known == null) {
                ts = fresh;
            } else if (known.spec == null && known.status == TaskState.Status.RELEASED
                    && known.dependencies.length == 0) {
                // A placeholder: a client or dataset wanted the key before its graph arrived (publish
                // RPCs can overtake the client's stream). It takes this spec, as Dask's update_graph
                // gives run_spec to known keys that have none.
                ts = known;
            } else {
                continue; // known key (or repeated in this graph): keep its state, as Dask does
            }
            createdDeps.add(nt.dependencies());
            if (createdOrder != null) {
                createdOrder[created.size()] = nt.order();
            }
            ts.spec = interner.internSpec(nt.spec());
            applyOptions(ts, nt.options());
            ts.actor = u.actors().contains(nt.key());
            ts.generation = generation;
            ts.order = GraphOrder.UNORDERED;
            created.add(ts);
        }
        Set<TaskState> lost = link(created, createdDeps);
        if (lost != null) {
            release.forgetLost(lost, cs);
        }
        if (u.clientOrder()) {
            long next = 0;
            for (int c = 0; c < created.size(); c++) {
                TaskState ts = created.get(c);
                long o = createdOrder[c];
                ts.order = o != GraphUpdate.NewTask.NO_ORDER ? o : next;
                next = Math.max(next, ts.order + 1);
            }
        } else {
            GraphOrder.order(created);
        }
        List<TaskState> wanted = new ArrayList<>(u.wanted().size());
        // Clients list the wanted keys in the order of their tasks (map, submit, compute): try the
        // next created task before probing the table, a random memory access per key (not when lost
        // tasks were dropped from the table: the table alone says which tasks exist then).
        int guess = lost == null ? 0 : created.size();
        for (Object key : u.wanted()) {
            TaskState ts;
            if (guess < created.size() && Objects.equals(created.get(guess).key, key)) {
                ts = created.get(guess++);
            } else {
                ts = tasks.get(key);
            }
            if (ts == null) {
                continue;
            }
            Clients.addWanter(ts, cs);
            wanted.add(ts);
        }
        return new Added(created, wanted);
    }

    /**
     * Links each created task to its dependencies; returns the tasks with a dependency the scheduler
     * does not know (a lost future: they cannot run), or null if there are none.
     */
    private Set<TaskState> link(List<TaskState> created, List<List<Object>> createdDeps) {
        Set<TaskState> lost = null;
        for (int c = 0; c < created.size(); c++) {
            TaskState ts = created.get(c);
            List<Object> deps = createdDeps.get(c);
            if (deps.isEmpty()) {
                continue;
            }
            TaskState[] arr = new TaskState[deps.size()];
            int n = 0;
            for (Object dk : deps) {
                TaskState dep = tasks.get(dk);
                if (dep == null || dep == ts) {
                    if (dep == null) {
                        if (lost == null) {
                            lost = new HashSet<>();
                        }
                        lost.add(ts);
                    }
                    continue;
                }
                if (!contains(arr, n, dep)) {
                    arr[n++] = dep;
                }
            }
            ts.dependencies = n == arr.length ? arr : Arrays.copyOf(arr, n);
            for (TaskState dep : ts.dependencies) {
                dep.addDependent(ts);
            }
        }
        return lost;
    }

    private static boolean contains(TaskState[] arr, int n, TaskState x) {
        for (int i = 0; i < n; i++) {
            if (arr[i] == x) {
                return true;
            }
        }
        return false;
    }

    private static void applyOptions(TaskState ts, GraphUpdate.TaskOptions o) {
        if (o == null || o == GraphUpdate.TaskOptions.NONE) {
            return;
        }
        ts.negUserPriority = -o.userPriority();
        ts.retries = o.retries();
        ts.workerRestrictions = o.workers() == null || o.workers().isEmpty() ? null : List.copyOf(o.workers());
        ts.looseRestrictions = o.allowOtherWorkers();
        ts.resourceRestrictions = o.resources() == null || o.resources().isEmpty() ? null : Map.copyOf(o.resources());
        ts.annotations = o.annotations() == null ? Map.of() : o.annotations();
    }
}
