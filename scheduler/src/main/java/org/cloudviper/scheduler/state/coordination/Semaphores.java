package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.message.CoordinationRequest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dask's Semaphore (distributed/semaphore.py SemaphoreExtension), which 2024's Lock also uses (one
 * lease): up to {@code max_leases} leases per name, each with the id its client chose, so that a
 * retried acquire is granted once. A holder's client refreshes its leases every fifth of the lease
 * timeout; a lease not refreshed for longer than the timeout lapses at the next tick, so a holder
 * that died (its client, or the worker whose task held it) releases. 2024 clients send the lease
 * timeout when they register the semaphore (null: none, Dask's "inf"); 2022 clients do not, and the
 * scheduler's own ({@code distributed.scheduler.locks.lease-timeout}, 30 s) applies. Waiting
 * acquires are served first come first served as leases free up, false after their timeout.
 */
public final class Semaphores {
    private static final class Semaphore {
        final long maxLeases;
        final Double leaseTimeout;
        /** lease id -> when it was acquired or last refreshed. */
        final LinkedHashMap<Object, Double> leases = new LinkedHashMap<>();
        final Waiters<Object> waiters = new Waiters<>();

        Semaphore(long maxLeases, Double leaseTimeout) {
            this.maxLeases = maxLeases;
            this.leaseTimeout = leaseTimeout;
        }
    }

    private final double defaultLeaseTimeout;
    private final Map<Object, Semaphore> semaphores = new HashMap<>();
    /** Lease ids refreshed after they lapsed: Dask takes them back (overbooking), and says so. */
    private final List<String> warnings = new ArrayList<>();

    /** @param defaultLeaseTimeout seconds, for semaphores registered without one (2022 clients) */
    public Semaphores(double defaultLeaseTimeout) {
        this.defaultLeaseTimeout = defaultLeaseTimeout;
    }

    /** semaphore_register: creates the semaphore; a second registration must agree on max_leases. */
    public void register(CoordinationRequest.SemaphoreRegister r, Reply reply) {
        if (!(r.maxLeases() instanceof Long max)) {
            reply.fail("AssertionError", String.valueOf(r.maxLeases()));
            return;
        }
        Semaphore s = semaphores.get(r.name());
        if (s == null) {
            Double leaseTimeout = r.sentLeaseTimeout() ? r.leaseTimeout() : Double.valueOf(defaultLeaseTimeout);
            semaphores.put(r.name(), new Semaphore(max, leaseTimeout));
        } else if (s.maxLeases != max) {
            reply.fail("ValueError", "Inconsistent max leases: " + max + ", expected: " + s.maxLeases);
            return;
        }
        reply.send(null);
    }

    /** semaphore_acquire: true with a lease (at once or once one frees up), false after the timeout. */
    public void acquire(CoordinationRequest.SemaphoreAcquire r, Reply reply, double now) {
        Semaphore s = semaphores.get(r.name());
        if (s == null) {
            reply.fail("RuntimeError", "Semaphore or Lock `" + r.name() + "` not known.");
            return;
        }
        if (s.leases.containsKey(r.leaseId()) || s.leases.size() < s.maxLeases) {
            s.leases.put(r.leaseId(), now);
            reply.send(true);
        } else if (Waiters.noWait(r.timeout())) {
            reply.send(false);
        } else {
            s.waiters.add(reply, Waiters.deadline(now, r.timeout()), r.leaseId());
        }
    }

    /** semaphore_release: the lease goes to the next waiter; an unknown lease or name is only logged by Dask. */
    public void release(CoordinationRequest.SemaphoreRelease r, Reply reply, double now) {
        Semaphore s = semaphores.get(r.name());
        if (s == null) {
            warnings.add("Tried to release Lock or Semaphore `" + r.name() + "` but it is not known.");
        } else if (s.leases.remove(r.leaseId()) != null) {
            grant(s, now);
        } else {
            warnings.add("Tried to release Lock or Semaphore but it was already released: name=" + r.name()
                    + ", lease_id=" + r.leaseId() + ". This can happen if the Lock or Semaphore timed out before.");
        }
        reply.send(null);
    }

    /** semaphore_refresh_leases: the holder is alive. */
    public void refresh(CoordinationRequest.SemaphoreRefreshLeases r, Reply reply, double now) {
        Semaphore s = semaphores.get(r.name());
        if (s != null) {
            for (Object id : r.leaseIds()) {
                if (s.leases.put(id, now) == null) {
                    warnings.add("Refreshing an unknown lease ID " + id + " for " + r.name() + ". This might be due"
                            + " to leases timing out and may cause overbooking of the semaphore!");
                }
            }
        }
        reply.send(null);
    }

    /** semaphore_value: how many leases are held. */
    public void value(Object name, Reply reply) {
        Semaphore s = semaphores.get(name);
        reply.send((long) (s == null ? 0 : s.leases.size()));
    }

    /** semaphore_close: gone, leases and all; acquires still waiting get a RuntimeError. */
    public void close(Object name, Reply reply) {
        Semaphore s = semaphores.remove(name);
        if (s != null) {
            s.waiters.drain(w -> w.reply.fail("RuntimeError", "Semaphore or Lock `" + name + "` was closed."));
        }
        reply.send(null);
    }

    /**
     * Leases not refreshed for longer than their timeout lapse (their holder is gone), and their
     * places go to waiters; acquires whose timeout passed answer false.
     */
    public void expire(double now) {
        for (Semaphore s : semaphores.values()) {
            if (s.leaseTimeout != null && !s.leases.isEmpty()) {
                if (s.leases.values().removeIf(seen -> now - seen > s.leaseTimeout)) {
                    grant(s, now);
                }
            }
            s.waiters.expire(now, w -> w.reply.send(false));
        }
    }

    /** Whether any semaphore holds a lease that may lapse (the server ticks while one does). */
    public boolean hasLeases() {
        for (Semaphore s : semaphores.values()) {
            if (!s.leases.isEmpty() && s.leaseTimeout != null) {
                return true;
            }
        }
        return false;
    }

    /** What Dask logs as warnings since the last call (the server logs them). */
    public List<String> takeWarnings() {
        List<String> w = new ArrayList<>(warnings);
        warnings.clear();
        return w;
    }

    private void grant(Semaphore s, double now) {
        while (s.leases.size() < s.maxLeases) {
            Waiters.Waiter<Object> w = s.waiters.pollOpen();
            if (w == null) {
                return;
            }
            s.leases.put(w.what, now);
            w.reply.send(true);
        }
    }
}
