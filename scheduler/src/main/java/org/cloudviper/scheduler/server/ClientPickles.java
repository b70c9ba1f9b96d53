package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.pickle.ParsedPickle;
import org.cloudviper.protocol.pickle.PickleException;
import org.cloudviper.protocol.pickle.PickleReader;
import org.cloudviper.protocol.pickle.PickleValue;

import java.util.List;

/**
 * What the scheduler can tell of a client's pickle without running it (read with the protocol's
 * symbolic reader): the class of a pickled object, and whether a pickled function is the one probe
 * Dask's own code sends to the scheduler's Python that cloudviper answers.
 */
final class ClientPickles {
    private ClientPickles() {
    }

    /** {@code module.qualname} of the pickled object's class, or null when it is not a plain object of a named class. */
    static String className(Object pickle) {
        ParsedPickle p = parse(pickle);
        if (p == null) {
            return null;
        }
        PickleValue v = p.root().resolve();
        if (v instanceof PickleValue.Build b) {
            // NEWOBJ (or REDUCE) then BUILD with the instance's __dict__. Not b.obj().resolve(): the
            // reader refuses BUILD of a memo reference, and resolving the object leads back to its BUILD
            v = b.obj();
        }
        PickleValue cls = null;
        if (v instanceof PickleValue.NewObj n) {
            cls = n.cls().resolve();
        } else if (v instanceof PickleValue.Reduce r) {
            PickleValue callee = r.callee().resolve();
            if (callee instanceof PickleValue.Global g && g.module().equals("copyreg")
                    && r.args().resolve() instanceof PickleValue.Tuple t && !t.items().isEmpty()) {
                cls = t.items().get(0).resolve(); // copyreg.__newobj__ / _reconstructor(cls, ...)
            } else {
                cls = callee;
            }
        }
        return cls instanceof PickleValue.Global g ? g.module() + "." + g.name() : null;
    }

    /**
     * Whether {@code function} is {@code lambda dask_scheduler: dask_scheduler.monitor.count}, which
     * distributed's performance_report sends to run_on_scheduler on entry (client.py,
     * performance_report.__aenter__) to note where the scheduler's system monitor stands. cloudpickle
     * writes a lambda by value: its code object carries the names it reads ({@code co_names}) and its
     * arguments ({@code co_varnames}) as tuples of strings, which identify it.
     */
    static boolean isMonitorCountProbe(Object function) {
        ParsedPickle p = parse(function);
        if (p == null) {
            return false;
        }
        boolean names = false;
        boolean arg = false;
        for (int id = 1; id <= p.valueCount(); id++) {
            if (p.value(id) instanceof PickleValue.Tuple t) {
                List<String> items = strings(t);
                names |= items.equals(List.of("monitor", "count"));
                arg |= items.equals(List.of("dask_scheduler"));
            }
        }
        return names && arg;
    }

    private static List<String> strings(PickleValue.Tuple t) {
        List<String> r = new java.util.ArrayList<>();
        for (PickleValue i : t.items()) {
            if (!(i.resolve() instanceof PickleValue.Str s)) {
                return List.of();
            }
            r.add(s.value());
        }
        return r;
    }

    private static ParsedPickle parse(Object pickle) {
        if (!(pickle instanceof byte[] bytes)) {
            return null; // dumps() of the client: always bytes in the message itself
        }
        try {
            return new PickleReader().read(bytes);
        } catch (PickleException e) {
            return null;
        }
    }
}
