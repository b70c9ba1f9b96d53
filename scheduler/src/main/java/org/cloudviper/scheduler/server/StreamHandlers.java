package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.layers.LayerLimits;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.SchedulerToClient;
import org.cloudviper.protocol.message.SchedulerToWorker;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.cloudviper.protocol.pickle.PickleException;
import org.cloudviper.scheduler.server.graph.GraphUpdates;
import org.cloudviper.scheduler.server.graph.HlgGraph;
import org.cloudviper.scheduler.server.graph.PickledGraph;
import org.cloudviper.scheduler.state.GraphUpdate;
import org.cloudviper.scheduler.state.SchedulerState;
import org.slf4j.Logger;

import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * What arrives on the workers' and clients' streams (distributed Scheduler.stream_handlers), as
 * events of the state machine; a client's graph is read into a {@link GraphUpdate} first (2022's
 * packed layers by {@link HlgGraph}, 2024's pickle by {@link PickledGraph}).
 */
final class StreamHandlers {
    private static final Logger log = SchedulerLogs.logger(StreamHandlers.class);

    private final SchedulerState state;
    private final Peers peers;
    private final StreamBatcher batcher;
    private final FlushMarkers flushMarkers;
    private final PickledGraph pickledGraphs = new PickledGraph();
    private final TaskStream taskStream;
    private final EventTopics events;
    private final Runnable tookGraph;

    /**
     * @param tookGraph run after the state has taken a graph (the server's work-stealing tick, which
     *                  sleeps while the scheduler holds no task)
     */
    StreamHandlers(SchedulerState state, Peers peers, StreamBatcher batcher, FlushMarkers flushMarkers,
                   TaskStream taskStream, EventTopics events, Runnable tookGraph) {
        this.tookGraph = tookGraph;
        this.taskStream = taskStream;
        this.events = events;
        this.state = state;
        this.peers = peers;
        this.batcher = batcher;
        this.flushMarkers = flushMarkers;
    }

    void fromWorker(Peer peer, WorkerToScheduler m) {
        String worker = peer.id;
        if (m instanceof WorkerToScheduler.TaskFinished t) {
            taskStream.finished(worker, t);
            state.onTaskFinished(worker, t.key(), t.nbytes(), t.type(), t.computeSeconds(), t.stimulusId());
        } else if (m instanceof WorkerToScheduler.TaskErred e) {
            taskStream.erred(worker, e);
            state.onTaskErred(worker, e.key(), e.exception(), e.traceback(), e.stimulusId());
        } else if (m instanceof WorkerToScheduler.ReleaseWorkerData d) {
            state.onReleaseWorkerData(worker, d.key(), d.stimulusId());
        } else if (m instanceof WorkerToScheduler.AddKeys a) {
            state.onAddKeys(worker, a.keys(), a.stimulusId());
        } else if (m instanceof WorkerToScheduler.LongRunning l) {
            state.onLongRunning(worker, l.key(), l.stimulusId());
        } else if (m instanceof WorkerToScheduler.Reschedule r) {
            state.onReschedule(worker, r.key(), r.stimulusId());
        } else if (m instanceof WorkerToScheduler.WorkerStatusChange s) {
            state.onWorkerStatusChange(worker, s.status(), s.stimulusId());
            Map<String, Object> info = peers.info(worker);
            if (info != null) {
                info.put("status", s.status());
            }
        } else if (m instanceof WorkerToScheduler.RequestRefreshWhoHas q) {
            batcher.queue(peer, new SchedulerToWorker.RefreshWhoHas(state.queries().whoHas(q.keys()),
                    RequestHandlers.stimulus("refresh-who-has")).encode(peer.generation));
        } else if (m instanceof WorkerToScheduler.StealResponse r) {
            state.onStealResponse(worker, r.key(), r.state(), r.stimulusId());
        } else if (m instanceof WorkerToScheduler.Unknown u && "log-event".equals(u.op())) {
            events.logFromWorker(worker, u.fields().get("topic"), u.fields().get("msg"), RequestHandlers.now());
        } else if (m instanceof WorkerToScheduler.Unknown u) {
            log.warn("Unknown worker stream operation {} from {}", u.op(), worker);
        }
        // keep-alive needs nothing
    }

    /** A client's graph read while it arrived ({@link GraphStream}); its decoded values are released here. */
    void fromClient(Peer peer, StreamedGraph read) {
        try {
            if (read.message() instanceof ClientToScheduler.UpdateGraphHlg u) {
                updateGraphHlg(peer, u, (client, stimulus) -> {
                    HlgGraph.Layers graph = new HlgGraph.Layers(u, LayerLimits.DEFAULT);
                    try {
                        read.addLayers(graph);
                    } catch (RuntimeException e) {
                        graph.release();
                        throw e;
                    }
                    return graph.update(u, client, RequestHandlers.now(), stimulus);
                });
            } else {
                fromClient(peer, read.message());
            }
        } finally {
            read.release();
        }
    }

    void fromClient(Peer peer, ClientToScheduler m) {
        if (m instanceof ClientToScheduler.UpdateGraphHlg u) {
            updateGraphHlg(peer, u, (client, stimulus) -> HlgGraph.read(u, client, RequestHandlers.now(), stimulus));
        } else if (m instanceof ClientToScheduler.UpdateGraph u) {
            updateGraph(peer, u);
        } else if (m instanceof ClientToScheduler.ClientDesiresKeys d) {
            state.onClientDesiresKeys(clientOf(peer, d.client()), d.keys(), RequestHandlers.stimulus("client-desires-keys"));
        } else if (m instanceof ClientToScheduler.ClientReleasesKeys r) {
            state.onClientReleasesKeys(clientOf(peer, r.client()), r.keys(),
                    RequestHandlers.stimulus("client-releases-keys"));
        } else if (m instanceof ClientToScheduler.CancelKeys c) {
            state.onCancel(clientOf(peer, c.client()), c.keys(), c.force(), RequestHandlers.stimulus("cancel-keys"));
        } else if (m instanceof ClientToScheduler.ReportKey r) {
            state.onReportKey(clientOf(peer, r.client()), r.key());
        } else if (m instanceof ClientToScheduler.CloseClient c) {
            String client = clientOf(peer, c.client());
            state.onRemoveClient(client, RequestHandlers.stimulus("remove-client"));
            peers.removeClient(client);
        } else if (m instanceof ClientToScheduler.PublishFlushBatchedSend f) {
            flushMarkers.received(f.uid());
        } else if (m instanceof ClientToScheduler.SubscribeTopic t) {
            events.subscribe(clientOf(peer, t.client()), t.topic(), t.subscribe());
        } else if (m instanceof ClientToScheduler.Unknown u) {
            log.warn("Unknown client stream operation {} from {}", u.op(), peer.id);
        }
        // heartbeat-client needs nothing
    }

    /** A pickled graph of this many tasks is followed by a full collection before the state takes it. */
    static final int COLLECT_AFTER_TASKS = 200_000;

    /** Dask adds {@code client=<the stream's client>} unless the message names one. */
    private static String clientOf(Peer peer, String named) {
        return named != null ? named : peer.id;
    }

    private void updateGraphHlg(Peer peer, ClientToScheduler.UpdateGraphHlg u,
                                BiFunction<String, String, GraphUpdate> read) {
        String client = clientOf(peer, u.client());
        GraphUpdate g;
        try {
            g = read.apply(client, RequestHandlers.stimulus("update-graph"));
        } catch (HlgGraph.UnsupportedLayer e) {
            refuseGraph(peer, client, u.keys(), e.getMessage());
            return;
        }
        take(g, u.actors());
    }

    private void updateGraph(Peer peer, ClientToScheduler.UpdateGraph u) {
        String client = clientOf(peer, u.client());
        if (!u.hasGraph()) {
            // 2022 sends this with no tasks when futures are unpickled (get_dataset).
            if (!u.legacyTasks().isEmpty()) {
                refuseGraph(peer, client, u.keys(), "legacy update-graph with tasks is not supported;"
                        + " use a client that sends update-graph-hlg");
            } else {
                state.onClientDesiresKeys(client, u.keys(), RequestHandlers.stimulus("update-graph"));
            }
            return;
        }
        GraphUpdate g;
        try {
            g = pickledGraphs.read(u, peer.generation, client, RequestHandlers.now(),
                    RequestHandlers.stimulus("update-graph"));
        } catch (PickleException e) {
            // Unsupported layers and hostile or malformed pickles: this client's keys err, nothing else.
            refuseGraph(peer, client, u.keys(), e.getMessage());
            return;
        }
        if (g.tasks().size() >= COLLECT_AFTER_TASKS) {
            // What reading the graph took (its pickle, the parse of it, the message's keys) lived
            // long enough to be promoted and is garbage now: collected before the state grows by
            // the graph, the heap need not grow to hold both (with the launcher's collector, what
            // keeps a million-task client.map's peak near what is live: docs/benchmarks.md,
            // "Million-task graphs from stock clients").
            System.gc();
        }
        take(g, u.actors());
    }

    /** The state takes the graph; the references the update held to its run specs are let go. */
    private void take(GraphUpdate g, Object actors) {
        try {
            state.onUpdateGraph(g.withActors(actors));
        } finally {
            GraphUpdates.release(g);
        }
        tookGraph.run();
    }

    /** Every requested key errs with {@code why}: the client sees an exception, never a hang. */
    private void refuseGraph(Peer peer, String client, List<Object> keys, String why) {
        log.warn("Refused graph from {}: {}", client, why);
        for (Object key : keys) {
            batcher.queue(peer, new SchedulerToClient.TaskErred(key, why, null).encode(peer.generation));
        }
    }
}
