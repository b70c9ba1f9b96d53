package org.cloudviper.worker.state;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where the keys this worker needs are, and which to fetch from whom next: who_has/has_what, the
 * keys to fetch per peer in priority order (data_needed), what is in flight from whom, busy peers,
 * and keys nobody is known to hold (distributed's gather-dep planning, {@code _ensure_communicating}
 * and {@code _select_keys_for_gather}). Transitions tell it when a task starts or stops being
 * fetched; it never changes a task's state.
 */
final class TransferPlanner {
    /** A get_data to send: {@code tasks} (their {@code keys}) from {@code worker}, {@code nbytes} expected. */
    record Gather(String worker, List<TaskState> tasks, List<Object> keys, long nbytes) {
    }

    private record InFlight(List<Object> keys, long nbytes) {
    }

    private final String address;
    private final String ownHost;
    private final WorkerState.Limits limits;
    private final Map<Object, TaskState> tasks;

    final Map<String, TreeSet<TaskState>> dataNeeded = new LinkedHashMap<>();
    final Map<String, Set<Object>> hasWhat = new HashMap<>();
    private final Map<String, InFlight> inFlightWorkers = new LinkedHashMap<>();
    private final Set<String> busyWorkers = new LinkedHashSet<>();
    final Set<TaskState> inFlightTasks = new LinkedHashSet<>();
    final Set<TaskState> missingDepFlight = new LinkedHashSet<>();
    /** Tasks in state fetch. */
    long fetchCount;
    long transferIncomingBytes;

    /**
     * @param address this worker's address: its own entries are dropped from who_has, and peers on
     *                its host are fetched from first
     */
    TransferPlanner(String address, WorkerState.Limits limits, Map<Object, TaskState> tasks) {
        this.address = address;
        this.ownHost = host(address);
        this.limits = limits;
        this.tasks = tasks;
    }

    int transferIncomingCount() {
        return inFlightWorkers.size();
    }

    /** Whether a gather from {@code worker} is in flight. */
    boolean gathering(String worker) {
        return inFlightWorkers.containsKey(worker);
    }

    // ---------------------------------------------------------------------------------------------
    // Where keys are

    /** New holders of keys (compute-task, acquire-replicas, refresh-who-has); unknown keys are skipped. */
    void updateWhoHas(Map<Object, List<String>> whoHas) {
        for (Map.Entry<Object, List<String>> e : whoHas.entrySet()) {
            TaskState ts = tasks.get(e.getKey());
            if (ts == null) {
                continue; // forgotten since we asked
            }
            Set<String> workers = new LinkedHashSet<>(e.getValue());
            workers.remove(address);
            if (ts.whoHas.equals(workers)) {
                continue;
            }
            for (String w : ts.whoHas) {
                if (!workers.contains(w)) {
                    Set<Object> hw = hasWhat.get(w);
                    if (hw != null) {
                        hw.remove(ts.key);
                    }
                    if (ts.state == TaskStatus.FETCH) {
                        TreeSet<TaskState> dn = dataNeeded.get(w);
                        if (dn != null) {
                            dn.remove(ts);
                        }
                    }
                }
            }
            for (String w : workers) {
                if (!ts.whoHas.contains(w)) {
                    hasWhat.computeIfAbsent(w, k -> new LinkedHashSet<>()).add(ts.key);
                    if (ts.state == TaskStatus.FETCH) {
                        dataNeeded.computeIfAbsent(w, k -> new TreeSet<>(TaskState.BY_PRIORITY)).add(ts);
                    }
                }
            }
            ts.whoHas.clear();
            ts.whoHas.addAll(workers);
        }
    }

    /** {@code worker} turned out not to hold {@code ts}. */
    void replicaGone(TaskState ts, String worker) {
        ts.whoHas.remove(worker);
        Set<Object> hw = hasWhat.get(worker);
        if (hw != null) {
            hw.remove(ts.key);
        }
    }

    /**
     * {@code worker} could not be reached: it holds nothing any more. Returns the tasks to be fetched
     * that only it held (they are missing now).
     */
    List<TaskState> workerGone(String worker) {
        List<TaskState> orphaned = new ArrayList<>();
        TreeSet<TaskState> needed = dataNeeded.remove(worker);
        if (needed != null) {
            for (TaskState ts : needed) {
                if (ts.whoHas.size() == 1 && ts.whoHas.contains(worker)) {
                    orphaned.add(ts);
                }
            }
        }
        Set<Object> had = hasWhat.remove(worker);
        if (had != null) {
            for (Object k : had) {
                TaskState ts = tasks.get(k);
                if (ts != null) {
                    ts.whoHas.remove(worker);
                }
            }
        }
        return orphaned;
    }

    /** The keys of the tasks in state missing. */
    List<Object> missingKeys() {
        List<Object> keys = new ArrayList<>();
        for (TaskState ts : missingDepFlight) {
            keys.add(ts.key);
        }
        return keys;
    }

    // ---------------------------------------------------------------------------------------------
    // What the transitions tell it

    /** {@code ts} is to be fetched from any of its holders (it has at least one). */
    void fetching(TaskState ts) {
        fetchCount++;
        for (String w : ts.whoHas) {
            dataNeeded.computeIfAbsent(w, k -> new TreeSet<>(TaskState.BY_PRIORITY)).add(ts);
        }
    }

    /** {@code ts} left state fetch for something other than flight. */
    void notFetching() {
        fetchCount--;
    }

    /** {@code ts} went from fetch into flight (the gather planned for it was sent). */
    void flying(TaskState ts) {
        inFlightTasks.add(ts);
        fetchCount--;
    }

    void missing(TaskState ts) {
        missingDepFlight.add(ts);
    }

    void notMissing(TaskState ts) {
        missingDepFlight.remove(ts);
    }

    /** Forgets where {@code ts} is and that it is wanted (the task is released). */
    void forget(TaskState ts) {
        for (String w : ts.whoHas) {
            Set<Object> hw = hasWhat.get(w);
            if (hw != null) {
                hw.remove(ts.key);
            }
            TreeSet<TaskState> dn = dataNeeded.get(w);
            if (dn != null) {
                dn.remove(ts);
            }
        }
        ts.whoHas.clear();
        missingDepFlight.remove(ts);
        inFlightTasks.remove(ts);
    }

    /** Takes {@code ts} out of data_needed while its priority (their order) changes; see {@link #relist}. */
    List<TreeSet<TaskState>> unlist(TaskState ts) {
        List<TreeSet<TaskState>> needed = new ArrayList<>();
        for (TreeSet<TaskState> s : dataNeeded.values()) {
            if (s.remove(ts)) {
                needed.add(s);
            }
        }
        return needed;
    }

    static void relist(List<TreeSet<TaskState>> needed, TaskState ts) {
        for (TreeSet<TaskState> s : needed) {
            s.add(ts);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Gathers

    void busy(String worker) {
        busyWorkers.add(worker);
    }

    void notBusy(String worker) {
        busyWorkers.remove(worker);
    }

    /** Whether every holder of {@code ts} answered busy: only a refresh of who_has can help it. */
    boolean onlyBusyHolders(TaskState ts) {
        for (String w : ts.whoHas) {
            if (!busyWorkers.contains(w)) {
                return false;
            }
        }
        return true;
    }

    /** The keys of the gather in flight from {@code worker}, or none. */
    Set<Object> requestedFrom(String worker) {
        InFlight f = inFlightWorkers.get(worker);
        return f == null ? Set.of() : new LinkedHashSet<>(f.keys());
    }

    /**
     * The gather from {@code worker} reported back: its bytes are no longer incoming. Returns the
     * tasks it was fetching that are still known, no longer in flight and marked done.
     */
    List<TaskState> gatherDone(String worker) {
        InFlight f = inFlightWorkers.remove(worker);
        if (f == null) {
            return List.of();
        }
        transferIncomingBytes -= f.nbytes();
        List<TaskState> r = new ArrayList<>();
        for (Object k : f.keys()) {
            TaskState ts = tasks.get(k);
            if (ts == null) {
                continue;
            }
            ts.done = true;
            ts.comingFrom = null;
            inFlightTasks.remove(ts);
            r.add(ts);
        }
        return r;
    }

    private boolean shouldThrottleIncomingTransfers() {
        boolean countLimit = inFlightWorkers.size() >= limits.transferIncomingCountLimit();
        boolean threshold = transferIncomingBytes >= limits.transferIncomingBytesThrottleThreshold();
        boolean bytesLimit = transferIncomingBytes >= limits.transferIncomingBytesLimit();
        return countLimit && threshold || bytesLimit;
    }

    /**
     * Picks what to fetch now, one gather per peer: peers by their best task's priority, local peers
     * and those holding more first; per peer its best tasks within the transfer limits. The gathers
     * count as in flight from here on; the caller moves their tasks to flight and sends them.
     */
    List<Gather> plan() {
        if (dataNeeded.isEmpty() || shouldThrottleIncomingTransfers()) {
            return List.of();
        }
        String host = ownHost;
        List<String> workers = new ArrayList<>();
        for (Iterator<Map.Entry<String, TreeSet<TaskState>>> it = dataNeeded.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, TreeSet<TaskState>> e = it.next();
            if (e.getValue().isEmpty()) {
                it.remove();
            } else if (!inFlightWorkers.containsKey(e.getKey()) && !busyWorkers.contains(e.getKey())) {
                workers.add(e.getKey());
            }
        }
        workers.sort(Comparator.<String, TaskState>comparing(w -> dataNeeded.get(w).first(), TaskState.BY_PRIORITY)
                .thenComparing(w -> !host(w).equals(host))
                .thenComparing(w -> -dataNeeded.get(w).size())
                .thenComparing(w -> w));
        List<Gather> gathers = new ArrayList<>();
        for (String worker : workers) {
            TreeSet<TaskState> available = dataNeeded.get(worker);
            if (available == null || available.isEmpty()) {
                continue; // emptied by an earlier peer that also holds its keys
            }
            List<TaskState> toGather = new ArrayList<>();
            long messageNbytes = 0;
            while (!available.isEmpty()) {
                TaskState ts = available.first();
                if (exceedsTransferLimits(ts, messageNbytes)) {
                    break;
                }
                for (String w : ts.whoHas) {
                    TreeSet<TaskState> dn = dataNeeded.get(w);
                    if (dn != null) {
                        dn.remove(ts);
                    }
                }
                toGather.add(ts);
                messageNbytes += ts.nbytesOrDefault();
            }
            if (toGather.isEmpty()) {
                break;
            }
            List<Object> keys = new ArrayList<>(toGather.size());
            for (TaskState ts : toGather) {
                keys.add(ts.key);
            }
            gathers.add(new Gather(worker, toGather, keys, messageNbytes));
            inFlightWorkers.put(worker, new InFlight(keys, messageNbytes));
            transferIncomingBytes += messageNbytes;
            if (shouldThrottleIncomingTransfers()) {
                break;
            }
        }
        dataNeeded.values().removeIf(Set::isEmpty);
        return gathers;
    }

    private boolean exceedsTransferLimits(TaskState ts, long messageNbytes) {
        if (transferIncomingBytes == 0 && messageNbytes == 0) {
            return false; // always make progress with the top task, whatever its size
        }
        long allowance = limits.transferIncomingBytesLimit() - transferIncomingBytes;
        if (messageNbytes != 0) {
            allowance = Math.min(allowance, limits.transferMessageBytesLimit()) - messageNbytes;
        }
        return ts.nbytesOrDefault() > allowance;
    }

    static String host(String address) {
        String a = address.startsWith("tcp://") ? address.substring(6) : address;
        int colon = a.lastIndexOf(':');
        return colon < 0 ? a : a.substring(0, colon);
    }
}
