package org.cloudviper.scheduler.server;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * 2024's publish_dataset handshake (distributed/publish.py flush_receive, flush_wait): the client
 * puts a marker on its stream, then asks on its request connection to wait for it, so that what
 * it sent on the stream before (the futures it publishes) is handled before the publish. The two
 * connections are read independently and the client's stream is batched, so the request may come
 * first: its reply then waits for the marker. One publish_dataset call of several datasets waits
 * once per dataset on the same marker, so a marker answers every wait, as Dask's never-cleared
 * {@code asyncio.Event} per uid does; the most recent markers are remembered.
 */
final class FlushMarkers {
    /** Markers remembered; old ones go first. */
    private static final int MAX_REMEMBERED = 10_000;

    private final LinkedHashSet<String> received = new LinkedHashSet<>();
    private final Map<String, List<Runnable>> waiting = new HashMap<>();

    /** The marker {@code uid} arrived on a client's stream. */
    void received(String uid) {
        List<Runnable> w = waiting.remove(uid);
        if (w != null) {
            w.forEach(Runnable::run);
        }
        received.add(uid);
        if (received.size() > MAX_REMEMBERED) {
            Iterator<String> it = received.iterator();
            it.next();
            it.remove();
        }
    }

    /** Runs {@code then} once the marker {@code uid} has arrived (at once if it has). */
    void await(String uid, Runnable then) {
        if (received.contains(uid)) {
            then.run();
        } else {
            waiting.computeIfAbsent(uid, u -> new ArrayList<>()).add(then);
        }
    }
}
