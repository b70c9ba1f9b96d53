package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.pickle.PickleException;
import org.cloudviper.protocol.pickle.PickleReader;
import org.cloudviper.protocol.pickle.PickleValue;
import org.cloudviper.protocol.pickle.PickleValues;

/**
 * What a Java task may receive from a client's pickles (task arguments, pickled values): plain data
 * read with the protocol's symbolic {@link PickleReader} (nothing is imported or run) and converted
 * by {@link PickleValues} without sets, which a task could not send back. Anything else is refused
 * with a {@link PickleValues.NotPlainException} whose message names what was refused, with advice
 * for the pandas and pyarrow values Java tasks do read when they come another way.
 *
 * <p>Values: {@code Long}/{@code BigInteger}, {@code Double}, {@code String}, {@code byte[]},
 * {@code Boolean}, null, unmodifiable {@code List} (tuples and lists) and {@code Map} (dicts).
 */
final class PlainData {
    static final String SUPPORTED = "only ints, floats, str, bytes, None, bools, tuples, lists and dicts are supported";

    private static final PickleReader READER = new PickleReader();

    private PlainData() {
    }

    /** The Java value of a pickle of plain data without out-of-band buffers. */
    static Object read(byte[] pickle) {
        return of(READER.read(pickle).root());
    }

    /** The symbolic value of a pickle that comes with {@code buffers} out-of-band buffers. */
    static PickleValue parse(byte[] pickle, int buffers) {
        return READER.read(pickle, buffers).root();
    }

    /** The Java value of {@code v}. */
    static Object of(PickleValue v) {
        try {
            return PickleValues.toJavaWithoutSets(v);
        } catch (PickleValues.NotPlainException e) {
            throw new PickleValues.NotPlainException(refusal(e.value()), e.value());
        }
    }

    /** The module-level function or class a pickle refers to (a function pickle, a type-serialized). */
    static PickleValue.Global readGlobal(byte[] pickle) {
        PickleValue v = READER.read(pickle).root().resolve();
        if (v instanceof PickleValue.Global g) {
            return g;
        }
        PickleValue.Global maker = PickleValues.madeBy(v);
        throw new PickleException("expected a reference to a module-level name, got " + v.describe()
                + (maker == null ? "" : " made by " + maker.describe()));
    }

    static String qualifiedName(PickleValue.Global g) {
        return g.module() + "." + g.name();
    }

    /** Whether {@code g} (may be null) is a name from pandas. */
    static boolean isPandas(PickleValue.Global g) {
        return g != null && (g.module().equals("pandas") || g.module().startsWith("pandas."));
    }

    /**
     * "cannot ..." naming {@code v}: a global in the data is a function argument or a nested task
     * (distributed 2022 writes a nested call as a tuple starting with its function), anything else
     * by the function or class that makes it.
     */
    private static String refusal(PickleValue v) {
        if (v instanceof PickleValue.Global g) {
            return "cannot run nested tasks or function arguments (" + qualifiedName(g) + ")";
        }
        PickleValue.Global maker = PickleValues.madeBy(v);
        String what;
        if (v instanceof PickleValue.PySet s) {
            what = "a set (" + s.describe() + ")";
        } else if (v instanceof PickleValue.Buffer) {
            what = "an out-of-band buffer";
        } else if (maker != null) {
            what = "an object made by " + qualifiedName(maker);
        } else {
            what = v.describe();
        }
        return "cannot pass " + what + "; " + SUPPORTED + hint(maker);
    }

    /** Advice for data types that Java tasks do read, when they come the way they cannot. */
    private static String hint(PickleValue.Global g) {
        if (isPandas(g)) {
            return "; " + Serde.PANDAS_HINT + ", scattered or made by a task";
        }
        if (g != null && (g.module().equals("pyarrow") || g.module().startsWith("pyarrow."))) {
            return "; a pyarrow value embedded in the task cannot be read by a Java task: scatter it"
                    + " (client.scatter) or make it in a task, and pass the future";
        }
        return "";
    }
}
