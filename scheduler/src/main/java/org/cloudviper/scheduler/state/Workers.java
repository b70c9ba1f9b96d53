package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The registered workers by address, in registration order, and the RPC views of them (has_what,
 * ncores, where scatter puts data). What a worker holds and runs lives in its {@link WorkerState}.
 *
 * <p>Nothing here walks every worker per heartbeat, registration or TTL tick: a thousand workers
 * heartbeat about 170 times a second, and a scheduler with nothing to do should cost nothing.
 */
final class Workers {
    private final LinkedHashMap<String, WorkerState> byAddress = new LinkedHashMap<>();
    /** Registered names (Dask's Scheduler.aliases), so a registration checks its name at once. */
    private final Set<String> names = new HashSet<>();
    /**
     * The workers from the longest silent to the latest heard of: access order, so that
     * {@link #heard} moves a worker to the end and the TTL check reads only the silent ones at the head.
     */
    private final LinkedHashMap<String, WorkerState> bySilence = new LinkedHashMap<>(16, 0.75f, true);
    private long scatterCounter;

    /** Null if {@code r} may register, else the error Dask would send (address or name taken). */
    String refusal(WorkerRegistration r) {
        if (byAddress.containsKey(r.address())) {
            return "Worker at " + r.address() + " is already registered";
        }
        if (names.contains(r.name())) {
            return "name taken, " + r.name();
        }
        return null;
    }

    WorkerState register(WorkerRegistration r) {
        WorkerState ws = new WorkerState(r.address(), r.name(), Math.max(1, r.nthreads()), r.memoryLimit(),
                r.resources() == null ? Map.of() : Map.copyOf(r.resources()), r.now());
        byAddress.put(ws.address, ws);
        names.add(ws.name);
        bySilence.put(ws.address, ws);
        ws.registered = true;
        return ws;
    }

    WorkerState remove(String address) {
        WorkerState ws = byAddress.remove(address);
        if (ws != null) {
            names.remove(ws.name);
            bySilence.remove(address);
            ws.registered = false;
        }
        return ws;
    }

    /**
     * {@code address} was heard of at {@code now} (a heartbeat); null if it is not registered. The
     * events' clock only moves forward, so the workers stay in order of when they were last heard of.
     */
    WorkerState heard(String address, double now) {
        WorkerState ws = bySilence.get(address);
        if (ws != null) {
            ws.lastSeen = Math.max(ws.lastSeen, now);
        }
        return ws;
    }

    WorkerState get(String address) {
        return byAddress.get(address);
    }

    /** Whether {@code ws} is registered (not a worker that left, nor an older one at its address). */
    boolean isRegistered(WorkerState ws) {
        return ws.registered;
    }

    boolean contains(String address) {
        return byAddress.containsKey(address);
    }

    int size() {
        return byAddress.size();
    }

    Collection<WorkerState> all() {
        return byAddress.values();
    }

    /** The registered workers by address (a live view, for tests). */
    Map<String, WorkerState> byAddress() {
        return byAddress;
    }

    List<String> addresses() {
        return new ArrayList<>(byAddress.keySet());
    }

    /**
     * The workers not heard of for longer than {@code ttlSeconds} at {@code now}: read from the head
     * of the silence order up to the first worker heard of since, so a tick costs the silent ones only.
     */
    List<String> silentFor(double now, double ttlSeconds) {
        List<String> r = new ArrayList<>(0);
        for (WorkerState ws : bySilence.values()) { // iterating an access-ordered map does not reorder it
            if (now - ws.lastSeen <= ttlSeconds) {
                break;
            }
            r.add(ws.address);
        }
        return r;
    }

    /** For the validator: what disagrees between the workers and their name and silence indexes, or null. */
    String indexProblem() {
        if (names.size() != byAddress.size() || bySilence.size() != byAddress.size()) {
            return "worker indexes: " + byAddress.size() + " workers, " + names.size() + " names, "
                    + bySilence.size() + " in the silence order";
        }
        double last = Double.NEGATIVE_INFINITY;
        for (WorkerState ws : bySilence.values()) {
            if (byAddress.get(ws.address) != ws || !names.contains(ws.name)) {
                return "worker " + ws.address + " indexed but not registered";
            }
            if (ws.lastSeen < last) {
                return "worker " + ws.address + " heard of at " + ws.lastSeen + " after one heard of at " + last;
            }
            last = ws.lastSeen;
        }
        return null;
    }

    /** has_what: address -> keys; {@code addresses == null} means all. */
    Map<String, List<Object>> hasWhat(Collection<?> addresses) {
        Map<String, List<Object>> r = new LinkedHashMap<>();
        for (WorkerState ws : select(addresses)) {
            List<Object> keys = new ArrayList<>(ws.hasWhat.size());
            for (TaskState ts : ws.hasWhat) {
                keys.add(ts.key);
            }
            r.put(ws.address, keys);
        }
        return r;
    }

    /** ncores: address -> threads; {@code runningOnly} for ncores_running. */
    Map<String, Long> ncores(Collection<?> addresses, boolean runningOnly) {
        Map<String, Long> r = new LinkedHashMap<>();
        for (WorkerState ws : select(addresses)) {
            if (!runningOnly || ws.running) {
                r.put(ws.address, (long) ws.nthreads);
            }
        }
        return r;
    }

    /**
     * Where scatter puts each of {@code count} values: running workers (optionally only those named),
     * round robin weighted by threads, as distributed.utils_comm.scatter_to_workers does. Empty if
     * no worker can take data.
     */
    List<String> scatterTargets(int count, Collection<?> allowed) {
        List<String> slots = new ArrayList<>();
        for (WorkerState ws : byAddress.values()) {
            if (ws.running && (allowed == null || allowed.contains(ws.address) || allowed.contains(ws.name))) {
                for (int i = 0; i < ws.nthreads; i++) {
                    slots.add(ws.address);
                }
            }
        }
        List<String> r = new ArrayList<>(count);
        if (slots.isEmpty()) {
            return r;
        }
        int start = (int) (scatterCounter % slots.size());
        for (int i = 0; i < count; i++) {
            r.add(slots.get((start + i) % slots.size()));
        }
        scatterCounter += count;
        return r;
    }

    private Collection<WorkerState> select(Collection<?> addresses) {
        if (addresses == null) {
            return byAddress.values();
        }
        List<WorkerState> r = new ArrayList<>();
        for (Object a : addresses) {
            WorkerState ws = byAddress.get(String.valueOf(a));
            if (ws != null) {
                r.add(ws);
            }
        }
        return r;
    }
}
