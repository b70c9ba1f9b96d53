package org.cloudviper.worker.tasks;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * The tasks every cloudviper worker runs, under the names {@code worker/python/cloudviper/tasks.py}
 * defines for clients. Results follow numpy where there is a numpy counterpart.
 */
public final class BuiltinTasks {
    public static final String MODULE = "cloudviper.tasks";

    private BuiltinTasks() {
    }

    static void registerAll(TaskRegistry r) {
        r.register(MODULE + ".arange_f64", BuiltinTasks::arangeF64);
        r.register(MODULE + ".scale", BuiltinTasks::scale);
        r.register(MODULE + ".sum", BuiltinTasks::sum);
        r.register(MODULE + ".echo", BuiltinTasks::echo);
        r.register(MODULE + ".noop", BuiltinTasks::noop);
        r.register(MODULE + ".arrow_range", ArrowTasks::range);
        r.register(MODULE + ".arrow_scale", ArrowTasks::scale);
    }

    /** {@code arange_f64(n)}: {@code numpy.arange(n, dtype="f8")}, i.e. 0.0, 1.0, ..., n - 1. */
    static Object arangeF64(List<Object> args, Map<String, Object> kwargs) {
        Object n = single("arange_f64", "n", args, kwargs);
        if (!(n instanceof Long count)) {
            throw new IllegalArgumentException("arange_f64: n must be an int, got " + describe(n));
        }
        if (count < 0 || count > Integer.MAX_VALUE / 8) {
            throw new IllegalArgumentException("arange_f64: n must be in 0 .. " + Integer.MAX_VALUE / 8 + ", got " + count);
        }
        double[] v = new double[count.intValue()];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        return NdArray.ofDoubles(v);
    }

    /**
     * {@code scale(array, factor)}: {@code array * factor} for a number {@code factor}; float32 stays
     * float32, every other dtype gives float64 (numpy 1.24 casting of an array times a Python float).
     */
    static Object scale(List<Object> args, Map<String, Object> kwargs) {
        List<Object> all = new java.util.ArrayList<>(args);
        for (String name : List.of("array", "factor")) {
            if (kwargs.containsKey(name)) {
                if (all.size() != (name.equals("array") ? 0 : 1)) {
                    throw new IllegalArgumentException("scale() got multiple values for argument '" + name + "'");
                }
                all.add(kwargs.get(name));
            }
        }
        if (all.size() != 2 || all.size() != args.size() + kwargs.size()) {
            throw new IllegalArgumentException("scale(array, factor) takes 2 arguments, got " + args.size()
                    + " positional and keywords " + kwargs.keySet());
        }
        NdArray a = array("scale", all.get(0));
        if (!(all.get(1) instanceof Number f) || all.get(1) instanceof java.math.BigInteger) {
            throw new IllegalArgumentException("scale: factor must be a number, got " + describe(all.get(1)));
        }
        double factor = f.doubleValue();
        int n = a.size();
        if (a.dtype() == NdArray.DType.F4) {
            ByteBuffer out = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out.putFloat(i * 4, (float) (a.getDouble(i) * factor));
            }
            return NdArray.wrap(NdArray.DType.F4, a.shape(), out);
        }
        ByteBuffer out = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            out.putDouble(i * 8, a.getDouble(i) * factor);
        }
        return NdArray.wrap(NdArray.DType.F8, a.shape(), out);
    }

    /** {@code sum(array)}: the sum of all elements as a Python float (0.0 for an empty array). */
    static Object sum(List<Object> args, Map<String, Object> kwargs) {
        Object v = single("sum", "array", args, kwargs);
        if (v instanceof List<?> l) {
            double s = 0;
            for (Object o : l) {
                if (!(o instanceof Number x)) {
                    throw new IllegalArgumentException("sum: sequence items must be numbers, got " + describe(o));
                }
                s += x.doubleValue();
            }
            return s;
        }
        NdArray a = array("sum", v);
        double s = 0;
        for (int i = 0; i < a.size(); i++) {
            s += a.getDouble(i);
        }
        return s;
    }

    /** {@code echo(x)}: returns {@code x} unchanged. */
    static Object echo(List<Object> args, Map<String, Object> kwargs) {
        return single("echo", "x", args, kwargs);
    }

    /** {@code noop(*args)}: ignores its arguments and returns None (for scheduling benchmarks). */
    static Object noop(List<Object> args, Map<String, Object> kwargs) {
        return null;
    }

    static Object single(String task, String name, List<Object> args, Map<String, Object> kwargs) {
        if (args.size() == 1 && kwargs.isEmpty()) {
            return args.get(0);
        }
        if (args.isEmpty() && kwargs.size() == 1 && kwargs.containsKey(name)) {
            return kwargs.get(name);
        }
        throw new IllegalArgumentException(task + "(" + name + ") takes 1 argument, got " + args.size()
                + " positional and keywords " + kwargs.keySet());
    }

    /**
     * The arguments of {@code task(names...)} in order, from positional ones then keywords, as Python
     * binds them; missing, repeated or unknown ones are an error naming the signature.
     */
    static List<Object> bind(String task, List<String> names, List<Object> args, Map<String, Object> kwargs) {
        String signature = task + "(" + String.join(", ", names) + ")";
        if (args.size() > names.size()) {
            throw new IllegalArgumentException(signature + " takes " + names.size() + " arguments, got "
                    + args.size() + " positional");
        }
        List<Object> all = new java.util.ArrayList<>(args);
        for (String k : kwargs.keySet()) {
            int at = names.indexOf(k);
            if (at < 0) {
                throw new IllegalArgumentException(signature + " got an unexpected keyword argument '" + k + "'");
            }
            if (at < args.size()) {
                throw new IllegalArgumentException(signature + " got multiple values for argument '" + k + "'");
            }
        }
        for (int i = args.size(); i < names.size(); i++) {
            if (!kwargs.containsKey(names.get(i))) {
                throw new IllegalArgumentException(signature + " missing argument '" + names.get(i) + "'");
            }
            all.add(kwargs.get(names.get(i)));
        }
        return all;
    }

    private static NdArray array(String task, Object v) {
        if (v instanceof NdArray a) {
            return a;
        }
        throw new IllegalArgumentException(task + ": expected a numpy array, got " + describe(v));
    }

    static String describe(Object v) {
        if (v == null) {
            return "None";
        }
        String s = String.valueOf(v);
        return v.getClass().getSimpleName() + " " + (s.length() > 60 ? s.substring(0, 60) + "..." : s);
    }
}
