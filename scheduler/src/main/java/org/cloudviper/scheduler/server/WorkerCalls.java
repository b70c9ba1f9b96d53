package org.cloudviper.scheduler.server;

import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.protocol.pickle.Pickles;
import org.cloudviper.scheduler.state.SchedulerState;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Requests the scheduler makes of workers on a client's behalf (distributed Scheduler.broadcast):
 * the same request to every worker, or those named, and one reply mapping each address to its
 * worker's answer. The workers' replies are relayed as they came, sub-objects included.
 */
final class WorkerCalls {
    private static final Logger log = SchedulerLogs.logger(WorkerCalls.class);

    private final SchedulerState state;
    private final Peers peers;
    private final RpcClient rpc;

    WorkerCalls(SchedulerState state, Peers peers, RpcClient rpc) {
        this.state = state;
        this.peers = peers;
        this.rpc = rpc;
    }

    /**
     * A worker that fails to answer makes the whole call fail ({@code on_error="raise"}, Dask's
     * default), is left out ("ignore"), or answers with the pickled exception ("return",
     * "return_pickle"), which the client unpickles.
     */
    void broadcast(SchedulerRequest.Broadcast b, Consumer<Object> reply) {
        List<String> targets = new ArrayList<>();
        if (b.workers() != null) {
            targets.addAll(b.workers());
        } else if (b.hosts() == null) {
            targets.addAll(state.queries().workerAddresses());
        }
        if (b.hosts() != null) {
            for (Map.Entry<String, Map<String, Object>> e : peers.workerInfo().entrySet()) {
                if (b.hosts().contains(String.valueOf(e.getValue().get("host")))) {
                    targets.add(e.getKey());
                }
            }
        }
        // nanny=True: the same request to each worker's nanny (workers without one are left out),
        // the answers keyed by the worker's address, as Scheduler.broadcast does
        List<String> addresses = new ArrayList<>(targets.size());
        if (b.nanny()) {
            List<String> withNanny = new ArrayList<>();
            for (String w : targets) {
                Map<String, Object> info = peers.info(w);
                if (info != null && info.get("nanny") instanceof String n && !n.isEmpty()) {
                    withNanny.add(w);
                    addresses.add(n);
                }
            }
            targets = withNanny;
        } else {
            addresses.addAll(targets);
        }
        List<String> keys = targets;
        String onError = b.onError() == null ? "raise" : b.onError();
        Map<String, Object> message = new LinkedHashMap<>();
        b.msg().forEach((k, v) -> message.put(String.valueOf(k), v));
        message.put("reply", true);
        // the calls encode the message once connected, after the request is released
        MessageCodec.retain(message);
        Object[] answers = new Object[targets.size()];
        List<Object> toRelease = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        int[] outstanding = {targets.size()};
        Runnable finish = () -> {
            try {
                if (!failures.isEmpty() && onError.equals("raise")) {
                    reply.accept(Rpc.Error.of("broadcast failed: " + String.join("; ", failures))
                            .encode(Generation.DASK_2022));
                    return;
                }
                Map<String, Object> r = new LinkedHashMap<>();
                for (int i = 0; i < keys.size(); i++) {
                    if (answers[i] != IGNORED) {
                        r.put(keys.get(i), answers[i]);
                    }
                }
                reply.accept(r);
            } finally {
                toRelease.forEach(MessageCodec::release);
                MessageCodec.release(message);
            }
        };
        if (targets.isEmpty()) {
            finish.run();
            return;
        }
        for (int i = 0; i < targets.size(); i++) {
            int slot = i;
            String address = addresses.get(i);
            rpc.call(address, message, false, (r, err) -> {
                if (err != null || Rpc.Error.is(r)) {
                    String why = err != null ? err.toString() : String.valueOf(((Map<?, ?>) r).get("exception_text"));
                    log.error("broadcast to {} failed: {}", address, why);
                    failures.add(address + ": " + why);
                    answers[slot] = switch (onError) {
                        case "ignore" -> IGNORED;
                        case "return", "return_pickle" -> pickledException(address + ": " + why, toRelease);
                        default -> null;
                    };
                    MessageCodec.release(r);
                } else {
                    answers[slot] = r;
                    toRelease.add(r);
                }
                if (--outstanding[0] == 0) {
                    finish.run();
                }
            });
        }
    }

    private static final Object IGNORED = new Object();

    /** An OSError the client unpickles as the worker's answer ({@code {"__Pickled__": i}}). */
    private static SubObject pickledException(String text, List<Object> toRelease) {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("pickled-obj", Pickles.call("builtins", "OSError", text));
        header.put("compression", List.of());
        header.put("num-sub-frames", 0L);
        SubObject s = new SubObject(SubObject.Kind.PICKLED, Unpooled.wrappedBuffer(MessageCodec.pack(header)), List.of());
        toRelease.add(s);
        return s;
    }
}
