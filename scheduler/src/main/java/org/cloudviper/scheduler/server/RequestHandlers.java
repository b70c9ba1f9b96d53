package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.PeerVersion;
import org.cloudviper.protocol.message.Rpc;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.netty.RpcClient;
import org.cloudviper.scheduler.state.SchedulerState;
import org.cloudviper.scheduler.state.StoryEntry;
import org.cloudviper.scheduler.state.WorkerRegistration;
import org.slf4j.Logger;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The scheduler's request/reply operations (distributed Scheduler.handlers): registration of
 * clients and workers (which turns the connection into their stream), heartbeats, the queries a
 * client makes, published datasets, and the data and retirement operations, which
 * {@link DataRelay} and {@link Retirements} carry out.
 */
final class RequestHandlers {
    private static final Logger log = SchedulerLogs.logger(RequestHandlers.class);

    /** What the handlers need of the server around them. */
    interface Server {
        String address();

        String id();

        double started();

        /** Forgets a worker the state has removed and closes its stream, first telling it to close unless null. */
        void dropWorker(String address, String closeReason);

        /** The number of workers changed (for readers on other threads). */
        void workersChanged();

        Map<String, Object> latency(boolean reset);

        /** Dask's {@code services} of identity(): {"dashboard": port} when the HTTP side runs. */
        Map<String, Object> services();
    }

    private final Server server;
    private final SchedulerState state;
    private final Peers peers;
    private final DataRelay relay;
    private final Retirements retirements;
    private final WorkerCalls workerCalls;
    private final FlushMarkers flushMarkers;
    private final AdminCalls admin;

    RequestHandlers(Server server, SchedulerState state, Peers peers, DataRelay relay, Retirements retirements,
                    WorkerCalls workerCalls, FlushMarkers flushMarkers, AdminCalls admin) {
        this.admin = admin;
        this.server = server;
        this.state = state;
        this.peers = peers;
        this.relay = relay;
        this.retirements = retirements;
        this.workerCalls = workerCalls;
        this.flushMarkers = flushMarkers;
    }

    /**
     * Handles one request of {@code peer}; {@code reply} answers it (or not, as the request asked).
     * Register-client and register-worker answer on what is then the peer's stream.
     */
    void handle(Peer peer, SchedulerRequest request, Consumer<Object> reply) {
        if (request instanceof SchedulerRequest.Identity) {
            reply.accept(identity());
        } else if (request instanceof SchedulerRequest.RegisterClient r) {
            registerClient(peer, r);
        } else if (request instanceof SchedulerRequest.RegisterWorker r) {
            registerWorker(peer, r);
        } else if (request instanceof SchedulerRequest.HeartbeatWorker h) {
            reply.accept(heartbeat(h));
        } else if (request instanceof SchedulerRequest.Gather g) {
            relay.gather(g.keys(), reply);
        } else if (request instanceof SchedulerRequest.Scatter s) {
            relay.scatter(s, stimulus("scatter"), reply);
        } else if (request instanceof SchedulerRequest.Cancel c) {
            state.onCancel(c.client(), c.keys(), c.force(), stimulus("cancel-key"));
            reply.accept(null);
        } else if (request instanceof SchedulerRequest.Retry r) {
            reply.accept(state.onRetry(r.client(), r.keys(), stimulus("stimulus-retry")));
        } else if (request instanceof SchedulerRequest.WhoHas w) {
            reply.accept(state.queries().whoHas(w.keys()));
        } else if (request instanceof SchedulerRequest.HasWhat h) {
            reply.accept(state.queries().hasWhat(h.workers()));
        } else if (request instanceof SchedulerRequest.Ncores n) {
            reply.accept(state.queries().ncores(n.workers(), n.runningOnly()));
        } else if (request instanceof SchedulerRequest.PublishPut p) {
            reply.accept(publishPut(p));
        } else if (request instanceof SchedulerRequest.PublishGet p) {
            SchedulerState.Dataset d = state.dataset(p.name());
            reply.accept(d == null ? null : dataset(d));
        } else if (request instanceof SchedulerRequest.PublishList) {
            reply.accept(state.datasetNames());
        } else if (request instanceof SchedulerRequest.PublishDelete p) {
            state.onPublishDelete(p.name(), stimulus("publish-delete"));
            reply.accept(null);
        } else if (request instanceof SchedulerRequest.PublishWaitFlush w) {
            flushMarkers.await(w.uid(), () -> reply.accept(null));
        } else if (request instanceof SchedulerRequest.GetStory g) {
            List<Object> story = new java.util.ArrayList<>();
            for (StoryEntry e : state.queries().story(g.keysOrStimuli())) {
                story.add(e.toList());
            }
            reply.accept(story);
        } else if (request instanceof SchedulerRequest.Broadcast b) {
            workerCalls.broadcast(b, reply);
        } else if (request instanceof SchedulerRequest.RegisterNanny) {
            // Nannies ask for the plugins registered so far.
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("status", "OK");
            r.put("nanny-plugins", admin.nannyPlugins());
            reply.accept(r);
        } else if (request instanceof SchedulerRequest.RetireWorkers r) {
            retirements.retire(r, r.stimulusId() != null ? r.stimulusId() : stimulus("retire-workers"), reply);
        } else if (request instanceof SchedulerRequest.WorkersToClose w) {
            reply.accept(state.workersToClose(w.n()));
        } else if (request instanceof SchedulerRequest.Unregister u) {
            state.onRemoveWorker(u.address(), u.stimulusId() == null ? stimulus("unregister") : u.stimulusId());
            reply.accept("OK");
            server.dropWorker(u.address(), null);
        } else if (request instanceof SchedulerRequest.Versions) {
            reply.accept(versions());
        } else if (request instanceof SchedulerRequest.CloudviperLatency l) {
            reply.accept(server.latency(l.reset()));
        } else if (request instanceof SchedulerRequest.Close) {
            reply.accept("OK");
            peer.channel.close();
        } else if (request instanceof SchedulerRequest.Unknown u && admin.handle(u, peer.generation, reply)) {
            return; // the admin API (AdminCalls)
        } else {
            String op = request instanceof SchedulerRequest.Unknown u ? u.op() : request.getClass().getSimpleName();
            log.warn("Unknown operation {} from {}", op, peer.channel.remoteAddress());
            reply.accept(AdminCalls.unsupported("unknown operation " + op + ": cloudviper's scheduler does not"
                    + " serve it"));
        }
    }

    Map<String, Object> identity() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("type", "Scheduler");
        r.put("id", server.id());
        r.put("address", server.address());
        r.put("services", server.services());
        r.put("started", server.started());
        r.put("workers", new LinkedHashMap<>(peers.workerInfo()));
        return r;
    }

    /** Node.versions: this host; no Python packages (a client compares only what both sides list). */
    private static Map<String, Object> versions() {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("host", Map.of("python", "cloudviper (Java " + Runtime.version() + ")"));
        r.put("packages", Map.of());
        return r;
    }

    private void registerClient(Peer peer, SchedulerRequest.RegisterClient r) {
        PeerVersion version = r.peerVersion();
        boolean cloudviper = PeerVersion.isCloudviper(r.versions());
        String refused = Lines.refusal("client " + r.client(), Peer.Role.CLIENT, version, cloudviper, peers);
        if (refused != null) {
            // A non-empty error makes the client raise ImportError(error) (client.py _ensure_connected).
            log.warn("Refused client {}: {}", r.client(), refused);
            peer.sendAndClose(List.of(new SchedulerToClient.StreamStart("", refused)
                    .encode(version.generationOr(Generation.DASK_2022))));
            return;
        }
        String warning = cloudviper ? "" : Lines.warning(Peer.Role.CLIENT, r.versions(), peers);
        peer.role = Peer.Role.CLIENT;
        peer.id = r.client();
        peer.generation = version.generation();
        peer.version = version;
        peer.cloudviper = cloudviper;
        peer.packages = Lines.packages(r.versions());
        Peer old = peers.addClient(peer);
        if (old != null && old != peer) {
            old.channel.close();
        }
        state.onAddClient(r.client());
        log.info("Receive client connection: {} ({})", r.client(), version);
        if (!warning.isEmpty()) {
            log.warn("Client {}: {}", r.client(), warning);
        }
        // The client asserts that its first batch holds exactly this one message.
        peer.send(List.of(new SchedulerToClient.StreamStart(warning, "").encode(peer.generation)));
    }

    private void registerWorker(Peer peer, SchedulerRequest.RegisterWorker r) {
        PeerVersion version = r.peerVersion();
        boolean cloudviper = PeerVersion.isCloudviper(r.versions());
        String refused = Lines.refusal("worker " + r.address(), Peer.Role.WORKER, version, cloudviper, peers);
        if (refused != null) {
            // The worker logs "Unable to connect to scheduler: <message>" and stops (worker.py
            // _register_with_scheduler); it gets no other message.
            log.warn("Refused worker {}: {}", r.address(), refused);
            peer.sendAndClose(SchedulerRequest.RegisterWorker.Reply.error(now(), refused)
                    .encode(version.generationOr(Generation.DASK_2022)));
            return;
        }
        String warning = cloudviper ? "" : Lines.warning(Peer.Role.WORKER, r.versions(), peers);
        Generation generation = version.generation();
        String name = r.name() == null ? r.address() : String.valueOf(r.name());
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("type", "Worker");
        info.put("id", r.address());
        info.put("host", RpcClient.parseAddress(r.address()).getHostString());
        info.put("resources", r.resources());
        info.put("local_directory", r.localDirectory());
        info.put("name", r.name());
        info.put("nthreads", (long) r.nthreads());
        info.put("memory_limit", r.memoryLimit());
        info.put("last_seen", now());
        info.put("services", r.services());
        info.put("metrics", Fields.plain(r.metrics()));
        info.put("status", "running");
        info.put("nanny", r.nanny());
        // The stream is known before the state hears of the worker: adding it fills its free slots from
        // the queue at once, and those compute-tasks must find the stream (they leave at the end of this
        // turn, after the reply below), not be dropped as if for an unknown worker.
        Peer replaced = peers.worker(r.address());
        Map<String, Object> replacedInfo = peers.info(r.address());
        peer.role = Peer.Role.WORKER;
        peer.id = r.address();
        peer.generation = generation;
        peer.version = version;
        peer.cloudviper = cloudviper;
        peer.packages = Lines.packages(r.versions());
        peers.addWorker(peer, info);
        String error = state.onAddWorker(new WorkerRegistration(r.address(), name, r.nthreads(), r.memoryLimit(),
                r.resources(), now()));
        if (error != null) {
            peers.removeWorker(r.address());
            if (replaced != null) {
                peers.addWorker(replaced, replacedInfo);
            }
            peer.role = Peer.Role.RPC;
            peer.id = null;
            peer.send(SchedulerRequest.RegisterWorker.Reply.error(now(), error).encode(generation));
            log.warn("Refused worker {}: {}", r.address(), error);
            return;
        }
        server.workersChanged();
        peer.send(new SchedulerRequest.RegisterWorker.Reply("OK", now(), heartbeatInterval(), admin.workerPlugins(),
                null, warning).encode(generation));
        log.info("Register worker {} ({} threads, {}{})", r.address(), r.nthreads(), version,
                cloudviper ? ", cloudviper" : "");
        if (!warning.isEmpty()) {
            log.warn("Worker {}: {}", r.address(), warning);
        }
    }

    private Map<String, Object> heartbeat(SchedulerRequest.HeartbeatWorker h) {
        if (!state.onHeartbeat(h.address(), now())) {
            return new SchedulerRequest.HeartbeatWorker.Reply("missing", 0, 0).encode(Generation.DASK_2022);
        }
        Map<String, Object> info = peers.info(h.address());
        if (info != null) {
            info.put("last_seen", now());
            if (!h.metrics().isEmpty()) {
                info.put("metrics", Fields.plain(h.metrics()));
            }
        }
        return new SchedulerRequest.HeartbeatWorker.Reply("OK", now(), heartbeatInterval()).encode(Generation.DASK_2022);
    }

    /** distributed.scheduler.heartbeat_interval: more workers, rarer heartbeats. */
    private double heartbeatInterval() {
        int n = peers.workerCount();
        if (n <= 10) {
            return 0.5;
        } else if (n < 50) {
            return 1;
        } else if (n < 200) {
            return 2;
        }
        return n / 200.0 + 1;
    }

    private Map<String, Object> publishPut(SchedulerRequest.PublishPut p) {
        SubObject data = p.data() instanceof SubObject s ? s : null;
        if (!state.onPublishPut(p.name(), p.keys(), data, p.override(), stimulus("publish"))) {
            return Rpc.Error.of("KeyError: 'Dataset " + p.name() + " already exists'").encode(Generation.DASK_2022);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("status", "OK");
        r.put("name", p.name());
        return r;
    }

    private static Map<String, Object> dataset(SchedulerState.Dataset d) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("data", d.data());
        r.put("keys", d.keys());
        return r;
    }

    static double now() {
        return SchedulerServer.now();
    }

    static String stimulus(String what) {
        return what + "-" + now();
    }
}
