package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.pickle.PickleException;
import org.cloudviper.protocol.pickle.PickleValue;
import org.cloudviper.protocol.pickle.PickleValues;
import org.cloudviper.worker.state.Event;
import org.cloudviper.worker.tasks.JavaTask;
import org.cloudviper.worker.tasks.TaskRegistry;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs one task on a compute thread: reads the function reference and arguments from the client's
 * pickles, puts dependency values where their keys stand in the arguments (distributed's
 * pack_data), calls the registered {@link JavaTask} and serializes its result. Every way this can
 * fail ends as an {@link Event.ExecuteFailure} whose text the client will see; nothing escapes.
 */
final class TaskRunner {
    private final TaskRegistry registry;
    private final long inlineBelowNanos;

    TaskRunner(TaskRegistry registry) {
        this(registry, INLINE_BELOW_NANOS);
    }

    TaskRunner(TaskRegistry registry, long inlineBelowNanos) {
        this.registry = registry;
        this.inlineBelowNanos = inlineBelowNanos;
    }

    /** A reason to refuse a task, shown to the client as is. */
    private static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    /**
     * What to call, with which arguments (keys of dependencies still in place); {@code runTime} keeps
     * the run times of a cached function reference (null for other forms).
     */
    private record Call(String function, List<Object> args, Map<String, Object> kwargs,
                        Object literal, boolean isLiteral, boolean keysAsStrings, RunTime runTime) {
    }

    /**
     * Whether {@code spec} calls a function whose recent runs all took less than
     * {@code cloudviper.worker.inlineTaskMicros} (default 20), so that the worker may run it on its
     * event loop instead of handing it to a compute thread: for tasks of a few microseconds the
     * hand-off (a thread wake-up each way) costs more than the task. A function seen for the first time, one that ever ran longer within
     * its recent runs, and every 2024 task specification (its function is known only after reading the
     * whole pickle) go to the compute pool.
     */
    boolean runsInline(RunSpec spec) {
        if (inlineBelowNanos <= 0 || spec == null || spec.function() == null) {
            return false;
        }
        RunTime t = runTimeOf(spec.function());
        return t != null && t.isShorterThan(inlineBelowNanos);
    }

    /** For test failure messages: what the runner knows of {@code spec}'s function. */
    String describeRunTime(RunSpec spec) {
        RunTime t = runTimeOf(spec.function());
        return t == null ? "none" : t.runs + " runs, slowest recent " + t.slowestRecentNanos + " ns";
    }

    /**
     * Runs {@code spec}. {@code dependencies} are the values of the task's dependencies; the caller
     * holds a reference to each and releases it after this returns.
     */
    Event run(Object key, RunSpec spec, Map<Object, StoredValue> dependencies, String stimulusId) {
        long startNanos = System.nanoTime();
        double start = now();
        long thread = Thread.currentThread().getId();
        String name = "task " + key;
        try {
            Call call = parse(spec);
            Map<Object, Object> deps = new LinkedHashMap<>();
            for (Map.Entry<Object, StoredValue> d : dependencies.entrySet()) {
                deps.put(d.getKey(), javaValue(d.getKey(), d.getValue()));
            }
            Object result;
            if (call.isLiteral()) {
                result = substitute(call.literal(), deps);
            } else {
                name = call.function();
                JavaTask task = registry.lookup(name);
                if (task == null) {
                    throw new Refused("cloudviper Java worker cannot run " + name + ": not a registered Java task");
                }
                @SuppressWarnings("unchecked")
                List<Object> args = (List<Object>) substitute(call.args(), deps, call.keysAsStrings());
                @SuppressWarnings("unchecked")
                Map<String, Object> kwargs = (Map<String, Object>) substitute(call.kwargs(), deps, call.keysAsStrings());
                try {
                    result = task.call(args, kwargs);
                } catch (Exception | StackOverflowError | OutOfMemoryError | LinkageError | AssertionError t) {
                    // The Java stack trace goes into the exception's text too: a Python client shows
                    // str(exception), and its traceback only covers the Python side.
                    String trace = stackTrace(t);
                    return failure(key, name + " failed on a cloudviper Java worker: " + t + "\nJava stack trace:\n"
                            + trace, trace, start, thread, stimulusId);
                }
            }
            Serde.TypeInfo info;
            StoredValue value;
            try {
                if (Serde.isPlain(result)) {
                    // Serialized when first needed (get_data, spill): most results only feed Java tasks.
                    Serde.checkPlain(result);
                    info = Serde.describe(result);
                    value = StoredValue.computedPlain(result, info);
                } else {
                    SubObject wire = Serde.encode(result);
                    info = Serde.describe(result);
                    value = StoredValue.computed(result, wire, info);
                }
            } catch (Serde.DataException e) {
                throw new Refused(name + " returned a value that cannot be sent to Python: " + e.getMessage());
            }
            if (call.runTime() != null) {
                call.runTime().note(System.nanoTime() - startNanos);
            }
            return new Event.ExecuteSuccess(key, value, info.nbytes(), info.type(), info.typename(), start,
                    stop(start), thread, stimulusId);
        } catch (Refused e) {
            return failure(key, e.getMessage(), "", start, thread, stimulusId);
        } catch (RuntimeException e) {
            return failure(key, "cloudviper Java worker could not run " + name + ": " + e, stackTrace(e), start,
                    thread, stimulusId);
        }
    }

    private static Event.ExecuteFailure failure(Object key, String text, String traceback, double start, long thread,
                                                String stimulusId) {
        return new Event.ExecuteFailure(key, new TaskError(text), null, "RuntimeError(" + pyRepr(text) + ")",
                traceback, start, stop(start), thread, stimulusId);
    }

    /**
     * The end of a run, strictly after its start: a 2022 scheduler's work stealing asserts that a task
     * with dependencies has a non-zero expected duration (stealing.py steal_time_ratio), and the
     * duration it expects is the average of the ones reported.
     */
    private static double stop(double start) {
        double t = now();
        return t > start ? t : Math.nextUp(start + 1e-6);
    }

    private static Object javaValue(Object key, StoredValue v) throws Refused {
        if (v.hasJava()) {
            return v.java();
        }
        try {
            return Serde.decode(v.wire());
        } catch (Serde.DataException e) {
            throw new Refused("cloudviper Java worker cannot use the value of " + key + ": " + e.getMessage());
        }
    }

    private Call parse(RunSpec spec) throws Refused {
        if (spec == null) {
            throw new Refused("cloudviper Java worker got no task specification");
        }
        if (spec.refusal() != null) {
            throw new Refused(spec.refusal());
        }
        try {
            if (spec.taskSpec() != null) {
                return call(TaskSpecs.read(spec.taskSpec(), spec.buffers()));
            }
            if (spec.task() != null) {
                return call(TaskSpecs.legacyTask(PlainData.parse(spec.task(), 0)));
            }
            if (spec.function() == null) {
                throw new Refused("cloudviper Java worker got a task without a function");
            }
            Function f = readFunction(spec.function());
            List<Object> args = spec.args() == null ? List.of() : asArgs(PlainData.read(spec.args()));
            Map<String, Object> kwargs = spec.kwargs() == null ? Map.of() : asKwargs(PlainData.read(spec.kwargs()));
            return new Call(f.name(), args, kwargs, null, false, true, f.runTime());
        } catch (PickleValues.NotPlainException e) {
            throw new Refused("cloudviper Java worker " + e.getMessage());
        } catch (PickleException e) {
            throw new Refused("cloudviper Java worker cannot read the task's arguments: " + e.getMessage());
        } catch (TaskSpecs.SpecException e) {
            throw new Refused("cloudviper Java worker " + e.getMessage());
        }
    }

    /**
     * A function's recent run time: the slowest of its recent runs, decaying by 1/16 per run, so one
     * slow run keeps it off the event loop for about 16 ln(slow / bound) runs (about 110 after a 20 ms
     * run against the 20 us bound). Updated from several threads without locking: a lost update only
     * delays the choice by a run.
     */
    private static final class RunTime {
        private volatile long slowestRecentNanos = Long.MAX_VALUE;
        private volatile int runs;

        void note(long nanos) {
            long s = slowestRecentNanos;
            slowestRecentNanos = runs == 0 ? nanos : Math.max(nanos, s - (s >> 4));
            runs = Math.min(runs + 1, 1 << 20);
        }

        boolean isShorterThan(long nanos) {
            return runs >= INLINE_AFTER_RUNS && slowestRecentNanos < nanos;
        }
    }

    /**
     * Tasks whose recent runs were all shorter than this run on the worker's event loop; 0 turns that
     * off. System property {@code cloudviper.worker.inlineTaskMicros}, default 20.
     */
    static final long INLINE_BELOW_NANOS = Long.getLong("cloudviper.worker.inlineTaskMicros", 20) * 1000;
    /** Runs of a function on the compute pool before it may run inline. */
    private static final int INLINE_AFTER_RUNS = 16;

    /** A function reference read from its pickle (module.qualname), and how long its runs take. */
    private record Function(String name, RunTime runTime) {
    }

    private RunTime runTimeOf(byte[] functionPickle) {
        if (functionPickle.length > FUNCTION_PICKLE_CACHED_BYTES) {
            return null;
        }
        Function f = functions.get(PickleBytes.of(functionPickle));
        return f == null ? null : f.runTime();
    }

    /** Pickled function references read so far, as distributed caches the functions it unpickles. */
    private final java.util.concurrent.ConcurrentHashMap<PickleBytes, Function> functions =
            new java.util.concurrent.ConcurrentHashMap<>();
    private static final int FUNCTIONS_CACHED = 256;
    private static final int FUNCTION_PICKLE_CACHED_BYTES = 4096;

    /** Pickle bytes compared by content. */
    private record PickleBytes(byte[] bytes, int hash) {
        static PickleBytes of(byte[] b) {
            return new PickleBytes(b, java.util.Arrays.hashCode(b));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof PickleBytes p && p.hash == hash && java.util.Arrays.equals(p.bytes, bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /** The function reference in {@code pickle}; a large pickle is read every time, with no run time kept. */
    private Function readFunction(byte[] pickle) throws Refused {
        if (pickle.length > FUNCTION_PICKLE_CACHED_BYTES) {
            return new Function(readFunctionUncached(pickle), null);
        }
        PickleBytes k = PickleBytes.of(pickle);
        Function f = functions.get(k);
        if (f == null) {
            f = new Function(readFunctionUncached(pickle), new RunTime());
            if (functions.size() >= FUNCTIONS_CACHED) {
                functions.clear();
            }
            functions.put(k, f);
        }
        return f;
    }

    private static String readFunctionUncached(byte[] pickle) throws Refused {
        try {
            return PlainData.qualifiedName(PlainData.readGlobal(pickle));
        } catch (PickleException e) {
            if (e.getMessage().contains("cloudpickle")) {
                throw new Refused("cloudviper Java worker cannot run a Python function pickled by value (defined in"
                        + " __main__, a lambda or a closure): not a registered Java task");
            }
            throw new Refused("cloudviper Java worker cannot run this function: " + e.getMessage());
        }
    }

    private static Call call(TaskSpecs.Spec s) {
        if (s instanceof TaskSpecs.Literal l) {
            return new Call(null, null, null, l.value(), true, true, null);
        }
        TaskSpecs.TaskCall c = (TaskSpecs.TaskCall) s;
        return new Call(c.function(), c.args(), c.kwargs(), null, false, c.keysInPlace(), null);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asArgs(Object v) throws Refused {
        if (v instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new Refused("task arguments are not a tuple: " + describe(v));
    }

    private static Map<String, Object> asKwargs(Object v) throws Refused {
        if (!(v instanceof Map<?, ?> m)) {
            throw new Refused("task keyword arguments are not a dict: " + describe(v));
        }
        Map<String, Object> r = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String k)) {
                throw new Refused("keyword argument name is not a str: " + describe(e.getKey()));
            }
            r.put(k, e.getValue());
        }
        return r;
    }

    /** A plain value, shortened, for messages. */
    private static String describe(Object v) {
        if (v == null) {
            return "None";
        }
        String s = v instanceof byte[] b ? "bytes[" + b.length + "]" : String.valueOf(v);
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    /**
     * distributed.utils_comm.pack_data: a str, or a tuple (a List here), that is a dependency's key
     * becomes its value (2022 and 2024.1 run specs); a 2024.12 Alias ({@link TaskSpecs.DepRef})
     * becomes the value of the key it names.
     */
    static Object substitute(Object v, Map<Object, Object> deps) {
        return substitute(v, deps, true);
    }

    /** As {@link #substitute(Object, Map)}; {@code keysAsStrings} false (2024.12) replaces only DepRefs. */
    static Object substitute(Object v, Map<Object, Object> deps, boolean keysAsStrings) {
        if (v instanceof TaskSpecs.DepRef r) {
            if (!deps.containsKey(r.key())) {
                throw new IllegalStateException("the task refers to " + r.key() + ", which is none of its"
                        + " dependencies " + deps.keySet());
            }
            return deps.get(r.key());
        }
        if (keysAsStrings && (v instanceof String || v instanceof List<?>) && deps.containsKey(v)) {
            return deps.get(v);
        }
        if (v instanceof List<?> l) {
            List<Object> r = new ArrayList<>(l.size());
            for (Object o : l) {
                r.add(substitute(o, deps, keysAsStrings));
            }
            return r;
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> r = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                r.put(e.getKey(), substitute(e.getValue(), deps, keysAsStrings));
            }
            return r;
        }
        return v;
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        String s = w.toString();
        return s.length() > 10_000 ? s.substring(0, 10_000) + "\n..." : s;
    }

    /** Python's repr() of a str, for exception_text. */
    static String pyRepr(String s) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\'' -> sb.append("\\'");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }

    /** Wall-clock seconds with microseconds, like Python's time(). */
    static double now() {
        java.time.Instant t = java.time.Instant.now();
        return t.getEpochSecond() + t.getNano() / 1e9;
    }
}
