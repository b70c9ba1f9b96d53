package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.CoordinationRequest;
import org.cloudviper.protocol.message.Generation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Dask's Variable (distributed/variable.py VariableExtension): one value per name, a future's key
 * or msgpack data, read by any client. A future's key is wanted by the made-up client
 * {@code variable-<name>} while it is the value. When it is replaced or deleted, the key is let go
 * only once every client that read it confirmed that it holds the future itself (the token of
 * variable-future-release / -received-confirm), so the result never disappears between a get and
 * the client's own hold. Unlike Dask, the tokens of a client that leaves are dropped, so a reader
 * that died does not keep an old value alive forever.
 */
public final class Variables {
    private record Value(boolean future, Object value) {
    }

    private final Keys keys;
    private final Map<Object, Value> values = new HashMap<>();
    /** Gets waiting for the name to be set; each waiter's {@code what} is its client. */
    private final Map<Object, Waiters<String>> getters = new HashMap<>();
    /** (name, key) -> token -> the client that read it. */
    private final Map<List<Object>, Map<String, String>> tokens = new HashMap<>();
    /** (name, key) pairs let go of but still read by someone who has not confirmed. */
    private final Set<List<Object>> releasing = new HashSet<>();
    private long nextToken;

    public Variables(Keys keys) {
        this.keys = keys;
    }

    static String holder(Object name) {
        return "variable-" + name;
    }

    /** variable_set: the new value; a waiting variable_get of this name is answered. */
    public void set(CoordinationRequest.VariableSet r, Reply reply, double now) {
        String sid = "variable-set-" + now;
        Value v;
        if (r.key() != null) {
            keys.want(holder(r.name()), r.key(), sid);
            v = new Value(true, r.key());
        } else {
            MessageCodec.retain(r.data());
            v = new Value(false, r.data());
        }
        Value old = values.put(r.name(), v);
        if (old != null) {
            drop(r.name(), old, v, sid);
        }
        reply.send(null);
        Waiters<String> waiting = getters.remove(r.name());
        if (waiting != null) {
            Waiters.Waiter<String> w;
            while ((w = waiting.pollOpen()) != null) {
                w.reply.send(answer(r.name(), v, w.what));
            }
        }
    }

    /** variable_get: the value now, or once it is set (TimeoutError after the timeout). */
    public void get(CoordinationRequest.VariableGet r, String client, Reply reply, double now) {
        Value v = values.get(r.name());
        if (v != null) {
            reply.send(answer(r.name(), v, client));
        } else if (Waiters.noWait(r.timeout())) {
            reply.fail("TimeoutError", "");
        } else {
            getters.computeIfAbsent(r.name(), n -> new Waiters<>()).add(reply, Waiters.deadline(now, r.timeout()),
                    client);
        }
    }

    private Object answer(Object name, Value v, String client) {
        if (!v.future()) {
            return CoordinationRequest.StoredValue.data(v.value()).encode(Generation.DASK_2022);
        }
        Object key = v.value();
        String token = "variable-token-" + nextToken++;
        tokens.computeIfAbsent(List.of(name, key), k -> new LinkedHashMap<>()).put(token, client);
        String state = keys.state(key);
        Object[] error = "erred".equals(state) ? keys.error(key) : new Object[2];
        return new CoordinationRequest.StoredValue(true, key, token, state, error[0], error[1])
                .encode(Generation.DASK_2022);
    }

    /**
     * variable-future-release (2022) / variable-future-received-confirm (2024): {@code client} holds
     * the future now (2024's scheduler makes it want the key; a 2022 client said so itself).
     */
    public void futureReceived(Object name, Object key, String token, String client, double now) {
        String sid = "variable-future-received-" + now;
        if (client != null) {
            keys.want(client, key, sid);
        }
        List<Object> nk = List.of(name, key);
        Map<String, String> t = tokens.get(nk);
        if (t != null) {
            t.remove(token);
        }
        settle(nk, sid);
    }

    /** variable_delete: the value goes (its key once every reader confirmed). */
    public void delete(Object name, double now) {
        String sid = "variable-delete-" + now;
        Value old = values.remove(name);
        if (old != null) {
            drop(name, old, null, sid);
        }
        if (!holdsAnything(name)) {
            keys.forget(holder(name), sid);
        }
    }

    /** A client left: its unconfirmed reads no longer hold old values, and its waiting gets go. */
    public void clientRemoved(String client, double now) {
        String sid = "variable-client-removed-" + now;
        for (Map.Entry<List<Object>, Map<String, String>> e : new ArrayList<>(tokens.entrySet())) {
            if (e.getValue().values().removeIf(c -> Objects.equals(c, client))) {
                settle(e.getKey(), sid);
            }
        }
    }

    /** Gets whose timeout passed answer TimeoutError (Dask's variable_get). */
    public void expire(double now) {
        for (Waiters<String> w : getters.values()) {
            w.expire(now, x -> x.reply.fail("TimeoutError", ""));
        }
        getters.values().removeIf(Waiters::isEmpty);
    }

    /** The names set now (for tests and the status of the scheduler). */
    public int size() {
        return values.size();
    }

    private void drop(Object name, Value old, Value replacement, String sid) {
        if (old.future()) {
            if (replacement == null || !replacement.future() || !Objects.equals(replacement.value(), old.value())) {
                releasing.add(List.of(name, old.value()));
                settle(List.of(name, old.value()), sid);
            }
        } else {
            MessageCodec.release(old.value());
        }
    }

    /** Lets go of a replaced key once nobody's confirmation is outstanding. */
    private void settle(List<Object> nameKey, String sid) {
        Map<String, String> t = tokens.get(nameKey);
        if (t != null && !t.isEmpty()) {
            return;
        }
        tokens.remove(nameKey);
        if (!releasing.remove(nameKey)) {
            return;
        }
        Object name = nameKey.get(0);
        Value current = values.get(name);
        if (current == null || !current.future() || !Objects.equals(current.value(), nameKey.get(1))) {
            keys.release(holder(name), nameKey.get(1), sid);
        }
        if (current == null && !holdsAnything(name)) {
            keys.forget(holder(name), sid);
        }
    }

    private boolean holdsAnything(Object name) {
        for (List<Object> nk : releasing) {
            if (Objects.equals(nk.get(0), name)) {
                return true;
            }
        }
        return false;
    }
}
