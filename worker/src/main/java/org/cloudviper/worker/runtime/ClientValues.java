package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.pickle.PickleReader;
import org.cloudviper.protocol.pickle.PickleValue;

import java.util.List;

/**
 * What the Java client ({@code org.cloudviper.embedded.JavaClient}) needs from the worker's data
 * formats: the Java value of a gathered result and the text of a task's exception. Public only for
 * that facade.
 */
public final class ClientValues {
    private ClientValues() {
    }

    /** The Java value of a Serialized result, as a {@code JavaTask} would receive it. */
    public static Object decode(SubObject value) {
        try {
            return Serde.decode(value);
        } catch (Serde.DataException e) {
            throw new IllegalStateException("result cannot be read in Java: " + e.getMessage(), e);
        }
    }

    /**
     * The text of a task-erred {@code exception}: {@code RuntimeError: message} for the pickled
     * exception a worker sends (wrapped as dask-serialized bytes), the string itself for a
     * scheduler's plain-text error. Reads the pickle symbolically; never fails.
     */
    public static String exceptionText(Object exception) {
        if (exception == null) {
            return "unknown error (no exception sent)";
        }
        if (exception instanceof String s) {
            return s;
        }
        if (!(exception instanceof SubObject s)) {
            return String.valueOf(exception);
        }
        Object pickle;
        try {
            pickle = Serde.decode(s);
        } catch (Serde.DataException | RuntimeException e) {
            return "unreadable exception (" + e.getMessage() + ")";
        }
        if (!(pickle instanceof byte[] bytes)) {
            return String.valueOf(pickle);
        }
        try {
            PickleValue v = new PickleReader().read(bytes).root().resolve();
            if (v instanceof PickleValue.Reduce r && r.callee().resolve() instanceof PickleValue.Global g) {
                StringBuilder b = new StringBuilder(g.name());
                if (r.args().resolve() instanceof PickleValue.Tuple t) {
                    List<PickleValue> items = t.items();
                    for (int i = 0; i < items.size(); i++) {
                        PickleValue a = items.get(i).resolve();
                        b.append(i == 0 ? ": " : ", ").append(a instanceof PickleValue.Str str ? str.value()
                                : a.describe());
                    }
                }
                return b.toString();
            }
            return v.describe();
        } catch (RuntimeException e) { // PickleException included
            return "unreadable exception pickle (" + e.getMessage() + ")";
        }
    }
}
