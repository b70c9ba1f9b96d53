package org.cloudviper.worker.state;

import java.util.Map;

/**
 * The consistency of a {@link WorkerState}, recomputed from scratch: every index over the tasks
 * (queues, sets per state, data_needed, has_what, stored data) agrees with the tasks' states, and
 * every counter with what it counts (distributed's {@code WorkerState.validate_state}). Tests run it
 * after every event; production never does.
 */
final class Invariants {
    private final WorkerState s;

    private Invariants(WorkerState s) {
        this.s = s;
    }

    /** Throws {@link IllegalStateException}, with the key's story where one key is at fault. */
    static void check(WorkerState s) {
        Invariants v = new Invariants(s);
        v.tasks();
        v.executing();
        v.memory();
    }

    private void tasks() {
        MemoryManager memory = s.memory;
        ExecutionSlots slots = s.slots;
        TransferPlanner transfers = s.transfers;
        long fetch = 0;
        for (TaskState ts : s.tasks.values()) {
            check(ts.state != TaskStatus.FORGOTTEN, ts, "forgotten task still known");
            check(memory.contains(ts.key) == (ts.state == TaskStatus.MEMORY), ts, "data iff memory");
            check(slots.ready.contains(ts) == (ts.state == TaskStatus.READY), ts, "ready set iff ready");
            check(slots.constrained.contains(ts) == (ts.state == TaskStatus.CONSTRAINED), ts,
                    "constrained set iff constrained");
            check(s.transitions.waiting.contains(ts) == (ts.state == TaskStatus.WAITING), ts, "waiting set iff waiting");
            check(transfers.missingDepFlight.contains(ts) == (ts.state == TaskStatus.MISSING), ts,
                    "missing set iff missing");
            if (ts.state == TaskStatus.FETCH) {
                fetch++;
                check(!ts.whoHas.isEmpty(), ts, "fetch without who_has");
                for (String w : ts.whoHas) {
                    check(transfers.dataNeeded.containsKey(w) && transfers.dataNeeded.get(w).contains(ts), ts,
                            "fetch task not in data_needed[" + w + "]");
                }
            }
            if (ts.state == TaskStatus.FLIGHT) {
                check(transfers.inFlightTasks.contains(ts), ts, "flight task not in flight set");
                check(ts.comingFrom != null && transfers.gathering(ts.comingFrom), ts,
                        "flight task without in-flight peer");
            }
            if (ts.state == TaskStatus.EXECUTING) {
                check(slots.executing.contains(ts), ts, "executing task not in executing set");
            }
            if (ts.state == TaskStatus.WAITING) {
                for (TaskState d : ts.waitingForData) {
                    check(d.state != TaskStatus.MEMORY, ts, "waiting for " + d.key + " which is in memory");
                    check(d.waiters.contains(ts), ts, "not a waiter of " + d.key);
                }
            }
            if (ts.state == TaskStatus.READY || ts.state == TaskStatus.CONSTRAINED) {
                for (TaskState d : ts.dependencies) {
                    check(d.state == TaskStatus.MEMORY, ts, "ready while " + d.key + " is " + d.state);
                }
            }
            for (TaskState d : ts.dependencies) {
                check(s.tasks.get(d.key) == d, ts, "dependency " + d.key + " unknown");
                check(d.dependents.contains(ts), ts, "not a dependent of " + d.key);
            }
            for (String w : ts.whoHas) {
                check(transfers.hasWhat.containsKey(w) && transfers.hasWhat.get(w).contains(ts.key), ts,
                        "has_what[" + w + "] misses it");
            }
        }
        check(fetch == transfers.fetchCount, null, "fetch count " + transfers.fetchCount + " != " + fetch);
    }

    private void executing() {
        ExecutionSlots slots = s.slots;
        check(slots.executing.size() <= slots.nthreads() * ExecutionSlots.MAX_PREFETCH_PER_THREAD, null,
                "more executing than prefetch allows");
        for (TaskState ts : slots.executing) {
            check(s.tasks.get(ts.key) == ts, ts, "executing task unknown");
        }
        for (Map.Entry<String, Double> r : slots.availableResources.entrySet()) {
            check(r.getValue() >= -1e-9, null, "resource " + r.getKey() + " below zero");
        }
    }

    private void memory() {
        MemoryManager m = s.memory;
        long mb = 0;
        for (Object k : m.data.keySet()) {
            TaskState ts = s.tasks.get(k);
            check(ts != null, null, "data without task: " + k);
            mb += ts.nbytes == null ? 0 : ts.nbytes;
        }
        check(mb == m.managedBytes, null, "managed bytes " + m.managedBytes + " != " + mb);
        long sb = 0;
        for (Map.Entry<Object, Long> e : m.spilled.entrySet()) {
            check(m.data.containsKey(e.getKey()) && !m.fast.contains(e.getKey()), s.tasks.get(e.getKey()),
                    "spilled key without data, or also in memory");
            sb += e.getValue();
        }
        check(sb == m.spilledBytes, null, "spilled bytes " + m.spilledBytes + " != " + sb);
        long pb = 0;
        for (Map.Entry<Object, Long> e : m.spilling.entrySet()) {
            check(m.data.containsKey(e.getKey()) && !m.fast.contains(e.getKey()) && !m.spilled.containsKey(e.getKey()),
                    s.tasks.get(e.getKey()), "key being spilled without data, or also in memory or spilled");
            pb += e.getValue();
        }
        check(pb == m.spillingBytes, null, "bytes being spilled " + m.spillingBytes + " != " + pb);
        check(m.fast.size() + m.spilled.size() + m.spilling.size() == m.data.size(), null,
                "data keys neither in memory nor spilled");
    }

    private void check(boolean ok, TaskState ts, String what) {
        if (!ok) {
            throw ts == null ? new IllegalStateException("invalid worker state: " + what)
                    : s.story.invalid(ts.key, "invalid worker state: " + what);
        }
    }
}
