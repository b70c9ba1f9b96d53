package org.cloudviper.protocol.pickle;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;

/**
 * One value of a pickle, read symbolically: nothing is imported, called or constructed. Every
 * value knows its byte span {@code [start, end)} in the pickle: executing exactly those opcodes
 * pushes exactly this value (plus the memo entries defined inside), which is what lets the slicer
 * cut a self-contained pickle out of a bigger one.
 *
 * <p>A span includes the MEMOIZE/PUT opcodes right after the value, in-place updates (APPENDS,
 * SETITEMS, ADDITEMS, READONLY_BUFFER) and values computed right after it and popped again:
 * cloudpickle restores a function with {@code _function_setstate(f, state)} followed by POP, so
 * that call belongs to the function ({@link #sideEffects()}). BUILD makes a new {@link Build} whose
 * span starts at its object; the object's memo entries then stand for the built value. A memo
 * reference ({@link Ref}) is one value per memo index, however often it is read.
 *
 * <p>A PickleValue is a small view of a {@link ParsedPickle} (which stores the values in arrays):
 * views are created on demand, compare equal when they show the same value, and are read-only.
 */
public abstract sealed class PickleValue permits PickleValue.None, PickleValue.Bool, PickleValue.Int,
        PickleValue.Float, PickleValue.Str, PickleValue.Bytes, PickleValue.Tuple, PickleValue.PyList,
        PickleValue.PyDict, PickleValue.PySet, PickleValue.Global, PickleValue.Reduce, PickleValue.NewObj,
        PickleValue.Build, PickleValue.Buffer, PickleValue.Ref {
    final ParsedPickle p;
    final int id;

    PickleValue(ParsedPickle p, int id) {
        this.p = p;
        this.id = id;
    }

    /** This value's id in its {@link ParsedPickle} ({@link ParsedPickle#value(int)}). */
    public int id() {
        return id;
    }

    /** Offset of the first opcode of this value in the pickle. */
    public int start() {
        return p.start[id];
    }

    /** Offset just after the last opcode that belongs to this value. */
    public int end() {
        return p.end[id];
    }

    /** Longest chain of containment below this value (1 for a leaf). */
    public int depth() {
        return p.depth[id];
    }

    /** True if a memo entry (MEMOIZE/PUT right after it) is bound to this very value. */
    public boolean isMemoized() {
        return (p.kind[id] & ParsedPickle.MEMOIZED) != 0;
    }

    /** Values computed after this one and popped right away (cloudpickle's state setters). */
    public List<PickleValue> sideEffects() {
        int[] s = p.sideEffects.get(id);
        if (s == null) {
            return List.of();
        }
        PickleValue[] out = new PickleValue[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = p.value(s[i]);
        }
        return List.of(out);
    }

    /** This value, or for a memo reference the value it refers to; in both cases after BUILD. */
    public PickleValue resolve() {
        int r = p.resolve(id);
        return r == id ? this : p.value(r);
    }

    /** Short human-readable description for error messages. */
    public abstract String describe();

    @Override
    public boolean equals(Object o) {
        return o instanceof PickleValue v && v.p == p && v.id == id;
    }

    @Override
    public int hashCode() {
        return id;
    }

    @Override
    public String toString() {
        return describe() + "@" + start() + ".." + end();
    }

    static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    /** describe() of a child without recursing further than one level (chains can be deep). */
    String shallow(int child) {
        int r = p.resolve(child);
        return switch (p.kind(r)) {
            case ParsedPickle.K_REDUCE -> "REDUCE(...)";
            case ParsedPickle.K_NEWOBJ -> "NEWOBJ(...)";
            case ParsedPickle.K_BUILD -> "BUILD(...)";
            case ParsedPickle.K_TUPLE -> "tuple[" + p.b[r] + "]";
            default -> p.value(r).describe();
        };
    }

    // ---------------------------------------------------------------------------------------- scalars

    public static final class None extends PickleValue {
        None(ParsedPickle p, int id) {
            super(p, id);
        }

        @Override
        public String describe() {
            return "None";
        }
    }

    public static final class Bool extends PickleValue {
        Bool(ParsedPickle p, int id) {
            super(p, id);
        }

        public boolean value() {
            return p.a[id] != 0;
        }

        @Override
        public String describe() {
            return value() ? "True" : "False";
        }
    }

    /** A Python int: {@link #fitsLong()} tells whether {@link #longValue()} holds it. */
    public static final class Int extends PickleValue {
        Int(ParsedPickle p, int id) {
            super(p, id);
        }

        public boolean fitsLong() {
            return p.kind(id) == ParsedPickle.K_INT;
        }

        public long longValue() {
            if (!fitsLong()) {
                throw new ArithmeticException("int does not fit a long: " + big());
            }
            return p.longValue(id);
        }

        public BigInteger big() {
            return fitsLong() ? BigInteger.valueOf(p.longValue(id)) : p.bigs[p.c[id]];
        }

        @Override
        public String describe() {
            return fitsLong() ? Long.toString(p.longValue(id)) : abbreviate(big().toString());
        }
    }

    public static final class Float extends PickleValue {
        Float(ParsedPickle p, int id) {
            super(p, id);
        }

        public double value() {
            return Double.longBitsToDouble(p.longValue(id));
        }

        @Override
        public String describe() {
            return Double.toString(value());
        }
    }

    /** A Python str (UTF-8 in the pickle, lone surrogates allowed), decoded on each call. */
    public static final class Str extends PickleValue {
        Str(ParsedPickle p, int id) {
            super(p, id);
        }

        public String value() {
            return p.strValue(id);
        }

        /** Length of the UTF-8 encoding in bytes. */
        public int utf8Length() {
            return p.b[id];
        }

        /** Whether this str equals the ASCII string {@code s} (no decoding). */
        public boolean is(String s) {
            return p.strEquals(id, s);
        }

        @Override
        public String describe() {
            return "'" + abbreviate(value()) + "'";
        }
    }

    /** bytes, or bytearray (BYTEARRAY8). */
    public static final class Bytes extends PickleValue {
        Bytes(ParsedPickle p, int id) {
            super(p, id);
        }

        public byte[] value() {
            return Arrays.copyOfRange(p.data, p.a[id], p.a[id] + p.b[id]);
        }

        public int length() {
            return p.b[id];
        }

        public boolean isBytearray() {
            return p.kind(id) == ParsedPickle.K_BYTEARRAY;
        }

        @Override
        public String describe() {
            return (isBytearray() ? "bytearray" : "bytes") + "[" + length() + "]";
        }
    }

    // ---------------------------------------------------------------------------------------- containers

    public static final class Tuple extends PickleValue {
        Tuple(ParsedPickle p, int id) {
            super(p, id);
        }

        public int size() {
            return p.b[id];
        }

        public PickleValue get(int i) {
            java.util.Objects.checkIndex(i, size());
            return p.value(p.child(id, i));
        }

        public List<PickleValue> items() {
            return p.children(id);
        }

        @Override
        public String describe() {
            return "tuple[" + size() + "]";
        }
    }

    /** A list (EMPTY_LIST + APPEND(S), or LIST). */
    public static final class PyList extends PickleValue {
        PyList(ParsedPickle p, int id) {
            super(p, id);
        }

        public int size() {
            return p.b[id];
        }

        public PickleValue get(int i) {
            java.util.Objects.checkIndex(i, size());
            return p.value(p.child(id, i));
        }

        public List<PickleValue> items() {
            return p.children(id);
        }

        @Override
        public String describe() {
            return "list[" + size() + "]";
        }
    }

    /** A dict as its (key, value) pairs in pickle order; a repeated key is kept twice, as written. */
    public static final class PyDict extends PickleValue {
        PyDict(ParsedPickle p, int id) {
            super(p, id);
        }

        public int size() {
            return p.b[id] / 2;
        }

        public PickleValue key(int i) {
            java.util.Objects.checkIndex(i, size());
            return p.value(p.child(id, 2 * i));
        }

        public PickleValue value(int i) {
            java.util.Objects.checkIndex(i, size());
            return p.value(p.child(id, 2 * i + 1));
        }

        /** The value of the last pair whose key is the ASCII str {@code name}, or null. */
        public PickleValue get(String name) {
            int v = p.dictGet(id, name);
            return v == 0 ? null : p.value(v);
        }

        @Override
        public String describe() {
            return "dict[" + size() + "]";
        }
    }

    /** set (EMPTY_SET + ADDITEMS) or frozenset (FROZENSET). */
    public static final class PySet extends PickleValue {
        PySet(ParsedPickle p, int id) {
            super(p, id);
        }

        public boolean isFrozen() {
            return p.kind(id) == ParsedPickle.K_FROZENSET;
        }

        public int size() {
            return p.b[id];
        }

        public List<PickleValue> items() {
            return p.children(id);
        }

        @Override
        public String describe() {
            return (isFrozen() ? "frozenset[" : "set[") + size() + "]";
        }
    }

    // ---------------------------------------------------------------------------------------- objects

    /** {@code module.name} found by GLOBAL or STACK_GLOBAL (never imported here). */
    public static final class Global extends PickleValue {
        Global(ParsedPickle p, int id) {
            super(p, id);
        }

        public String module() {
            if (p.kind(id) == ParsedPickle.K_GLOBAL_TEXT) {
                return Utf8.decode(p.data, p.a[id], p.b[id]);
            }
            return p.strValue(p.resolve(p.a[id]));
        }

        public String name() {
            if (p.kind(id) == ParsedPickle.K_GLOBAL_TEXT) {
                int off = p.c[id];
                int end = off;
                while (p.data[end] != '\n') {
                    end++;
                }
                return Utf8.decode(p.data, off, end - off);
            }
            return p.strValue(p.resolve(p.b[id]));
        }

        /** Whether this is {@code module.name} (ASCII names, compared without decoding). */
        public boolean is(String module, String name) {
            if (p.kind(id) == ParsedPickle.K_GLOBAL_TEXT) {
                return module().equals(module) && name().equals(name);
            }
            return p.strEquals(p.resolve(p.a[id]), module) && p.strEquals(p.resolve(p.b[id]), name);
        }

        @Override
        public String describe() {
            return module() + "." + name();
        }
    }

    /** {@code callee(*args)} (REDUCE). */
    public static final class Reduce extends PickleValue {
        Reduce(ParsedPickle p, int id) {
            super(p, id);
        }

        public PickleValue callee() {
            return p.value(p.a[id]);
        }

        public PickleValue args() {
            return p.value(p.b[id]);
        }

        @Override
        public String describe() {
            return "REDUCE(" + shallow(p.a[id]) + ")";
        }
    }

    /** {@code cls.__new__(cls, *args, **kwargs)} (NEWOBJ; NEWOBJ_EX adds kwargs). */
    public static final class NewObj extends PickleValue {
        NewObj(ParsedPickle p, int id) {
            super(p, id);
        }

        public PickleValue cls() {
            return p.value(p.a[id]);
        }

        public PickleValue args() {
            return p.value(p.b[id]);
        }

        /** NEWOBJ_EX's keyword arguments, or null for NEWOBJ. */
        public PickleValue kwargs() {
            return p.c[id] == 0 ? null : p.value(p.c[id]);
        }

        @Override
        public String describe() {
            return "NEWOBJ(" + shallow(p.a[id]) + ")";
        }
    }

    /** {@code obj.__setstate__(state)} or the default state update (BUILD). */
    public static final class Build extends PickleValue {
        Build(ParsedPickle p, int id) {
            super(p, id);
        }

        public PickleValue obj() {
            return p.value(p.a[id]);
        }

        public PickleValue state() {
            return p.value(p.b[id]);
        }

        @Override
        public String describe() {
            return "BUILD(" + shallow(p.a[id]) + ")";
        }
    }

    /** An out-of-band buffer (NEXT_BUFFER), index in consumption order; READONLY_BUFFER sets readonly. */
    public static final class Buffer extends PickleValue {
        Buffer(ParsedPickle p, int id) {
            super(p, id);
        }

        public int index() {
            return p.a[id];
        }

        public boolean readonly() {
            return p.b[id] != 0;
        }

        @Override
        public String describe() {
            return "buffer#" + index() + (readonly() ? " (readonly)" : "");
        }
    }

    /**
     * A memo reference (GET/BINGET/LONG_BINGET): the same Python object as {@link #target()}. One Ref
     * stands for every GET of its memo index (a graph repeats a few names and classes hundreds of
     * thousands of times); its span is that of the first GET, and it is re-emitted as a GET.
     */
    public static final class Ref extends PickleValue {
        Ref(ParsedPickle p, int id) {
            super(p, id);
        }

        public int index() {
            return p.a[id];
        }

        /** The value the memo entry was bound to (before any BUILD completed it). */
        public PickleValue target() {
            return p.value(p.b[id]);
        }

        @Override
        public String describe() {
            return "memo#" + index() + "->" + shallow(p.b[id]);
        }
    }
}
