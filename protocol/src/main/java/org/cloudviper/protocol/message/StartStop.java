package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One entry of a task's {@code startstops} (task-finished, task-erred): what the worker did with
 * the task and when, in seconds since the epoch; {@code source} names the peer of a transfer.
 */
public record StartStop(String action, double start, double stop, String source) {
    public StartStop(String action, double start, double stop) {
        this(action, start, stop, null);
    }

    Map<String, Object> encode() {
        Map<String, Object> m = new CompactMap<>(source == null ? 3 : 4);
        m.put("action", action);
        m.put("start", start);
        m.put("stop", stop);
        if (source != null) {
            m.put("source", source);
        }
        return m;
    }

    static List<Object> encode(List<StartStop> l) {
        List<Object> r = new ArrayList<>(l.size());
        for (StartStop s : l) {
            r.add(s.encode());
        }
        return r;
    }

    static List<StartStop> decode(Object v) {
        List<Object> l = Fields.listOrEmpty(v);
        List<StartStop> r = new ArrayList<>(l.size());
        for (Object o : l) {
            if (o instanceof Map<?, ?> m && m.get("start") instanceof Number a && m.get("stop") instanceof Number b) {
                r.add(new StartStop(Fields.str(m, "action"), a.doubleValue(), b.doubleValue(), Fields.str(m, "source")));
            }
        }
        return r;
    }

    /** The summed "compute" intervals, NaN when there are none (how long the task ran). */
    public static double computeSeconds(List<StartStop> l) {
        double sum = Double.NaN;
        for (StartStop s : l) {
            double d = s.stop - s.start;
            if ("compute".equals(s.action) && d >= 0) {
                sum = Double.isNaN(sum) ? d : sum + d;
            }
        }
        return sum;
    }
}
