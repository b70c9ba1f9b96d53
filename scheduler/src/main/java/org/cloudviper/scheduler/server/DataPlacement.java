package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.AdminRequest;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.scheduler.state.SchedulerState;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Client.replicate and Client.rebalance (Scheduler.replicate / rebalance): copies are made by
 * asking the receiving worker to {@code gather} the keys from their holders (the state learns of
 * each copy as if the worker had reported it, as Dask's gather_on_worker adds the replica), and
 * extra copies are dropped with the worker's {@code free_keys} once a copy exists elsewhere.
 */
final class DataPlacement {
    private static final Logger log = SchedulerLogs.logger(DataPlacement.class);

    private final SchedulerState state;
    private final Peers peers;
    private final RpcClient rpc;

    DataPlacement(SchedulerState state, Peers peers, RpcClient rpc) {
        this.state = state;
        this.peers = peers;
        this.rpc = rpc;
    }

    /**
     * {@code n} copies of each key among the running workers (or those named), in rounds where each
     * holder seeds at most {@code branchingFactor} new copies; with {@code delete}, copies beyond
     * {@code n} are dropped first. Replies null, or {status: "partial-fail", keys} for keys that are
     * nowhere in memory.
     */
    void replicate(AdminRequest.Replicate r, Consumer<Object> reply) {
        String sid = r.stimulusId() != null ? r.stimulusId() : RequestHandlers.stimulus("replicate");
        List<String> workers = running(r.workers());
        int n = r.n() == null ? workers.size() : Math.min(r.n(), workers.size());
        if (n == 0) {
            reply.accept(PeerReply.error("ValueError", "Can not use replicate to delete data"));
            return;
        }
        Map<Object, List<String>> whoHas = state.queries().whoHas(r.keys());
        List<Object> missing = nowhere(whoHas);
        if (!missing.isEmpty()) {
            reply.accept(partialFail(missing));
            return;
        }
        if (r.delete()) {
            Map<String, List<Object>> drop = new LinkedHashMap<>();
            whoHas.forEach((k, holders) -> {
                List<String> among = holders.stream().filter(workers::contains).toList();
                for (int i = n; i < among.size(); i++) {
                    drop.computeIfAbsent(among.get(i), x -> new ArrayList<>()).add(k);
                }
            });
            drop.forEach((w, keys) -> freeKeys(w, keys, sid));
        }
        copyRound(new ArrayList<>(r.keys()), n, workers, Math.max(1, r.branchingFactor()), sid, () -> reply.accept(null));
    }

    private void copyRound(List<Object> keys, int n, List<String> workers, int branching, String sid, Runnable done) {
        Map<String, Map<Object, List<String>>> gathers = new LinkedHashMap<>();
        Map<Object, List<String>> whoHas = state.queries().whoHas(keys);
        for (Map.Entry<Object, List<String>> e : whoHas.entrySet()) {
            List<String> holders = e.getValue();
            if (holders.isEmpty()) {
                continue; // forgotten meanwhile
            }
            long have = holders.stream().filter(workers::contains).count();
            int count = (int) Math.min(n - have, (long) branching * holders.size());
            for (String w : workers) {
                if (count <= 0) {
                    break;
                }
                if (!holders.contains(w)) {
                    gathers.computeIfAbsent(w, x -> new LinkedHashMap<>()).put(e.getKey(), holders);
                    count--;
                }
            }
        }
        if (gathers.isEmpty()) {
            done.run();
            return;
        }
        gatherOnWorkers(gathers, sid, copied -> {
            if (copied == 0) {
                log.warn("replicate: no copy could be made in this round; giving up");
                done.run();
            } else {
                copyRound(keys, n, workers, branching, sid, done);
            }
        });
    }

    /**
     * Moves keys from the workers holding the most bytes to those holding the least, until each is
     * within a tenth of the mean (Dask's {@code sender-recipient-gap} relative to the mean, here
     * measured in the keys' nbytes, which is what the scheduler knows). Replies {status: "OK"}, or
     * "partial-fail" with keys that are not in memory.
     */
    void rebalance(AdminRequest.Rebalance r, Consumer<Object> reply) {
        String sid = r.stimulusId() != null ? r.stimulusId() : RequestHandlers.stimulus("rebalance");
        List<String> workers = running(r.workers());
        Map<Object, List<String>> whoHas = state.queries().whoHas(r.keys());
        Map<Object, Long> nbytes = state.queries().nbytes(whoHas.keySet());
        List<Object> missing = nowhere(whoHas);
        if (!missing.isEmpty()) {
            reply.accept(partialFail(missing));
            return;
        }
        Map<String, Long> held = new LinkedHashMap<>();
        workers.forEach(w -> held.put(w, 0L));
        whoHas.forEach((k, holders) -> holders.stream().filter(held::containsKey)
                .forEach(w -> held.merge(w, nbytes.getOrDefault(k, 0L), Long::sum)));
        long total = held.values().stream().mapToLong(Long::longValue).sum();
        double mean = workers.isEmpty() ? 0 : (double) total / workers.size();
        double slack = Math.max(1, mean * 0.1);
        // key -> (from, to), planned greedily: the fullest sender gives its largest key that the
        // emptiest recipient lacks, while that narrows the gap.
        Map<String, Map<Object, List<String>>> gathers = new LinkedHashMap<>();
        Map<String, List<Object>> frees = new LinkedHashMap<>();
        Set<Object> moved = new HashSet<>();
        for (int guard = 0; guard < 100_000 && workers.size() > 1; guard++) {
            String from = null;
            String to = null;
            for (String w : workers) {
                if (from == null || held.get(w) > held.get(from)) {
                    from = w;
                }
                if (to == null || held.get(w) < held.get(to)) {
                    to = w;
                }
            }
            if (held.get(from) - held.get(to) <= 2 * slack) {
                break;
            }
            Object best = null;
            long bestSize = -1;
            long gap = held.get(from) - held.get(to);
            for (Map.Entry<Object, List<String>> e : whoHas.entrySet()) {
                long size = nbytes.getOrDefault(e.getKey(), 0L);
                if (!moved.contains(e.getKey()) && e.getValue().contains(from) && !e.getValue().contains(to)
                        && size < gap && size > bestSize) {
                    best = e.getKey();
                    bestSize = size;
                }
            }
            if (best == null) {
                break;
            }
            moved.add(best);
            held.merge(from, -bestSize, Long::sum);
            held.merge(to, bestSize, Long::sum);
            gathers.computeIfAbsent(to, x -> new LinkedHashMap<>()).put(best, List.of(from));
            frees.computeIfAbsent(from, x -> new ArrayList<>()).add(best);
        }
        Map<String, Object> ok = new LinkedHashMap<>();
        ok.put("status", "OK");
        if (gathers.isEmpty()) {
            reply.accept(ok);
            return;
        }
        log.info("Rebalance: moving {} keys between {} workers", moved.size(), workers.size());
        gatherOnWorkers(gathers, sid, copied -> {
            // free a sender's copy only where the recipient now holds one
            frees.forEach((w, keys) -> {
                List<Object> safe = new ArrayList<>();
                Map<Object, List<String>> now = state.queries().whoHas(keys);
                for (Object k : keys) {
                    if (now.getOrDefault(k, List.of()).size() > 1) {
                        safe.add(k);
                    }
                }
                freeKeys(w, safe, sid);
            });
            reply.accept(ok);
        });
    }

    /** Each worker gathers its keys from their holders; {@code done} gets how many copies were made. */
    private void gatherOnWorkers(Map<String, Map<Object, List<String>>> gathers, String sid, Consumer<Integer> done) {
        int[] outstanding = {gathers.size()};
        int[] copied = {0};
        for (Map.Entry<String, Map<Object, List<String>>> e : gathers.entrySet()) {
            String worker = e.getKey();
            Map<Object, List<String>> who = e.getValue();
            Map<String, Object> msg = new LinkedHashMap<>();
            msg.put("op", "gather");
            msg.put("who_has", who);
            msg.put("reply", true);
            rpc.call(worker, msg, false, (answer, err) -> {
                try {
                    if (err != null || Rpc.Error.is(answer)) {
                        log.warn("Worker {} could not gather {} keys: {}", worker, who.size(),
                                err != null ? err : ((Map<?, ?>) answer).get("exception_text"));
                    } else {
                        Set<Object> failed = new HashSet<>();
                        if (answer instanceof Map<?, ?> m && "partial-fail".equals(Fields.str(m, "status"))) {
                            failed.addAll(Fields.listOrEmpty(m.get("keys")));
                        }
                        List<Object> got = new ArrayList<>();
                        for (Object k : who.keySet()) {
                            if (!failed.contains(k)) {
                                got.add(k);
                            }
                        }
                        if (state.queries().hasWorker(worker) && !got.isEmpty()) {
                            state.onAddKeys(worker, got, sid);
                            copied[0] += got.size();
                        }
                    }
                } finally {
                    MessageCodec.release(answer);
                }
                if (--outstanding[0] == 0) {
                    done.accept(copied[0]);
                }
            });
        }
    }

    /** Scheduler.delete_worker_data: the worker drops its copies, and the state forgets them. */
    private void freeKeys(String worker, List<Object> keys, String sid) {
        if (keys.isEmpty()) {
            return;
        }
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", "free_keys");
        msg.put("keys", keys);
        msg.put("stimulus_id", sid);
        msg.put("reply", true);
        for (Object k : keys) {
            state.onReleaseWorkerData(worker, k, sid);
        }
        rpc.call(worker, msg, false, (answer, err) -> {
            if (err != null) {
                log.warn("Communication with worker {} failed while dropping copies: {}", worker, err.toString());
            }
            MessageCodec.release(answer);
        });
    }

    private List<String> running(Collection<String> named) {
        List<String> r = new ArrayList<>();
        for (String w : named == null ? state.queries().workerAddresses() : named) {
            Map<String, Object> info = peers.info(w);
            if (state.queries().hasWorker(w) && (info == null || "running".equals(info.get("status")))) {
                r.add(w);
            }
        }
        return r;
    }

    /** The keys no worker holds. */
    private static List<Object> nowhere(Map<Object, List<String>> whoHas) {
        List<Object> r = new ArrayList<>();
        whoHas.forEach((k, holders) -> {
            if (holders.isEmpty()) {
                r.add(k);
            }
        });
        return r;
    }

    private static Map<String, Object> partialFail(List<Object> keys) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("status", "partial-fail");
        r.put("keys", keys);
        return r;
    }
}
