package org.cloudviper.scheduler.interop;

import org.cloudviper.testkit.DaskGeneration;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dask's coordination primitives as two stock clients and their tasks use them: each part of
 * coordination.py checks what the clients got against what Dask's own scheduler gives.
 */
@DaskInterop
class CoordinationInteropTest {

    @InteropTest
    void primitivesWithTwoClients(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 2, 2, false);

        ScriptResult r = peers.runClient("coordination.py", scheduler.address());

        assertAll(
                () -> {
                    Map<String, Object> v = r.partMap("variable");
                    assertEquals("TimeoutError", v.get("timed_out"), "get of an unset variable");
                    assertEquals(Map.of("x", List.of(1L, 2L)), v.get("data"));
                    assertEquals(42L, v.get("future"), "a future set by one client, read by the other");
                    assertEquals(42L, v.get("kept"), "the variable alone kept the key");
                    assertEquals("ValueError", ((Map<?, ?>) v.get("erred")).get("type"), "erred future");
                    assertEquals("TimeoutError", v.get("after_delete"));
                },
                () -> {
                    Map<String, Object> q = r.partMap("queue");
                    assertEquals("TimeoutError", q.get("empty"));
                    assertEquals(3L, q.get("size"));
                    assertEquals(List.of(1L, "two"), q.get("first"));
                    assertEquals(3L, q.get("future"));
                    assertEquals(3L, q.get("produced"));
                    assertEquals(List.of(0L, 10L, 20L), q.get("batch"), "batch=True: every item, put by a task");
                    assertEquals(List.of(7L, 8L), q.get("two"));
                    assertEquals("TimeoutError", q.get("full"), "put to a full queue");
                    assertEquals(0L, q.get("size_after"));
                },
                () -> {
                    Map<String, Object> l = r.partMap("lock");
                    assertEquals(true, l.get("a"));
                    assertEquals(false, l.get("b_while_held"));
                    assertEquals(true, l.get("b_after"));
                    assertEquals(1L, l.get("task_overlap"), "tasks holding the lock never overlap");
                },
                () -> {
                    Map<String, Object> m = r.partMap("multilock");
                    assertEquals(true, m.get("a"));
                    assertEquals(false, m.get("b_while_held"));
                    assertEquals(true, m.get("c_free"));
                    assertEquals(true, m.get("b_after"));
                    assertEquals(true, m.get("num_locks_1"));
                },
                () -> {
                    Map<String, Object> s = r.partMap("semaphore");
                    assertEquals(true, s.get("first"));
                    assertEquals(true, s.get("second"));
                    assertEquals(false, s.get("third_while_full"));
                    assertEquals(2L, s.get("value"));
                    assertEquals(true, s.get("third_after"));
                    assertEquals(0L, s.get("value_after"));
                    assertEquals("ValueError", s.get("mismatch"), "max_leases differs from the registered one");
                    assertEquals(2L, s.get("task_overlap"), "at most two tasks hold a lease at once");
                },
                () -> {
                    Map<String, Object> e = r.partMap("event");
                    assertEquals(false, e.get("before"));
                    assertEquals(true, e.get("task_saw"), "a task waiting on the event");
                    assertEquals(true, e.get("a_saw"));
                    assertEquals(true, e.get("is_set"));
                    assertEquals(false, e.get("after_clear"));
                    assertEquals(false, e.get("wait_after_clear"));
                },
                () -> {
                    Map<String, Object> p = r.partMap("pubsub");
                    List<Object> fromWorker = List.of(Map.of("i", 0L), Map.of("i", 1L), Map.of("i", 2L));
                    assertEquals(fromWorker, p.get("worker_to_a"), "a worker Pub heard by client a");
                    assertEquals(fromWorker, p.get("worker_to_b"), "a worker Pub heard by client b");
                    assertEquals(List.of("hello", List.of(1L, 2L)), p.get("client_to_task"));
                    assertEquals(List.of("hello", List.of(1L, 2L)), p.get("client_to_client"));
                },
                () -> {
                    Map<String, Object> a = r.partMap("actor");
                    assertEquals("Actor", a.get("type"), "an actor future's result is an Actor");
                    assertEquals(1L, a.get("first"));
                    assertEquals(6L, a.get("second"));
                    assertEquals(6L, a.get("attribute"));
                    assertEquals(16L, a.get("from_task"), "a task calls the actor");
                    assertEquals(116L, a.get("from_b"), "the other client calls the same actor");
                    assertEquals(3L, a.get("made_in_task"), "a task creates an actor and calls it");
                    Map<?, ?> err = (Map<?, ?>) a.get("error");
                    assertEquals("ValueError", err.get("type"));
                    assertTrue(String.valueOf(err.get("text")).contains("actor says no"), err.toString());
                });
    }

    /**
     * A client takes every primitive and a task of it holds a Semaphore lease on a worker with an
     * actor; the client and that worker are killed. A second client then finds what Dask gives:
     * the Variable's and the Queue's futures alive, the set Event set, the leases lapsed (2024's
     * Lock is a semaphore; 2022's Lock and the MultiLock have no lease and stay held), Pub/Sub
     * working without the dead subscriber, and the actor erred (Dask does not make it again).
     */
    @InteropTest
    void holdersThatDie(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        List<Peer> workers = scheduler.startWorkers(peers, 2, 2, false);
        Peer doomed = workers.get(0);
        Path started = peers.scratchDir("signals").resolve("lease-held");

        Peer holder = peers.startClient("coordination_holder.py", scheduler.address(), doomed.workerAddress(),
                peers.inPython(started));
        holder.awaitMarker("held", PythonPeers.CLIENT_TIMEOUT);
        holder.kill();
        doomed.kill();

        ScriptResult r = peers.runClient("coordination_after.py", scheduler.address());
        boolean leasedLock = peers.dask() == DaskGeneration.DASK_2024;
        assertAll(
                () -> assertEquals(42L, r.part("variable"), "the Variable kept the dead client's future"),
                () -> assertEquals(List.of(10L, "data"), r.part("queue"), "the Queue kept the dead client's future"),
                () -> assertEquals(true, r.part("event"), "an Event set by the dead client"),
                () -> assertEquals(false, r.part("multilock"), "Dask's MultiLock has no lease"),
                () -> assertEquals(List.of(0L, 1L), r.part("pubsub"), "Pub/Sub after a subscriber died"),
                () -> {
                    Map<String, Object> a = r.partMap("actor");
                    assertEquals(Map.of("type", "ValueError", "text", "Worker holding Actor was lost"), a.get("lost"),
                            "an actor whose worker died errs, as in Dask");
                    assertEquals(1L, a.get("new"), "a new actor on the worker that is left");
                },
                () -> assertEquals(true, r.partMap("semaphore").get("value"), "the dead client's lease lapsed"),
                () -> assertEquals(true, r.partMap("task_semaphore").get("value"),
                        "the lease of a task on the dead worker lapsed"),
                () -> assertEquals(leasedLock, r.partMap("lock").get("value"),
                        leasedLock ? "2024.12's Lock is a lease that lapses" : "a Lock before 2024.7.1 has no lease"));
    }
}
