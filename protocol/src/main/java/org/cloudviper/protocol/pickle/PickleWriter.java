package org.cloudviper.protocol.pickle;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.cloudviper.protocol.pickle.Opcodes.*;

/**
 * Writes protocol-5 pickles opcode by opcode, as CPython's pickler would for the same values
 * (without memoizing anything). Plain Java values map to Python ones as in {@code MessageCodec}
 * trees: {@code null}, Boolean, Integer/Long/BigInteger, Double/Float, String, byte[], List (a
 * tuple), Set (a frozenset), Map (a dict). {@link #pyList} marks a List that must be a Python list.
 *
 * <p>Also the output buffer of the slicer, which copies spans of a parsed pickle into it.
 */
public final class PickleWriter {
    private byte[] buf;
    private int len;

    public PickleWriter() {
        this(256);
    }

    public PickleWriter(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    /** A pickle ({@code PROTO 5 ... STOP}) of one plain value. */
    public static byte[] dumps(Object value) {
        PickleWriter w = new PickleWriter();
        w.proto();
        w.value(value);
        w.stop();
        return w.toByteArray();
    }

    /** Wraps a List so that {@link #value} writes a Python list instead of a tuple. */
    public static PyListMarker pyList(List<?> items) {
        return new PyListMarker(items);
    }

    /** See {@link #pyList}. */
    public record PyListMarker(List<?> items) {
    }

    public int size() {
        return len;
    }

    public void reset() {
        len = 0;
    }

    /** Copies {@code n} written bytes from {@code from} into {@code dst} at {@code at}. */
    void copyTo(int from, byte[] dst, int at, int n) {
        System.arraycopy(buf, from, dst, at, n);
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    // ------------------------------------------------------------------------------------- opcodes

    public PickleWriter proto() {
        op(PROTO);
        return op(HIGHEST_PROTOCOL);
    }

    public PickleWriter stop() {
        return op(STOP);
    }

    public PickleWriter mark() {
        return op(MARK);
    }

    public PickleWriter pop() {
        return op(POP);
    }

    public PickleWriter none() {
        return op(NONE);
    }

    public PickleWriter bool(boolean b) {
        return op(b ? NEWTRUE : NEWFALSE);
    }

    public PickleWriter integer(long v) {
        if (v >= 0 && v <= 0xff) {
            op(BININT1);
            return op((int) v);
        }
        if (v >= 0 && v <= 0xffff) {
            op(BININT2);
            op((int) v & 0xff);
            return op((int) (v >>> 8));
        }
        if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            op(BININT);
            return le((int) v, 4);
        }
        return integer(BigInteger.valueOf(v));
    }

    /** LONG1/LONG4 with the minimal two's complement encoding, as {@code pickle.encode_long}. */
    public PickleWriter integer(BigInteger v) {
        if (v.bitLength() < 32) {
            return integer(v.longValue());
        }
        byte[] be = v.toByteArray();
        int n = be.length;
        if (n < 256) {
            op(LONG1);
            op(n);
        } else {
            op(LONG4);
            le(n, 4);
        }
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = be[n - 1 - i];
        }
        return this;
    }

    public PickleWriter floating(double d) {
        op(BINFLOAT);
        long bits = Double.doubleToRawLongBits(d);
        ensure(8);
        for (int i = 7; i >= 0; i--) {
            buf[len++] = (byte) (bits >>> (8 * i));
        }
        return this;
    }

    public PickleWriter str(String s) {
        int n = s.length();
        if (n < 256) {
            boolean ascii = true;
            for (int i = 0; i < n && ascii; i++) {
                ascii = s.charAt(i) < 0x80;
            }
            if (ascii) {
                ensure(n + 2);
                buf[len++] = (byte) SHORT_BINUNICODE;
                buf[len++] = (byte) n;
                for (int i = 0; i < n; i++) {
                    buf[len++] = (byte) s.charAt(i);
                }
                return this;
            }
        }
        byte[] b = Utf8.encode(s);
        if (b.length < 256) {
            op(SHORT_BINUNICODE);
            op(b.length);
        } else {
            op(BINUNICODE);
            le(b.length, 4);
        }
        return raw(b, 0, b.length);
    }

    public PickleWriter bytes(byte[] b) {
        if (b.length < 256) {
            op(SHORT_BINBYTES);
            op(b.length);
        } else {
            op(BINBYTES);
            le(b.length, 4);
        }
        return raw(b, 0, b.length);
    }

    public PickleWriter global(String module, String name) {
        str(module);
        str(name);
        return op(STACK_GLOBAL);
    }

    /** TUPLE1-3 for 1-3 items (EMPTY_TUPLE for none), else MARK ... TUPLE: {@code mark} says which. */
    public PickleWriter tupleStart(int n) {
        return n > 3 ? mark() : this;
    }

    public PickleWriter tupleEnd(int n) {
        return switch (n) {
            case 0 -> op(EMPTY_TUPLE);
            case 1 -> op(TUPLE1);
            case 2 -> op(TUPLE2);
            case 3 -> op(TUPLE3);
            default -> op(TUPLE);
        };
    }

    public PickleWriter emptyDict() {
        return op(EMPTY_DICT);
    }

    public PickleWriter emptyList() {
        return op(EMPTY_LIST);
    }

    /** Appends the items since the last MARK to the list below it. */
    public PickleWriter appends() {
        return op(APPENDS);
    }

    public PickleWriter emptySet() {
        return op(EMPTY_SET);
    }

    /** Adds the items since the last MARK to the set below it. */
    public PickleWriter addItems() {
        return op(ADDITEMS);
    }

    public PickleWriter setItems() {
        return op(SETITEMS);
    }

    public PickleWriter setItem() {
        return op(SETITEM);
    }

    public PickleWriter frozenset() {
        return op(FROZENSET);
    }

    public PickleWriter emptyTuple() {
        return op(EMPTY_TUPLE);
    }

    public PickleWriter reduce() {
        return op(REDUCE);
    }

    public PickleWriter newobj() {
        return op(NEWOBJ);
    }

    public PickleWriter build() {
        return op(BUILD);
    }

    public PickleWriter memoize() {
        return op(MEMOIZE);
    }

    public PickleWriter get(int index) {
        if (index < 256) {
            op(BINGET);
            return op(index);
        }
        op(LONG_BINGET);
        return le(index, 4);
    }

    public PickleWriter nextBuffer() {
        return op(NEXT_BUFFER);
    }

    /** One plain Java value (see the class comment); anything else is an IllegalArgumentException. */
    public PickleWriter value(Object v) {
        if (v == null) {
            return none();
        } else if (v instanceof Boolean b) {
            return bool(b);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return integer(((Number) v).longValue());
        } else if (v instanceof BigInteger b) {
            return integer(b);
        } else if (v instanceof Double || v instanceof java.lang.Float) {
            return floating(((Number) v).doubleValue());
        } else if (v instanceof String s) {
            return str(s);
        } else if (v instanceof byte[] b) {
            return bytes(b);
        } else if (v instanceof PyListMarker l) {
            op(EMPTY_LIST);
            if (!l.items().isEmpty()) {
                mark();
                for (Object o : l.items()) {
                    value(o);
                }
                op(APPENDS);
            }
            return this;
        } else if (v instanceof List<?> l) {
            tupleStart(l.size());
            for (Object o : l) {
                value(o);
            }
            return tupleEnd(l.size());
        } else if (v instanceof Set<?> s) {
            return frozenset(s);
        } else if (v instanceof Map<?, ?> m) {
            emptyDict();
            if (!m.isEmpty()) {
                mark();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    value(e.getKey());
                    value(e.getValue());
                }
                setItems();
            }
            return this;
        }
        throw new IllegalArgumentException("not a plain value: " + v.getClass().getName());
    }

    public PickleWriter frozenset(Collection<?> items) {
        mark();
        for (Object o : items) {
            value(o);
        }
        return frozenset();
    }

    // ------------------------------------------------------------------------------------- bytes

    PickleWriter op(int b) {
        if (len == buf.length) {
            ensure(1);
        }
        buf[len++] = (byte) b;
        return this;
    }

    PickleWriter le(int v, int n) {
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) (v >>> (8 * i));
        }
        return this;
    }

    /** Appends {@code b} verbatim (opcodes the caller has prepared). */
    PickleWriter raw(byte[] b) {
        return raw(b, 0, b.length);
    }

    PickleWriter raw(byte[] b, int off, int n) {
        ensure(n);
        System.arraycopy(b, off, buf, len, n);
        len += n;
        return this;
    }

    private void ensure(int n) {
        if (buf.length - len < n) {
            long want = Math.max((long) buf.length * 2, (long) len + n);
            if (want > Integer.MAX_VALUE - 8) {
                if ((long) len + n > Integer.MAX_VALUE - 8) {
                    throw new PickleException("pickle output too large: " + ((long) len + n) + " bytes");
                }
                want = Integer.MAX_VALUE - 8;
            }
            buf = Arrays.copyOf(buf, (int) want);
        }
    }
}
