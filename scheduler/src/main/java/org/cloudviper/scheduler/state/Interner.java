package org.cloudviper.scheduler.state;

import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.protocol.pickle.PickleValues.BytesKey;

import java.util.HashMap;

/**
 * One copy of each byte array that repeats from task to task: a map's function pickle, a result's
 * pickled type. Arrays above 1 MiB are kept as they are.
 */
final class Interner {
    private final HashMap<BytesKey, byte[]> interned = new HashMap<>();
    private byte[] last;

    byte[] intern(byte[] b) {
        if (b == null || b.length > 1 << 20) {
            return b;
        }
        if (b == last) {
            return b; // the decoder already merged a map's per-task copies into one array
        }
        byte[] r = interned.computeIfAbsent(new BytesKey(b), BytesKey::bytes);
        last = r;
        return r;
    }

    /**
     * The spec as {@link TaskState#spec} holds it, its function interned; retains its sub-objects for
     * the task that will hold it.
     */
    Object internSpec(Object spec) {
        if (!(spec instanceof RunSpec s)) {
            return TaskState.retain(spec); // a runSpec alone (or null)
        }
        Object f = s.function() instanceof byte[] b ? intern(b) : s.function();
        TaskState.retain(s.runSpec());
        TaskState.retain(s.args());
        TaskState.retain(s.kwargs());
        TaskState.retain(s.function());
        if (f == null && s.args() == null && s.kwargs() == null && s.runSpec() != null) {
            return s.runSpec(); // TaskState#spec: the runSpec alone
        }
        return f == s.function() ? s : new RunSpec(f, s.args(), s.kwargs(), s.runSpec());
    }
}
