package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.message.CoordinationRequest;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Dask's MultiLock (distributed/multi_lock.py MultiLockExtension): a MultiLock instance ({@code id})
 * asks for {@code num_locks} of a set of named locks. Each lock keeps the ids that asked for it in
 * order; the first holds it. A request is granted once it is first in enough of its locks; until
 * then it stays queued in all of them (Dask's algorithm, kept as is: fewest-contended locks first,
 * and the locks it no longer needs once granted are given up). A request that times out gives up
 * its place everywhere and is answered false; so is one whose connection closed before its grant.
 */
public final class MultiLocks {
    /** lock name -> ids that asked for it; the first holds it. */
    private final Map<Object, List<Object>> locks = new HashMap<>();
    /** id -> the locks it holds or waits for. */
    private final Map<Object, Set<Object>> requests = new HashMap<>();
    /** id -> how many more locks it needs. */
    private final Map<Object, Integer> requestsLeft = new HashMap<>();
    /** id -> its waiting acquire (what: the locks it asked for). */
    private final Map<Object, Waiters.Waiter<List<Object>>> waiting = new HashMap<>();

    /** multi_lock_acquire: true once {@code numLocks} of the locks are this id's, false after the timeout. */
    public void acquire(CoordinationRequest.MultiLockAcquire r, Reply reply, double now) {
        if (requests.containsKey(r.id())) {
            reply.fail("AssertionError", "MultiLock " + r.id() + " already holds or waits for its locks");
            return;
        }
        if (r.numLocks() <= 0 || r.locks().size() < r.numLocks()) {
            reply.fail("AssertionError", "num_locks: " + r.numLocks() + " (expected: 1 to " + r.locks().size() + ")");
            return;
        }
        if (requestLocks(r.locks(), r.id(), r.numLocks())) {
            reply.send(true);
        } else if (Waiters.noWait(r.timeout())) {
            refrain(r.locks(), r.id());
            reply.send(false);
        } else {
            waiting.put(r.id(), new Waiters.Waiter<>(reply, Waiters.deadline(now, r.timeout()), r.locks()));
        }
    }

    /** multi_lock_release: the id's locks go to whoever waits next for each. */
    public void release(Object id, Reply reply) {
        Set<Object> held = requests.get(id);
        if (held == null) {
            reply.fail("KeyError", String.valueOf(id));
            return;
        }
        refrain(new ArrayList<>(held), id);
        reply.send(null);
    }

    /** Acquires whose timeout passed (or whose connection closed) give up their places. */
    public void expire(double now) {
        for (Waiters.Waiter<List<Object>> w : new ArrayList<>(waiting.values())) {
            boolean open = w.reply.isOpen();
            if (w.deadline <= now || !open) {
                Object id = idOf(w);
                waiting.remove(id);
                refrain(w.what, id);
                if (open) {
                    w.reply.send(false);
                }
            }
        }
    }

    private Object idOf(Waiters.Waiter<List<Object>> w) {
        for (Map.Entry<Object, Waiters.Waiter<List<Object>>> e : waiting.entrySet()) {
            if (e.getValue() == w) {
                return e.getKey();
            }
        }
        throw new IllegalStateException("waiter not registered");
    }

    /** Whether {@code id} holds or waits for locks (for tests). */
    public boolean known(Object id) {
        return requests.containsKey(id);
    }

    private boolean requestLocks(List<Object> names, Object id, int numLocks) {
        requests.put(id, new LinkedHashSet<>(names));
        requestsLeft.put(id, numLocks);
        List<Object> sorted = new ArrayList<>(new LinkedHashSet<>(names));
        sorted.sort(Comparator.comparingInt(x -> locks.getOrDefault(x, List.of()).size()));
        for (int i = 0; i < sorted.size(); i++) {
            List<Object> users = locks.computeIfAbsent(sorted.get(i), x -> new ArrayList<>());
            users.add(id);
            if (users.size() == 1) { // the lock was free
                int left = requestsLeft.merge(id, -1, Integer::sum);
                if (left == 0) {
                    requests.get(id).removeAll(sorted.subList(i + 1, sorted.size()));
                    return true;
                }
            }
        }
        return false;
    }

    /** Gives up {@code id}'s place in {@code names}; ids that now hold enough are granted. */
    private void refrain(Collection<Object> names, Object id) {
        Set<Object> ready = new LinkedHashSet<>();
        for (Object name : new LinkedHashSet<>(names)) {
            List<Object> users = locks.get(name);
            if (users == null) {
                continue;
            }
            if (!users.isEmpty() && Objects.equals(users.get(0), id)) {
                users.remove(0);
                if (!users.isEmpty()) {
                    Object next = users.get(0);
                    int left = requestsLeft.merge(next, -1, Integer::sum);
                    if (left <= 0) {
                        requestsLeft.put(next, 0);
                        ready.add(next);
                    }
                }
            } else {
                users.remove(id);
            }
            if (users.isEmpty()) {
                locks.remove(name);
            }
        }
        requests.remove(id);
        requestsLeft.remove(id);
        Set<Object> abandoned = new HashSet<>();
        for (Object r : ready) {
            Waiters.Waiter<List<Object>> w = waiting.remove(r);
            if (w == null) {
                continue;
            }
            if (w.reply.isOpen()) {
                w.reply.send(true);
            } else {
                abandoned.add(r);
            }
        }
        for (Object r : abandoned) {
            Set<Object> held = requests.get(r);
            if (held != null) {
                refrain(new ArrayList<>(held), r);
            }
        }
    }
}
