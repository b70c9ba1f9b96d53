package org.cloudviper.scheduler.server;

import io.netty.channel.EventLoop;
import org.cloudviper.protocol.message.AdminRequest;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.scheduler.state.SchedulerState;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Client.restart and Client.restart_workers as Dask's scheduler carries them out
 * (Scheduler.restart / restart_workers of 2022.12.1 and 2024.12.1): restart releases every key
 * and tells every client (which cancels its futures), then each worker with a nanny is killed
 * through it ({@code kill}; the nanny starts a fresh worker process) and each worker without one
 * is closed and removed. The call is answered when as many workers as before are registered
 * again, or with a TimeoutError after {@code timeout} seconds.
 */
final class Restarts {
    private static final Logger log = SchedulerLogs.logger(Restarts.class);
    private static final long POLL_MS = 200;

    private final SchedulerState state;
    private final Peers peers;
    private final RpcClient rpc;
    private final EventLoop loop;
    private final StreamBatcher batcher;
    private final RequestHandlers.Server server;

    Restarts(SchedulerState state, Peers peers, RpcClient rpc, EventLoop loop, StreamBatcher batcher,
             RequestHandlers.Server server) {
        this.state = state;
        this.peers = peers;
        this.rpc = rpc;
        this.loop = loop;
        this.batcher = batcher;
        this.server = server;
    }

    void restart(AdminRequest.Restart r, Consumer<Object> reply) {
        String sid = r.stimulusId() != null ? r.stimulusId() : RequestHandlers.stimulus("restart");
        log.info("Restarting workers and releasing all keys ({})", sid);
        state.onRestart(sid);
        for (Peer client : peers.clients()) {
            batcher.queue(client, SchedulerToClient.Restart.INSTANCE.encode(client.generation));
        }
        restartWorkers(state.queries().workerAddresses(), r.timeoutSeconds(), r.waitForWorkers(), sid, (outcome, timeout) -> {
            if (timeout != null) {
                reply.accept(timeoutError(timeout));
            } else {
                reply.accept(null);
            }
        });
    }

    /** 2024's restart_workers: {address: "OK" | "removed" | "timed out"}; the data of other workers stays. */
    void restartWorkers(AdminRequest.RestartWorkers r, Consumer<Object> reply) {
        String sid = r.stimulusId() != null ? r.stimulusId() : RequestHandlers.stimulus("restart-workers");
        List<String> workers = new ArrayList<>();
        for (String w : r.workers() == null ? state.queries().workerAddresses() : r.workers()) {
            if (state.queries().hasWorker(w)) {
                workers.add(w);
            }
        }
        restartWorkers(workers, r.timeoutSeconds(), r.waitForWorkers(), sid, (outcome, timeout) -> {
            if (timeout != null && r.onError().equals("raise")) {
                reply.accept(timeoutError(timeout));
            } else {
                reply.accept(outcome);
            }
        });
    }

    private interface Done {
        /** {@code timeout} is the TimeoutError's text, or null when every worker came back. */
        void done(Map<String, String> outcome, String timeout);
    }

    private void restartWorkers(List<String> workers, double timeoutSeconds, boolean wait, String sid, Done done) {
        int before = state.queries().workerCount();
        long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
        Map<String, String> outcome = new LinkedHashMap<>();
        Map<String, String> nannies = new LinkedHashMap<>();
        for (String w : workers) {
            Map<String, Object> info = peers.info(w);
            Object nanny = info == null ? null : info.get("nanny");
            if (nanny instanceof String n && !n.isEmpty()) {
                nannies.put(w, n);
            } else {
                outcome.put(w, "removed");
            }
        }
        List<String> noNanny = new ArrayList<>(outcome.keySet());
        if (!noNanny.isEmpty()) {
            log.warn("Workers {} do not use a nanny and will be terminated without restarting them", noNanny);
            for (String w : noNanny) {
                remove(w, sid);
            }
        }
        Runnable waitForWorkers = () -> {
            List<String> timedOut = outcome.entrySet().stream().filter(e -> e.getValue().equals("timed out"))
                    .map(Map.Entry::getKey).toList();
            if (!timedOut.isEmpty()) {
                done.done(outcome, timedOut.size() + "/" + nannies.size() + " nanny worker(s) did not shut down within "
                        + timeoutSeconds + "s: " + timedOut);
                return;
            }
            if (!wait) {
                done.done(outcome, null);
                return;
            }
            awaitWorkers(before, deadline, () -> done.done(outcome, null), () -> {
                String msg = "Waited for " + workers.size() + " worker(s) to reconnect after restarting but, after "
                        + timeoutSeconds + "s, " + (before - state.queries().workerCount()) + " have not returned. Consider a"
                        + " longer timeout, or `wait_for_workers=False`.";
                if (!noNanny.isEmpty()) {
                    msg += " The " + noNanny.size() + " worker(s) not using Nannies were just shut down instead of"
                            + " restarted (restart is only possible with Nannies).";
                }
                done.done(outcome, msg);
            });
        };
        if (nannies.isEmpty()) {
            waitForWorkers.run();
            return;
        }
        int[] outstanding = {nannies.size()};
        for (Map.Entry<String, String> e : nannies.entrySet()) {
            String worker = e.getKey();
            Peer stream = peers.worker(worker);
            Generation g = stream == null ? Generation.DASK_2022 : stream.generation;
            Map<String, Object> kill = new LinkedHashMap<>();
            kill.put("op", "kill");
            if (g == Generation.DASK_2022) {
                kill.put("timeout", timeoutSeconds);
            }
            kill.put("reason", g == Generation.DASK_2022 ? "scheduler-restart" : sid);
            kill.put("reply", true);
            boolean[] answered = {false};
            Consumer<String> settle = result -> {
                if (answered[0]) {
                    return;
                }
                answered[0] = true;
                outcome.put(worker, result);
                // The old process is down (or given up on): forget it now rather than when its
                // stream's closing arrives, so the count below sees only new workers.
                if (peers.worker(worker) == stream && state.queries().hasWorker(worker)) {
                    remove(worker, sid);
                }
                if (--outstanding[0] == 0) {
                    waitForWorkers.run();
                }
            };
            rpc.call(e.getValue(), kill, false, (answer, err) -> {
                if (err != null || Rpc.Error.is(answer)) {
                    log.error("Nanny {} did not kill worker {}: {}", e.getValue(), worker, err != null ? err : answer);
                }
                settle.accept(err != null ? "timed out" : "OK");
            });
            loop.schedule(() -> settle.accept("timed out"), Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    private void awaitWorkers(int count, long deadline, Runnable back, Runnable late) {
        if (state.queries().workerCount() >= count) {
            back.run();
        } else if (System.nanoTime() > deadline) {
            late.run();
        } else {
            loop.schedule(() -> awaitWorkers(count, deadline, back, late), POLL_MS, TimeUnit.MILLISECONDS);
        }
    }

    private void remove(String worker, String sid) {
        state.onRemoveWorker(worker, sid);
        server.dropWorker(worker, "scheduler-restart");
    }

    private static Object timeoutError(String text) {
        return PeerReply.error("TimeoutError", text);
    }
}
