package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.message.StartStop;
import org.cloudviper.protocol.message.WorkerToScheduler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the workers reported of each task they finished or failed, in arrival order: Dask's
 * TaskStreamPlugin (distributed/diagnostics/task_stream.py), which Client.get_task_stream and the
 * performance report read. Dask installs the plugin at the first get_task_stream; this records
 * from the start, in a ring of {@link #LENGTH} entries (Dask's
 * {@code distributed.scheduler.dashboard.tasks.task-stream-length}). Reports without startstops
 * are left out, as Dask leaves them out. Used on the event loop only.
 */
final class TaskStream {
    static final int LENGTH = 100_000;

    /** One report; {@code status} "OK" or "error". */
    record Entry(Object key, String worker, long nbytes, String typename, Long thread, List<StartStop> startstops,
                 String status, String exceptionText, String stimulusId) {
        /** The latest stop of its intervals (what Dask's bisection orders by). */
        double lastStop() {
            double m = Double.NEGATIVE_INFINITY;
            for (StartStop s : startstops) {
                m = Math.max(m, s.stop());
            }
            return m;
        }

        /** The message as Dask's plugin keeps it: the worker's fields plus {@code worker} and {@code key}. */
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("worker", worker);
            m.put("nbytes", nbytes);
            m.put("typename", typename);
            m.put("metadata", Map.of());
            m.put("thread", thread);
            List<Object> ss = new ArrayList<>(startstops.size());
            for (StartStop s : startstops) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("action", s.action());
                e.put("start", s.start());
                e.put("stop", s.stop());
                if (s.source() != null) {
                    e.put("source", s.source());
                }
                ss.add(e);
            }
            m.put("startstops", ss);
            m.put("status", status);
            if (exceptionText != null) {
                m.put("exception_text", exceptionText);
            }
            m.put("stimulus_id", stimulusId);
            m.put("key", key);
            return m;
        }
    }

    private final Entry[] ring = new Entry[LENGTH];
    private int head;
    private int size;

    void finished(String worker, WorkerToScheduler.TaskFinished t) {
        add(new Entry(t.key(), worker, t.nbytes(), t.typename(), t.thread(), t.startstops(), "OK", null,
                t.stimulusId()));
    }

    void erred(String worker, WorkerToScheduler.TaskErred e) {
        add(new Entry(e.key(), worker, 0, null, e.thread(), e.startstops(), "error", e.exceptionText(),
                e.stimulusId()));
    }

    private void add(Entry e) {
        if (e.startstops().isEmpty()) {
            return;
        }
        ring[(head + size) % LENGTH] = e;
        if (size < LENGTH) {
            size++;
        } else {
            head = (head + 1) % LENGTH;
        }
    }

    int size() {
        return size;
    }

    private Entry at(int i) {
        return ring[(head + i) % LENGTH];
    }

    /**
     * TaskStreamPlugin.collect: {@code start}/{@code stop} as times (seconds since the epoch, or a
     * Dask duration string meaning that long before {@code now}) cut by each entry's last stop;
     * {@code count} takes that many from the end, or from {@code start}.
     */
    List<Entry> collect(Object start, Object stop, Long count, double now) {
        Integer from = start == null ? null : bisect(time(start, now));
        Integer to = stop == null ? null : bisect(time(stop, now));
        if (count != null) {
            int c = (int) Math.min(count, Integer.MAX_VALUE);
            if (from == null && to == null) {
                to = size;
                from = to - c;
            } else if (from == null) {
                from = to - c;
            } else if (to == null) {
                to = from + c;
            }
        }
        int a = Math.max(0, Math.min(size, from == null ? 0 : from));
        int b = Math.max(0, Math.min(size, to == null ? size : to));
        List<Entry> r = new ArrayList<>(Math.max(0, b - a));
        for (int i = a; i < b; i++) {
            r.add(at(i));
        }
        return r;
    }

    /** The first entry whose last stop is not before {@code target}. */
    private int bisect(double target) {
        int lo = 0;
        int hi = size;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (at(mid).lastStop() < target) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** A time bound: a number, or a duration string (distributed's parse_timedelta) before {@code now}. */
    static double time(Object bound, double now) {
        if (bound instanceof Number n) {
            return n.doubleValue();
        }
        return now - Durations.seconds(String.valueOf(bound instanceof byte[] b ? new String(b) : bound));
    }
}
