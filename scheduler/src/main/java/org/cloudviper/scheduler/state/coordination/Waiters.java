package org.cloudviper.scheduler.state.coordination;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Requests that wait, first come first served, each until its deadline (seconds; infinite without
 * a timeout). {@code T} is what a waiter asked for (a lock id, a lease id, a queue item...).
 */
final class Waiters<T> {
    /** One waiting request. */
    static final class Waiter<T> {
        final Reply reply;
        final double deadline;
        final T what;

        Waiter(Reply reply, double deadline, T what) {
            this.reply = reply;
            this.deadline = deadline;
            this.what = what;
        }
    }

    private final ArrayDeque<Waiter<T>> queue = new ArrayDeque<>();
    /** What becomes of a waiter whose connection closed before it was answered. */
    private final Consumer<Waiter<T>> abandoned;

    Waiters() {
        this(w -> {
        });
    }

    Waiters(Consumer<Waiter<T>> abandoned) {
        this.abandoned = abandoned;
    }

    /** The deadline of a request that arrived at {@code now} with {@code timeout} seconds (null: none). */
    static double deadline(double now, Double timeout) {
        return timeout == null ? Double.POSITIVE_INFINITY : now + Math.max(0, timeout);
    }

    /** Whether a request with this timeout must not wait at all (Dask's wait_for with 0 times out at once). */
    static boolean noWait(Double timeout) {
        return timeout != null && timeout <= 0;
    }

    void add(Reply reply, double deadline, T what) {
        queue.add(new Waiter<>(reply, deadline, what));
    }

    /** The first waiter whose connection is still open, taken off; null if none. Closed ones are dropped. */
    Waiter<T> pollOpen() {
        Waiter<T> w;
        while ((w = queue.poll()) != null) {
            if (w.reply.isOpen()) {
                return w;
            }
            abandoned.accept(w);
        }
        return null;
    }

    /** The first open waiter without taking it off (closed ones before it are dropped); null if none. */
    Waiter<T> peekOpen() {
        Waiter<T> w;
        while ((w = queue.peek()) != null && !w.reply.isOpen()) {
            abandoned.accept(queue.poll());
        }
        return w;
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    int size() {
        return queue.size();
    }

    /**
     * Takes off every waiter whose deadline passed at {@code now} and hands it to {@code timedOut}
     * (and those whose connection closed to the abandoned handler).
     */
    void expire(double now, Consumer<Waiter<T>> timedOut) {
        List<Waiter<T>> due = null;
        for (Iterator<Waiter<T>> it = queue.iterator(); it.hasNext(); ) {
            Waiter<T> w = it.next();
            if (w.deadline <= now || !w.reply.isOpen()) {
                it.remove();
                if (due == null) {
                    due = new ArrayList<>();
                }
                due.add(w);
            }
        }
        if (due != null) {
            for (Waiter<T> w : due) {
                if (w.reply.isOpen()) {
                    timedOut.accept(w);
                } else {
                    abandoned.accept(w);
                }
            }
        }
    }

    /** Takes off every waiter, for {@code each}. */
    void drain(Consumer<Waiter<T>> each) {
        List<Waiter<T>> all = new ArrayList<>(queue);
        queue.clear();
        all.forEach(each);
    }
}
