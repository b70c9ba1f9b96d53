package org.cloudviper.scheduler.server;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The registered streams: each worker's (by address) with the info Dask shows for it
 * ({@code scheduler_info()["workers"]}), and each client's (by id). The state machine keeps its own
 * view of workers and clients; this is the connections' side.
 */
final class Peers {
    private final Map<String, Peer> workers = new HashMap<>();
    private final Map<String, Peer> clients = new HashMap<>();
    private final Map<String, Map<String, Object>> workerInfo = new LinkedHashMap<>();
    private long workersAdded;
    private long workersRemoved;
    private long clientsAdded;
    private long clientsRemoved;

    Peer worker(String address) {
        return workers.get(address);
    }

    Peer client(String id) {
        return clients.get(id);
    }

    /** The registered workers' streams (live view). */
    Collection<Peer> workers() {
        return workers.values();
    }

    /** The registered clients' streams (live view). */
    Collection<Peer> clients() {
        return clients.values();
    }

    int workerCount() {
        return workers.size();
    }

    void addWorker(Peer p, Map<String, Object> info) {
        workers.put(p.id, p);
        workerInfo.put(p.id, info);
        workersAdded++;
    }

    /** Forgets a worker's stream and info; returns the stream, or null. */
    Peer removeWorker(String address) {
        workerInfo.remove(address);
        Peer p = workers.remove(address);
        if (p != null) {
            workersRemoved++;
        }
        return p;
    }

    /** Registers a client's stream; returns the stream it replaces (the client reconnected), or null. */
    Peer addClient(Peer p) {
        clientsAdded++;
        return clients.put(p.id, p);
    }

    void removeClient(String id) {
        if (clients.remove(id) != null) {
            clientsRemoved++;
        }
    }

    /** Connections counted since start: workers and clients added and removed (Dask's counters). */
    PeerCounts counts() {
        return new PeerCounts(workersAdded, workersRemoved, clientsAdded, clientsRemoved);
    }

    record PeerCounts(long workersAdded, long workersRemoved, long clientsAdded, long clientsRemoved) {
    }

    /** Whether {@code p} is the current stream of the worker or client it registered as. */
    boolean isCurrent(Peer p) {
        return p.role == Peer.Role.WORKER ? workers.get(p.id) == p : p.role == Peer.Role.CLIENT && clients.get(p.id) == p;
    }

    /** A worker's info (live, the server updates it), or null. */
    Map<String, Object> info(String address) {
        return workerInfo.get(address);
    }

    /** Every registered worker's info, in registration order (live). */
    Map<String, Map<String, Object>> workerInfo() {
        return workerInfo;
    }
}
