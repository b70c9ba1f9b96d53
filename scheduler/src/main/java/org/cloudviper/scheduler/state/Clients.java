package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.SchedulerToClient;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who wants which key: the connected clients, the published datasets (each wants its keys through a
 * pseudo-client {@code published-<name>}, as in Dask), and the client requests that change what is
 * wanted. A key nobody wants and nothing needs is released at the end of the event
 * ({@link Transitions#releaseLater}).
 */
final class Clients {
    private final Outbox out;
    private final TaskTable tasks;
    private final Workers workers;
    private final Transitions transitions;
    private final HashMap<String, ClientState> clients = new HashMap<>();
    private final LinkedHashMap<String, SchedulerState.Dataset> datasets = new LinkedHashMap<>();

    Clients(Outbox out, TaskTable tasks, Workers workers, Transitions transitions) {
        this.out = out;
        this.tasks = tasks;
        this.workers = workers;
        this.transitions = transitions;
    }

    ClientState get(String id) {
        return clients.get(id);
    }

    ClientState getOrAdd(String id) {
        return clients.computeIfAbsent(id, ClientState::new);
    }

    int count() {
        return clients.size();
    }

    /** Every client by id (a live view, for tests). */
    Map<String, ClientState> byId() {
        return clients;
    }

    /** The client is gone: everything it wanted is released. */
    void remove(String id) {
        ClientState cs = clients.remove(id);
        if (cs == null) {
            return;
        }
        for (TaskState ts : cs.wants) {
            removeWanter(ts, cs);
        }
        cs.wants.clear();
    }

    /** The client wants {@code keys}: released ones are computed, the others reported as they stand. */
    void desire(ClientState cs, Collection<?> keys) {
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts == null) {
                // Dask creates a spec-less task (publish, queues); it can only become available by scatter.
                ts = tasks.create(key);
                tasks.putIfAbsent(ts);
            }
            addWanter(ts, cs);
            if (ts.status == TaskState.Status.RELEASED && ts.spec != null) {
                transitions.recompute(ts);
            } else {
                reportOnKey(ts, cs);
            }
        }
    }

    void release(ClientState cs, Collection<?> keys) {
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts != null && cs.wants.remove(ts)) {
                removeWanter(ts, cs);
            }
        }
    }

    /**
     * Client.scatter: the server placed the data on workers with update_data; the keys are in memory
     * where {@code whoHas} says, and the client wants them.
     */
    void scattered(ClientState cs, Map<Object, List<String>> whoHas, Map<Object, Long> nbytes) {
        for (Map.Entry<Object, List<String>> e : whoHas.entrySet()) {
            TaskState ts = tasks.get(e.getKey());
            if (ts == null) {
                ts = tasks.create(e.getKey());
                tasks.putIfAbsent(ts);
            }
            long nb = nbytes.getOrDefault(e.getKey(), 0L);
            boolean placed = false;
            for (String addr : e.getValue()) {
                WorkerState ws = workers.get(addr);
                if (ws != null) {
                    transitions.addReplica(ts, ws, nb);
                    placed = true;
                }
            }
            if (placed && ts.status != TaskState.Status.MEMORY) {
                transitions.scatteredToMemory(ts);
            }
            addWanter(ts, cs);
            reportOnKey(ts, cs);
        }
    }

    /**
     * Client.cancel: the client stops wanting the keys and their dependents; keys nobody else wants
     * (or all, with {@code force}) are reported as cancelled.
     */
    void cancel(ClientState cs, Collection<?> keys, boolean force) {
        ArrayDeque<TaskState> work = new ArrayDeque<>();
        Set<TaskState> seen = new HashSet<>();
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts != null && seen.add(ts)) {
                work.add(ts);
            }
        }
        while (!work.isEmpty()) {
            TaskState ts = work.poll();
            if (ts.whoWants == null) {
                continue;
            }
            boolean onlyThisClient = ts.whoWants == cs;
            if (force || onlyThisClient) {
                for (int i = 0; i < ts.dependentCount; i++) {
                    TaskState d = ts.dependents[i];
                    if (d.status != TaskState.Status.FORGOTTEN && seen.add(d)) {
                        work.add(d);
                    }
                }
                for (ClientState c : wanters(ts)) {
                    out.toClient(c.id, new SchedulerToClient.CancelledKeys(List.of(ts.key)));
                }
            }
            List<ClientState> releasing = force ? wanters(ts) : List.of(cs);
            for (ClientState c : releasing) {
                if (c.wants.remove(ts)) {
                    removeWanter(ts, c);
                }
            }
        }
    }

    /**
     * Client.retry: erred keys and the erred tasks upstream of them are computed again, with
     * everything downstream that erred because of them. Returns every key looked at (Dask's reply).
     */
    List<Object> retry(Collection<?> keys) {
        ArrayDeque<TaskState> stack = new ArrayDeque<>();
        for (Object key : keys) {
            TaskState ts = tasks.get(key);
            if (ts != null) {
                stack.push(ts);
            }
        }
        Set<TaskState> seen = new LinkedHashSet<>();
        List<TaskState> roots = new ArrayList<>();
        while (!stack.isEmpty()) {
            TaskState ts = stack.pop();
            if (!seen.add(ts)) {
                continue;
            }
            boolean erredDeps = false;
            for (TaskState dep : ts.dependencies) {
                if (dep.status == TaskState.Status.ERRED) {
                    erredDeps = true;
                    stack.push(dep);
                }
            }
            if (!erredDeps && ts.status == TaskState.Status.ERRED) {
                roots.add(ts);
            }
        }
        // Clear the error on the roots and on everything downstream that erred because of them.
        ArrayDeque<TaskState> down = new ArrayDeque<>(roots);
        List<TaskState> cleared = new ArrayList<>();
        while (!down.isEmpty()) {
            TaskState ts = down.poll();
            if (ts.status != TaskState.Status.ERRED) {
                continue;
            }
            transitions.erredToReleased(ts);
            cleared.add(ts);
            for (ClientState c : wanters(ts)) {
                out.toClient(c.id, new SchedulerToClient.TaskRetried(ts.key));
            }
            for (int i = 0; i < ts.dependentCount; i++) {
                down.add(ts.dependents[i]);
            }
        }
        List<TaskState> toRun = new ArrayList<>();
        for (TaskState ts : cleared) {
            if (ts.wanted() || ts.waiters > 0) {
                toRun.add(ts);
            }
        }
        transitions.recompute(toRun);
        transitions.releaseLater(cleared);
        List<Object> result = new ArrayList<>(seen.size());
        for (TaskState ts : seen) {
            result.add(ts.key);
        }
        return result;
    }

    /** Sends the current state of {@code ts} to one client (after it asked for the key). */
    void reportOnKey(TaskState ts, ClientState cs) {
        if (ts.status == TaskState.Status.MEMORY) {
            out.toClient(cs.id, new SchedulerToClient.KeyInMemory(ts.key, ts.type));
        } else if (ts.status == TaskState.Status.ERRED) {
            out.toClient(cs.id, new SchedulerToClient.TaskErred(ts.key, ts.exception, ts.traceback));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Wanters of a task: one ClientState, or a Set of them when more than one wants it
    // ------------------------------------------------------------------------------------------

    static void addWanter(TaskState ts, ClientState cs) {
        if (!cs.wants.add(ts)) {
            return;
        }
        if (ts.whoWants == null) {
            ts.whoWants = cs;
        } else if (ts.whoWants instanceof ClientState other) {
            Set<ClientState> s = new HashSet<>(4);
            s.add(other);
            s.add(cs);
            ts.whoWants = s;
        } else {
            @SuppressWarnings("unchecked") Set<ClientState> s = (Set<ClientState>) ts.whoWants;
            s.add(cs);
        }
    }

    /** Takes {@code cs} off the task's wanters (the caller took the task off {@code cs.wants}). */
    private void removeWanter(TaskState ts, ClientState cs) {
        if (ts.whoWants == cs) {
            ts.whoWants = null;
        } else if (ts.whoWants instanceof Set<?> s) {
            s.remove(cs);
            if (s.size() == 1) {
                ts.whoWants = s.iterator().next();
            }
        }
        if (ts.whoWants == null) {
            transitions.releaseLater(ts);
        }
    }

    @SuppressWarnings("unchecked")
    static List<ClientState> wanters(TaskState ts) {
        if (ts.whoWants == null) {
            return List.of();
        }
        if (ts.whoWants instanceof ClientState c) {
            return List.of(c);
        }
        return new ArrayList<>((Set<ClientState>) ts.whoWants);
    }

    // ------------------------------------------------------------------------------------------
    // Published datasets (publish_put / publish_get / publish_delete / publish_list)
    // ------------------------------------------------------------------------------------------

    /** The pseudo-client through which dataset {@code name} wants its keys. */
    static String datasetClient(String name) {
        return "published-" + name;
    }

    boolean hasDataset(String name) {
        return datasets.containsKey(name);
    }

    /**
     * Stores the dataset, retaining {@code data}, and lets go of the data of the one it replaces.
     * Returns the replaced dataset's keys that the new one does not have (the caller releases them
     * once the new keys are wanted), or null if there was none.
     */
    List<Object> putDataset(String name, List<Object> keys, SubObject data) {
        SchedulerState.Dataset old = datasets.put(name, new SchedulerState.Dataset(List.copyOf(keys),
                data == null ? null : (SubObject) data.retain()));
        if (old == null) {
            return null;
        }
        if (old.data() != null) {
            old.data().release();
        }
        List<Object> dropped = new ArrayList<>(old.keys());
        dropped.removeAll(new HashSet<>(keys));
        return dropped;
    }

    SchedulerState.Dataset dataset(String name) {
        return datasets.get(name);
    }

    List<String> datasetNames() {
        return new ArrayList<>(datasets.keySet());
    }

    /** Removes the dataset and lets go of its data; returns its keys, or null if there is none. */
    List<Object> removeDataset(String name) {
        SchedulerState.Dataset d = datasets.remove(name);
        if (d == null) {
            return null;
        }
        if (d.data() != null) {
            d.data().release();
        }
        return d.keys();
    }
}
