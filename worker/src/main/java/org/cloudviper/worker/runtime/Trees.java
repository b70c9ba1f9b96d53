package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.SubObject;

import java.util.List;
import java.util.Map;

/** Ownership of decoded message trees: whoever decoded a tree releases its sub-objects once. */
final class Trees {
    private Trees() {
    }

    static void release(Object v) {
        if (v instanceof SubObject s) {
            if (s.refCnt() > 0) {
                s.release();
            }
        } else if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                release(e.getKey());
                release(e.getValue());
            }
        } else if (v instanceof List<?> l) {
            for (Object o : l) {
                release(o);
            }
        }
    }

    static String brief(Object v) {
        String s = String.valueOf(v);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
