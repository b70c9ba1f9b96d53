package org.cloudviper.scheduler.server;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.pickle.Pickles;
import org.cloudviper.scheduler.state.SchedulerState;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * retire_workers calls (Scheduler.retire_workers of both generations) waiting for their workers'
 * data to be copied away. The state machine decides where each unique key goes and tells when a
 * worker is settled; this answers each call once all of its workers are, removing and closing
 * them as the call asked, and asks the state again every {@link #RETRY_NANOS} for keys not yet
 * copied (Dask's memory manager interval).
 */
final class Retirements {
    private static final Logger log = SchedulerLogs.logger(Retirements.class);
    private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long POLL_MS = 20;

    /** {@code infos}: each worker's info when the call arrived, for one that leaves meanwhile. */
    private record Retirement(List<String> workers, Map<String, Map<String, Object>> infos, boolean close,
                              boolean remove, String stimulusId, Consumer<Object> reply) {
    }

    /** What happens to a retired worker's stream. */
    interface WorkerStreams {
        /** Forgets the worker's stream (the state has removed it), first telling it to close unless {@code reason} is null. */
        void drop(String address, String reason);

        /** Tells the worker to close; its stream stays until the worker closes it. */
        void tellToClose(String address, String reason);
    }

    private final SchedulerState state;
    private final Peers peers;
    private final EventLoop loop;
    private final WorkerStreams streams;
    private final List<Retirement> pending = new ArrayList<>();
    private ScheduledFuture<?> poll;
    private long lastRetry = System.nanoTime();

    Retirements(SchedulerState state, Peers peers, EventLoop loop, WorkerStreams streams) {
        this.state = state;
        this.peers = peers;
        this.loop = loop;
        this.streams = streams;
    }

    /**
     * {@code workers=[addresses]}, {@code names=[...]} or {@code n=N} (the N cheapest, see
     * SchedulerState.workersToClose). Replies, once every unique key is copied away, with
     * {address: worker info} of the workers retired (one that left meanwhile counts as retired, as
     * in Dask); a worker whose data nobody can take is not retired and not in the reply.
     */
    void retire(SchedulerRequest.RetireWorkers request, String stimulusId, Consumer<Object> reply) {
        if (request.workers() != null && request.names() != null) {
            // Dask raises TypeError: the client gets the same exception type.
            String text = "names and workers are mutually exclusive";
            reply.accept(new Rpc.Error(Pickles.call("builtins", "TypeError", text), text).encode(Generation.DASK_2022));
            return;
        }
        List<String> addresses = new ArrayList<>();
        if (request.workers() != null) {
            addresses.addAll(request.workers());
        } else if (request.names() != null) {
            List<String> wanted = request.names().stream().map(String::valueOf).toList();
            peers.workerInfo().forEach((a, info) -> {
                if (wanted.contains(String.valueOf(info.get("name")))) {
                    addresses.add(a);
                }
            });
        } else if (request.n() != null) {
            addresses.addAll(state.workersToClose(request.n()));
        }
        List<String> known = state.onRetireWorkers(addresses, stimulusId);
        if (known.isEmpty()) {
            reply.accept(Map.of());
            return;
        }
        log.info("Retiring workers {}", known);
        Map<String, Map<String, Object>> infos = new LinkedHashMap<>();
        known.forEach(a -> infos.put(a, infoOf(a, Map.of())));
        pending.add(new Retirement(known, infos, request.closeWorkers(), request.remove(), stimulusId, reply));
        poll();
    }

    /** Retirements still waiting for data to move. */
    int pendingCount() {
        return pending.size();
    }

    private Map<String, Object> infoOf(String address, Map<String, Object> dflt) {
        Map<String, Object> info = peers.info(address);
        return info == null ? dflt : info;
    }

    /** Answers every retirement whose workers are all settled; polls again while some are not. */
    private void poll() {
        for (Iterator<Retirement> it = pending.iterator(); it.hasNext(); ) {
            Retirement r = it.next();
            // Each outcome scans the worker's keys: ask once per poll, stop at the first still pending.
            Map<String, SchedulerState.RetireOutcome> outcomes = new LinkedHashMap<>();
            for (String a : r.workers()) {
                SchedulerState.RetireOutcome o = state.retirementOutcome(a);
                if (o == SchedulerState.RetireOutcome.PENDING) {
                    break;
                }
                outcomes.put(a, o);
            }
            if (outcomes.size() < r.workers().size()) {
                continue;
            }
            it.remove();
            r.reply().accept(settle(r, outcomes));
        }
        if (!pending.isEmpty() && poll == null) {
            poll = loop.schedule(() -> {
                poll = null;
                if (System.nanoTime() - lastRetry > RETRY_NANOS) {
                    lastRetry = System.nanoTime();
                    state.onRetirementTick("retire-workers-retry-" + SchedulerServer.now());
                }
                poll();
            }, POLL_MS, TimeUnit.MILLISECONDS);
        }
    }

    private Map<String, Object> settle(Retirement r, Map<String, SchedulerState.RetireOutcome> outcomes) {
        Map<String, Object> retired = new LinkedHashMap<>();
        for (String a : r.workers()) {
            switch (outcomes.get(a)) {
                case READY -> {
                    retired.put(a, infoOf(a, r.infos().get(a)));
                    if (r.remove()) {
                        state.onRetiredWorkerRemoved(a, r.stimulusId());
                        streams.drop(a, r.close() ? "retired" : null);
                    } else if (r.close()) {
                        streams.tellToClose(a, "retired");
                    }
                    log.info("Retired worker {}", a);
                }
                case ABORTED -> {
                    log.warn("Retiring worker {} called off: no running worker can take its data", a);
                    state.onRetirementAborted(a, r.stimulusId());
                }
                case GONE -> retired.put(a, r.infos().get(a)); // left meanwhile: it is gone all the same
                default -> {
                    // PENDING cannot happen here
                }
            }
        }
        return retired;
    }
}
