package org.cloudviper.scheduler.state;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registered workers by address, in registration order, and the RPC views of them (has_what,
 * ncores, where scatter puts data). What a worker holds and runs lives in its {@link WorkerState}.
 */
final class Workers {
    private final LinkedHashMap<String, WorkerState> byAddress = new LinkedHashMap<>();
    private long scatterCounter;

    /** Null if {@code r} may register, else the error Dask would send (address or name taken). */
    String refusal(WorkerRegistration r) {
        if (byAddress.containsKey(r.address())) {
            return "Worker at " + r.address() + " is already registered";
        }
        for (WorkerState other : byAddress.values()) {
            if (other.name.equals(r.name())) {
                return "name taken, " + r.name();
            }
        }
        return null;
    }

    WorkerState register(WorkerRegistration r) {
        WorkerState ws = new WorkerState(r.address(), r.name(), Math.max(1, r.nthreads()), r.memoryLimit(),
                r.resources() == null ? Map.of() : Map.copyOf(r.resources()), r.now());
        byAddress.put(ws.address, ws);
        ws.registered = true;
        return ws;
    }

    WorkerState remove(String address) {
        WorkerState ws = byAddress.remove(address);
        if (ws != null) {
            ws.registered = false;
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

    /** The workers not heard of for longer than {@code ttlSeconds} at {@code now}. */
    List<String> silentFor(double now, double ttlSeconds) {
        List<String> r = new ArrayList<>();
        for (WorkerState ws : byAddress.values()) {
            if (now - ws.lastSeen > ttlSeconds) {
                r.add(ws.address);
            }
        }
        return r;
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
