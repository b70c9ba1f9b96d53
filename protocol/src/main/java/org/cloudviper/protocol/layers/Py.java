package org.cloudviper.protocol.layers;

import java.util.List;
import java.util.Map;

/**
 * A Python value as a Dask layer builds it for one task, before the scheduler serializes it: the
 * legacy task form ({@code (func, *args)} tuples, key references, lists, literals). The layer
 * expansions of this package produce these values; each Dask generation's reader turns them into
 * what its workers expect (2022.12.1: {@code dumps_task} forms with keys stringified; 2024.12.1: a
 * pickle that {@code convert_legacy_graph} turns into Python's node).
 *
 * <p>Values the layer carries through without looking at them ({@code meta_input}, user functions,
 * IO arguments) are {@link Opaque}: their handle is whatever the generation's reader uses (a
 * decoded message value, a span of the graph pickle).
 */
public sealed interface Py permits Py.Call, Py.KeyRef, Py.PyList, Py.PyTuple, Py.PyDict, Py.Lit, Py.Slice,
        Py.Func, Py.LazyFunc, Py.Opaque {

    /** A task: the tuple {@code (func, *args)}, {@code func} callable. */
    record Call(Py func, List<Py> args) implements Py {
        public Call {
            args = List.copyOf(args);
        }
    }

    /**
     * A reference to the graph key {@code key}: a tuple key as a List of its parts (str, Long,
     * Double, nested Lists for tuples), or a str key as a String.
     */
    record KeyRef(Object key) implements Py {
    }

    /** A Python list. */
    record PyList(List<Py> items) implements Py {
        public PyList {
            items = List.copyOf(items);
        }
    }

    /** A Python tuple that is no task (its first item is not callable, or it is empty). */
    record PyTuple(List<Py> items) implements Py {
        public PyTuple {
            items = List.copyOf(items);
        }
    }

    /** A Python dict, in insertion order. */
    record PyDict(List<Map.Entry<Py, Py>> entries) implements Py {
        public PyDict {
            entries = List.copyOf(entries);
        }
    }

    /**
     * A plain scalar: null (None), Boolean, Long, Double, String or byte[]; also a Set of plain
     * scalars (a Python set).
     */
    record Lit(Object value) implements Py {
    }

    /** {@code slice(start, stop, step)}; each part null (None) or a Long. */
    record Slice(Long start, Long stop, Long step) implements Py {
    }

    /** A module-level function or class, pickled by reference ({@code module.name}). */
    record Func(String module, String name) implements Py {
    }

    /**
     * {@code dask.layers.CallableLazyImport(path)}: what 2022.12.1's scheduler puts in the tasks it
     * unpacks, so that it does not import dask.dataframe itself; in 2024.12.1 layers call the
     * function by reference.
     */
    record LazyFunc(String path) implements Py {
        /** The module part of {@code path}. */
        public String module() {
            return path.substring(0, path.lastIndexOf('.'));
        }

        /** The name part of {@code path}. */
        public String name() {
            return path.substring(path.lastIndexOf('.') + 1);
        }
    }

    /** A value of the layer's state taken as it is; {@code handle} belongs to the generation's reader. */
    record Opaque(Object handle) implements Py {
    }

    // ------------------------------------------------------------------------------------ helpers

    static Py lit(Object v) {
        return new Lit(v);
    }

    static Py key(Object key) {
        return new KeyRef(key);
    }

    static Py call(Py func, Py... args) {
        return new Call(func, List.of(args));
    }

    static Py list(List<Py> items) {
        return new PyList(items);
    }

    static Py tuple(List<Py> items) {
        return new PyTuple(items);
    }

    /** {@code operator.getitem}, as CPython pickles it. */
    Func GETITEM = new Func("_operator", "getitem");
    /** {@code dask.utils.apply}. */
    Func APPLY = new Func("dask.utils", "apply");
}
