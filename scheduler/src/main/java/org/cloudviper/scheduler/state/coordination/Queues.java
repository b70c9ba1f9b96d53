package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.CoordinationRequest;
import org.cloudviper.protocol.message.Generation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Dask's Queue (distributed/queues.py QueueExtension): named FIFO queues of futures' keys and
 * msgpack data, shared by clients. A queue exists from its first queue_create to the last client's
 * queue_release. A future's key is wanted by the made-up client {@code queue-<name>} from its put
 * until every getter of it confirmed (queue-future-release), as Dask counts it per (name, key).
 * Puts wait while the queue is full, gets while it is empty, each until its timeout
 * (TimeoutError). Where Dask would leave a request waiting forever on a queue that was released,
 * it gets a RuntimeError here; a put that times out gives its key back.
 */
public final class Queues {
    private record Item(boolean future, Object value) {
    }

    /** A waiting get: one item ({@code count} 0), or {@code count} items collected into {@code got}. */
    private static final class Get {
        final long count;
        final List<Item> got = new ArrayList<>();

        Get(long count) {
            this.count = count;
        }
    }

    private static final class Queue {
        final long maxsize;
        int clients = 1;
        final ArrayDeque<Item> items = new ArrayDeque<>();
        final Waiters<Item> putters;
        final Waiters<Get> getters;

        Queue(Object name, long maxsize, Queues owner) {
            this.maxsize = maxsize;
            // a put that went away never reaches the queue; a batch get that went away gives back what it took
            this.putters = new Waiters<>(w -> owner.releaseItem(name, w.what, "queue-put-abandoned"));
            this.getters = new Waiters<>(w -> {
                for (int i = w.what.got.size() - 1; i >= 0; i--) {
                    items.addFirst(w.what.got.get(i));
                }
            });
        }

        boolean full() {
            return maxsize > 0 && items.size() >= maxsize;
        }
    }

    private final Keys keys;
    private final Map<Object, Queue> queues = new HashMap<>();
    /** (name, key) -> how many of the queue's copies of the future are not yet confirmed by a getter. */
    private final Map<List<Object>, Integer> futureRefcount = new HashMap<>();

    public Queues(Keys keys) {
        this.keys = keys;
    }

    static String holder(Object name) {
        return "queue-" + name;
    }

    /** queue_create: a new queue, or one more client of it. */
    public void create(CoordinationRequest.QueueCreate r, Reply reply) {
        Queue q = queues.get(r.name());
        if (q == null) {
            queues.put(r.name(), new Queue(r.name(), r.maxsize(), this));
        } else {
            q.clients++;
        }
        reply.send(null);
    }

    /** queue_release: one client less; with the last one the queue and its hold on every key go. */
    public void release(Object name, double now) {
        Queue q = queues.get(name);
        if (q == null || --q.clients > 0) {
            return;
        }
        queues.remove(name);
        String sid = "queue-release-" + now;
        for (Item it : q.items) {
            if (it.future()) {
                keys.release(holder(name), it.value(), sid);
            } else {
                MessageCodec.release(it.value());
            }
        }
        futureRefcount.keySet().removeIf(nk -> nk.get(0).equals(name));
        String why = "Queue " + name + " was closed";
        q.putters.drain(w -> {
            releaseItem(name, w.what, sid);
            w.reply.fail("RuntimeError", why);
        });
        q.getters.drain(w -> w.reply.fail("RuntimeError", why));
        keys.forget(holder(name), sid);
    }

    /** queue_put: the item goes to a waiting getter or into the queue, or waits while it is full. */
    public void put(CoordinationRequest.QueuePut r, Reply reply, double now) {
        Queue q = queues.get(r.name());
        if (q == null) {
            reply.fail("KeyError", String.valueOf(r.name()));
            return;
        }
        Item item;
        if (r.key() != null) {
            futureRefcount.merge(List.of(r.name(), r.key()), 1, Integer::sum);
            keys.want(holder(r.name()), r.key(), "queue-put-" + now);
            item = new Item(true, r.key());
        } else {
            MessageCodec.retain(r.data());
            item = new Item(false, r.data());
        }
        if (q.full()) {
            if (Waiters.noWait(r.timeout())) {
                releaseItem(r.name(), item, "queue-put-" + now);
                reply.fail("TimeoutError", "");
            } else {
                q.putters.add(reply, Waiters.deadline(now, r.timeout()), item);
            }
            return;
        }
        offer(r.name(), q, item);
        reply.send(null);
    }

    /**
     * queue_get: one item (waiting for it), every item there is ({@code batch=True}), or
     * {@code batch=n} items, waiting for each (Dask refuses a timeout with that).
     */
    public void get(CoordinationRequest.QueueGet r, Reply reply, double now) {
        Queue q = queues.get(r.name());
        if (q == null) {
            reply.fail("KeyError", String.valueOf(r.name()));
            return;
        }
        if (r.isBatch()) {
            long n = r.batchCount();
            if (n < 0) {
                List<Item> out = new ArrayList<>(q.items);
                q.items.clear();
                admitPutters(r.name(), q);
                send(reply, out, false);
                return;
            }
            if (r.timeout() != null) {
                reply.fail("NotImplementedError",
                        "Dask queues don't support simultaneous use of integer batch sizes and timeouts");
                return;
            }
            Get g = new Get(n);
            while (g.got.size() < n && !q.items.isEmpty()) {
                g.got.add(q.items.poll());
            }
            admitPutters(r.name(), q);
            if (g.got.size() == n) {
                send(reply, g.got, false);
            } else {
                q.getters.add(reply, Double.POSITIVE_INFINITY, g);
            }
            return;
        }
        Item it = q.items.poll();
        if (it != null) {
            admitPutters(r.name(), q);
            send(reply, List.of(it), true);
        } else if (Waiters.noWait(r.timeout())) {
            reply.fail("TimeoutError", "");
        } else {
            q.getters.add(reply, Waiters.deadline(now, r.timeout()), new Get(0));
        }
    }

    /** queue_qsize: how many items wait in the queue. */
    public void qsize(Object name, Reply reply) {
        Queue q = queues.get(name);
        if (q == null) {
            reply.fail("KeyError", String.valueOf(name));
        } else {
            reply.send((long) q.items.size());
        }
    }

    /**
     * queue-future-release: {@code client} took the future and holds it now (2024's scheduler makes
     * it want the key; a 2022 client said so itself); the queue's copy no longer holds the key.
     */
    public void futureRelease(Object name, Object key, String client, double now) {
        String sid = "queue-future-release-" + now;
        if (client != null) {
            keys.want(client, key, sid);
        }
        List<Object> nk = List.of(name, key);
        Integer n = futureRefcount.get(nk);
        if (n == null) {
            return;
        }
        if (n <= 1) {
            futureRefcount.remove(nk);
            keys.release(holder(name), key, sid);
        } else {
            futureRefcount.put(nk, n - 1);
        }
    }

    /** Puts and gets whose timeout passed answer TimeoutError; a timed-out put gives its key back. */
    public void expire(double now) {
        for (Map.Entry<Object, Queue> e : queues.entrySet()) {
            Object name = e.getKey();
            Queue q = e.getValue();
            q.putters.expire(now, w -> {
                releaseItem(name, w.what, "queue-put-timeout-" + now);
                w.reply.fail("TimeoutError", "");
            });
            q.getters.expire(now, w -> {
                q.items.addAll(w.what.got); // only batch gets collect, and they have no timeout
                w.reply.fail("TimeoutError", "");
            });
        }
    }

    public int size() {
        return queues.size();
    }

    /** Hands {@code item} to the first waiting getter that is still there, else queues it. */
    private void offer(Object name, Queue q, Item item) {
        Waiters.Waiter<Get> w = q.getters.peekOpen();
        if (w == null) {
            q.items.add(item);
            return;
        }
        Get g = w.what;
        if (g.count == 0) {
            q.getters.pollOpen();
            send(w.reply, List.of(item), true);
            return;
        }
        g.got.add(item);
        if (g.got.size() >= g.count) {
            q.getters.pollOpen();
            send(w.reply, g.got, false);
        }
    }

    /** Room in the queue lets waiting puts in, first come first served. */
    private void admitPutters(Object name, Queue q) {
        while (!q.full()) {
            Waiters.Waiter<Item> w = q.putters.pollOpen();
            if (w == null) {
                return;
            }
            offer(name, q, w.what);
            w.reply.send(null);
        }
    }

    /** An item that will never be in the queue: its key is no longer held for it, its data freed. */
    void releaseItem(Object name, Item item, String sid) {
        if (!item.future()) {
            MessageCodec.release(item.value());
            return;
        }
        futureRefcount.computeIfPresent(List.of(name, item.value()), (k, n) -> n <= 1 ? null : n - 1);
        if (!futureRefcount.containsKey(List.of(name, item.value()))) {
            keys.release(holder(name), item.value(), sid);
        }
    }

    /**
     * Answers a get with the items taken out of the queue, one ({@code single}) or a list; their data
     * is the queue's no more once written.
     */
    private void send(Reply reply, List<Item> items, boolean single) {
        reply.send(single ? answer(items.get(0)) : answers(items));
        for (Item it : items) {
            if (!it.future()) {
                MessageCodec.release(it.value());
            }
        }
    }

    /** Dask's record with the key's state (and error) added for a future; data as it was put. */
    private Object answer(Item it) {
        if (!it.future()) {
            return CoordinationRequest.StoredValue.data(it.value()).encode(Generation.DASK_2022);
        }
        Object key = it.value();
        String state = keys.state(key);
        Object[] error = "erred".equals(state) ? keys.error(key) : new Object[2];
        return new CoordinationRequest.StoredValue(true, key, null, state, error[0], error[1])
                .encode(Generation.DASK_2022);
    }

    private List<Object> answers(List<Item> items) {
        List<Object> out = new ArrayList<>(items.size());
        for (Item it : items) {
            out.add(answer(it));
        }
        return out;
    }
}
