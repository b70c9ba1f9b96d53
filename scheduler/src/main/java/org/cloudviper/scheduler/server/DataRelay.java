package org.cloudviper.scheduler.server;

import io.netty.channel.EventLoop;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.WorkerRequest;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.scheduler.state.SchedulerState;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Data through the scheduler (distributed Scheduler.gather and scatter): results fetched from the
 * workers that hold them and relayed to the client, and a client's values placed on workers. The
 * values stay the peers' Serialized frames, never decoded or copied: the reply reuses the buffers
 * the workers' replies arrived in.
 */
final class DataRelay {
    private static final Logger log = SchedulerLogs.logger(DataRelay.class);
    /** How often and how long a busy worker's get_data is asked again. */
    private static final int BUSY_RETRIES = 20;
    private static final long BUSY_RETRY_MS = 20;
    private static final long NO_WORKER_RETRY_MS = 100;

    private final SchedulerState state;
    private final Peers peers;
    private final RpcClient rpc;
    private final EventLoop loop;

    DataRelay(SchedulerState state, Peers peers, RpcClient rpc, EventLoop loop) {
        this.state = state;
        this.peers = peers;
        this.rpc = rpc;
        this.loop = loop;
    }

    private Generation generationOf(String worker) {
        Peer p = peers.worker(worker);
        return p == null ? Generation.DASK_2022 : p.generation;
    }

    /**
     * Replies {status: OK, data} in the order asked, or {status: error, keys} naming the keys no
     * worker holds or whose worker failed to send them.
     */
    void gather(List<Object> keys, Consumer<Object> reply) {
        Map<Object, List<String>> whoHas = state.queries().whoHas(keys);
        List<Object> missing = new ArrayList<>();
        Map<String, List<Object>> byWorker = new LinkedHashMap<>();
        for (Object k : keys) {
            List<String> w = whoHas.get(k);
            if (w == null || w.isEmpty()) {
                missing.add(k);
            } else {
                byWorker.computeIfAbsent(w.get(0), x -> new ArrayList<>()).add(k);
            }
        }
        if (!missing.isEmpty()) {
            reply.accept(SchedulerRequest.Gather.Reply.missing(missing).encode(Generation.DASK_2022));
            return;
        }
        Map<Object, Object> data = new HashMap<>();
        List<Object> replies = new ArrayList<>();
        List<Object> failed = new ArrayList<>();
        int[] outstanding = {byWorker.size()};
        Runnable finish = () -> {
            try {
                if (!failed.isEmpty()) {
                    reply.accept(SchedulerRequest.Gather.Reply.missing(failed).encode(Generation.DASK_2022));
                } else {
                    Map<Object, Object> ordered = new LinkedHashMap<>();
                    for (Object k : keys) {
                        ordered.put(k, data.get(k));
                    }
                    reply.accept(SchedulerRequest.Gather.Reply.ok(ordered).encode(Generation.DASK_2022));
                }
            } finally {
                for (Object r : replies) {
                    MessageCodec.release(r);
                }
            }
        };
        if (byWorker.isEmpty()) {
            finish.run();
            return;
        }
        for (Map.Entry<String, List<Object>> e : byWorker.entrySet()) {
            getData(e.getKey(), e.getValue(), BUSY_RETRIES, (r, err) -> {
                WorkerRequest.GetData.Reply got = err == null ? WorkerRequest.GetData.Reply.decode(r) : null;
                if (got == null || !got.isOk()) {
                    log.warn("gather from {} failed: {}", e.getKey(), err != null ? err.toString() : brief(r));
                    failed.addAll(e.getValue());
                    MessageCodec.release(r);
                } else {
                    replies.add(r);
                    for (Object k : e.getValue()) {
                        if (got.data().containsKey(k)) {
                            data.put(k, got.data().get(k));
                        } else {
                            failed.add(k);
                        }
                    }
                }
                if (--outstanding[0] == 0) {
                    finish.run();
                }
            });
        }
    }

    /** get_data, asked again while the worker answers "busy". */
    private void getData(String worker, List<Object> keys, int attempts, BiConsumer<Object, Throwable> done) {
        Map<String, Object> req = WorkerRequest.GetData.unlimited(keys).encode(generationOf(worker));
        rpc.call(worker, req, true, (r, err) -> {
            if (err == null && attempts > 0 && WorkerRequest.GetData.Reply.decode(r).isBusy()) {
                loop.schedule(() -> getData(worker, keys, attempts - 1, done), BUSY_RETRY_MS, TimeUnit.MILLISECONDS);
                return;
            }
            done.accept(r, err);
        });
    }

    /**
     * Places the values on workers (round robin over the least busy, or all of them with
     * {@code broadcast}), waiting up to the request's timeout for a worker to exist, then tells the
     * state where they are; replies with the keys.
     */
    void scatter(SchedulerRequest.Scatter request, String stimulusId, Consumer<Object> reply) {
        // The request's tree is released when the handler returns: keep the values alive until sent.
        Map<Object, Object> values = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : request.data().entrySet()) {
            Object v = e.getValue();
            if (v instanceof SubObject s) {
                s.retain();
            }
            values.put(e.getKey(), v);
        }
        double deadline = System.nanoTime() / 1e9 + Math.max(0.1, request.timeoutSeconds());
        scatterWhenWorkers(request, values, deadline, stimulusId, reply);
    }

    private void scatterWhenWorkers(SchedulerRequest.Scatter request, Map<Object, Object> values, double deadline,
                                    String stimulusId, Consumer<Object> reply) {
        List<Object> keys = new ArrayList<>(values.keySet());
        List<Object> allowed = request.workers() == null ? null : new ArrayList<>(request.workers());
        List<String> targets = state.queries().scatterTargets(keys.size(), allowed);
        if (targets.isEmpty()) {
            if (System.nanoTime() / 1e9 > deadline) {
                MessageCodec.release(values);
                reply.accept(Rpc.Error.of("TimeoutError: No valid workers found").encode(Generation.DASK_2022));
            } else {
                loop.schedule(() -> scatterWhenWorkers(request, values, deadline, stimulusId, reply),
                        NO_WORKER_RETRY_MS, TimeUnit.MILLISECONDS);
            }
            return;
        }
        Map<String, Map<Object, Object>> byWorker = new LinkedHashMap<>();
        if (request.broadcast()) {
            for (String w : new LinkedHashSet<>(allTargets(allowed))) {
                byWorker.put(w, values);
            }
        } else {
            for (int i = 0; i < keys.size(); i++) {
                byWorker.computeIfAbsent(targets.get(i), x -> new LinkedHashMap<>()).put(keys.get(i), values.get(keys.get(i)));
            }
        }
        Map<Object, List<String>> whoHas = new LinkedHashMap<>();
        Map<Object, Long> nbytes = new HashMap<>();
        List<String> errors = new ArrayList<>();
        int[] outstanding = {byWorker.size()};
        for (Map.Entry<String, Map<Object, Object>> e : byWorker.entrySet()) {
            String w = e.getKey();
            // 2022 workers would report add-keys for the data; the state records it here instead
            Map<String, Object> req = new WorkerRequest.UpdateData(e.getValue(), false, null).encode(generationOf(w));
            rpc.call(w, req, false, (r, err) -> {
                if (err != null || !WorkerRequest.UpdateData.Reply.isOk(r)) {
                    errors.add(w + ": " + (err != null ? err.toString() : brief(r)));
                } else {
                    nbytes.putAll(WorkerRequest.UpdateData.Reply.decode(r).nbytes());
                    for (Object k : e.getValue().keySet()) {
                        whoHas.computeIfAbsent(k, x -> new ArrayList<>()).add(w);
                    }
                }
                MessageCodec.release(r);
                if (--outstanding[0] == 0) {
                    MessageCodec.release(values);
                    if (!errors.isEmpty()) {
                        reply.accept(Rpc.Error.of("scatter failed: " + String.join("; ", errors))
                                .encode(Generation.DASK_2022));
                    } else {
                        state.onScattered(request.client(), whoHas, nbytes, stimulusId);
                        reply.accept(keys);
                    }
                }
            });
        }
    }

    private List<String> allTargets(List<Object> allowed) {
        List<String> r = new ArrayList<>();
        for (String a : state.queries().workerAddresses()) {
            if (allowed == null || allowed.contains(a)) {
                r.add(a);
            }
        }
        return r;
    }

    static String brief(Object v) {
        String s = String.valueOf(v);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
