package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.message.CoordinationRequest;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * 2022's Lock (distributed/lock.py LockExtension): one holder per name, the Lock instance's
 * {@code id}; others wait first come first served until their timeout (then the answer is false).
 * As in Dask, a 2022 lock has no lease: a holder that dies keeps it until someone releases it with
 * its id, and waiters time out. 2024's Lock is a {@link Semaphores semaphore} of one lease, whose
 * lease lapses when its holder stops refreshing it.
 */
public final class Locks {
    private final Map<Object, Object> holders = new HashMap<>();
    private final Map<Object, Waiters<Object>> waiters = new HashMap<>();

    /** lock_acquire: true at once if free, else once released, false after the timeout. */
    public void acquire(CoordinationRequest.LockAcquire r, Reply reply, double now) {
        if (!holders.containsKey(r.name())) {
            holders.put(r.name(), r.id());
            reply.send(true);
        } else if (Waiters.noWait(r.timeout())) {
            reply.send(false);
        } else {
            waiters.computeIfAbsent(r.name(), n -> new Waiters<>()).add(reply, Waiters.deadline(now, r.timeout()), r.id());
        }
    }

    /** lock_release by the holder's id: the next waiter gets the lock. */
    public void release(CoordinationRequest.LockRelease r, Reply reply) {
        if (!holders.containsKey(r.name()) || !Objects.equals(holders.get(r.name()), r.id())) {
            reply.fail("ValueError", "This lock has not yet been acquired");
            return;
        }
        holders.remove(r.name());
        Waiters<Object> w = waiters.get(r.name());
        Waiters.Waiter<Object> next = w == null ? null : w.pollOpen();
        if (next != null) {
            holders.put(r.name(), next.what);
            next.reply.send(true);
        }
        if (w != null && w.isEmpty()) {
            waiters.remove(r.name());
        }
        reply.send(null);
    }

    /** Acquires whose timeout passed answer false. */
    public void expire(double now) {
        for (Waiters<Object> w : waiters.values()) {
            w.expire(now, x -> x.reply.send(false));
        }
        waiters.values().removeIf(Waiters::isEmpty);
    }

    /** Whether {@code name} is held (for tests). */
    public boolean held(Object name) {
        return holders.containsKey(name);
    }
}
