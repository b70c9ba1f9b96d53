package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.message.CoordinationRequest;

import java.util.HashMap;
import java.util.Map;

/**
 * Dask's Event (distributed/event.py EventExtension): a named flag, false until set. Waiters are
 * answered true when it is set, false after their timeout. As in Dask, an event that is clear and
 * has no waiter is forgotten, so names do not pile up.
 */
public final class Events {
    private static final class Event {
        boolean set;
        final Waiters<Void> waiters = new Waiters<>();
    }

    private final Map<Object, Event> events = new HashMap<>();

    /** event_wait: true once set, false after the timeout. */
    public void waitFor(CoordinationRequest.EventWait r, Reply reply, double now) {
        Event e = events.get(r.name());
        if (e != null && e.set) {
            reply.send(true);
        } else if (Waiters.noWait(r.timeout())) {
            reply.send(false);
        } else {
            events.computeIfAbsent(r.name(), n -> new Event()).waiters.add(reply, Waiters.deadline(now, r.timeout()), null);
        }
    }

    /** event_set: every waiter is answered true. */
    public void set(Object name, Reply reply) {
        Event e = events.computeIfAbsent(name, n -> new Event());
        e.set = true;
        Waiters.Waiter<Void> w;
        while ((w = e.waiters.pollOpen()) != null) {
            w.reply.send(true);
        }
        reply.send(null);
    }

    /** event_clear: back to false. */
    public void clear(Object name, Reply reply) {
        Event e = events.get(name);
        if (e != null) {
            e.set = false;
            if (e.waiters.isEmpty()) {
                events.remove(name);
            }
        }
        reply.send(null);
    }

    public void isSet(Object name, Reply reply) {
        Event e = events.get(name);
        reply.send(e != null && e.set);
    }

    /** Waits whose timeout passed answer false. */
    public void expire(double now) {
        for (Event e : events.values()) {
            e.waiters.expire(now, w -> w.reply.send(false));
        }
        events.values().removeIf(e -> !e.set && e.waiters.isEmpty());
    }

    /** Events known (set, or waited for). */
    public int size() {
        return events.size();
    }
}
