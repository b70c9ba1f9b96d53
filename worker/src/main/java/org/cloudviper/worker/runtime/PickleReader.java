package org.cloudviper.worker.runtime;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, strict reader for the pickles a 2022 client sends for a task: a function reference
 * (GLOBAL/STACK_GLOBAL), and argument tuples made of ints, floats, str, bytes, None, bools, tuples,
 * lists and dicts. It runs no code: anything else (REDUCE, NEWOBJ, BUILD, sets, persistent ids,
 * out-of-band buffers, protocol-0 text opcodes) is refused with a {@link PickleException} naming the
 * opcode and, where known, the class it would construct.
 *
 * <p>Values: {@code Long}/{@code BigInteger}, {@code Double}, {@code String}, {@code byte[]},
 * {@code Boolean}, null, {@code List} (tuples and lists), {@code Map} (dicts), {@link Global}.
 * Opcodes follow Lib/pickletools.py.
 */
final class PickleReader {
    /** A module-level name, {@code module.name}, as GLOBAL/STACK_GLOBAL push it. */
    record Global(String module, String name) {
        String qualifiedName() {
            return module + "." + name;
        }
    }

    static final class PickleException extends Exception {
        PickleException(String message) {
            super(message);
        }
    }

    /** Nesting deeper than this is not an argument tuple. */
    private static final int MAX_DEPTH = 1000;
    private static final Object MARK = new Object();

    private final ByteBuffer in;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Integer, Object> memo = new HashMap<>();
    private final boolean allowGlobals;

    private PickleReader(byte[] pickle, boolean allowGlobals) {
        this.in = ByteBuffer.wrap(pickle).order(ByteOrder.LITTLE_ENDIAN);
        this.allowGlobals = allowGlobals;
    }

    /** Reads one pickle; module-level names ({@link Global}) are allowed only if {@code allowGlobals}. */
    static Object read(byte[] pickle, boolean allowGlobals) throws PickleException {
        try {
            return new PickleReader(pickle, allowGlobals).run();
        } catch (java.nio.BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new PickleException("truncated pickle (" + pickle.length + " bytes)");
        }
    }

    /** The function a pickle refers to by name. */
    static Global readGlobal(byte[] pickle) throws PickleException {
        Object v = read(pickle, true);
        if (v instanceof Global g) {
            return g;
        }
        throw new PickleException("expected a reference to a module-level function, got " + describe(v));
    }

    private Object run() throws PickleException {
        while (true) {
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = in.get() & 0xff;
                    if (proto > 5) {
                        throw new PickleException("pickle protocol " + proto + " (expected: <= 5)");
                    }
                }
                case 0x95 -> in.getLong(); // FRAME: a framing hint only
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw new PickleException("malformed pickle: " + stack.size() + " values left at STOP");
                    }
                    return stack.get(0);
                }
                case '(' -> { // MARK
                    marks.add(stack.size());
                    stack.add(MARK);
                }
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 0x94 -> memo.put(memo.size(), peek()); // MEMOIZE
                case 'q' -> memo.put(in.get() & 0xff, peek()); // BINPUT
                case 'r' -> memo.put(in.getInt(), peek()); // LONG_BINPUT
                case 'h' -> push(memoGet(in.get() & 0xff)); // BINGET
                case 'j' -> push(memoGet(in.getInt())); // LONG_BINGET
                case 'c' -> global(line(), line()); // GLOBAL "module\nname\n"
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw new PickleException("malformed STACK_GLOBAL");
                    }
                    global(m, n);
                }
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) in.getInt()); // BININT
                case 'K' -> push((long) (in.get() & 0xff)); // BININT1
                case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
                case 0x8a -> push(longN(in.get() & 0xff)); // LONG1
                case 0x8b -> push(longN(length(in.getInt()))); // LONG4
                case 'G' -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong()))); // BINFLOAT, big-endian
                case 0x8c -> push(utf8(in.get() & 0xff)); // SHORT_BINUNICODE
                case 'X' -> push(utf8(length(in.getInt()))); // BINUNICODE
                case 0x8d -> push(utf8(length(in.getLong()))); // BINUNICODE8
                case 'C' -> push(bytes(in.get() & 0xff)); // SHORT_BINBYTES
                case 'B' -> push(bytes(length(in.getInt()))); // BINBYTES
                case 0x8e -> push(bytes(length(in.getLong()))); // BINBYTES8
                case ')' -> push(new ArrayList<>()); // EMPTY_TUPLE
                case 0x85 -> tupleOf(1);
                case 0x86 -> tupleOf(2);
                case 0x87 -> tupleOf(3);
                case 't' -> push(popMark()); // TUPLE
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case 'l' -> push(popMark()); // LIST
                case 'a' -> { // APPEND
                    Object v = pop();
                    list(peek()).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    list(peek()).addAll(items);
                }
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 'd' -> { // DICT
                    List<Object> items = popMark();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putAll(m, items);
                    push(m);
                }
                case 's' -> { // SETITEM
                    Object v = pop();
                    Object k = pop();
                    putAll(dict(peek()), List.of(k, v));
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putAll(dict(peek()), items);
                }
                case 'R', 0x81, 0x92, 'b', 'i', 'o' -> throw new PickleException("pickle constructs an object ("
                        + opName(op) + (lastGlobal() != null ? " of " + lastGlobal().qualifiedName() : "")
                        + "); only ints, floats, str, bytes, None, bools, tuples, lists and dicts are supported"
                        + hint(lastGlobal()));
                default -> throw new PickleException("unsupported pickle opcode " + opName(op)
                        + String.format(" (0x%02x) at byte %d", op, in.position() - 1));
            }
            if (stack.size() > MAX_DEPTH * 100 || marks.size() > MAX_DEPTH) {
                throw new PickleException("pickle nesting too deep");
            }
        }
    }

    private void global(String module, String name) throws PickleException {
        if (!allowGlobals) {
            // Remember it for a better message if a REDUCE follows (e.g. numpy scalars).
            lastGlobal = new Global(module, name);
            throw new PickleException("pickle refers to " + module + "." + name
                    + "; only ints, floats, str, bytes, None, bools, tuples, lists and dicts are supported"
                    + hint(lastGlobal));
        }
        Global g = new Global(module, name);
        lastGlobal = g;
        push(g);
    }

    private Global lastGlobal;

    /** Advice for data types that Java tasks do read, when they come the way they cannot. */
    private static String hint(Global g) {
        if (g == null) {
            return "";
        }
        if (g.module().equals("pandas") || g.module().startsWith("pandas.")) {
            return "; a Java task cannot read pandas objects: send it as a pyarrow Table (pyarrow.Table.from_pandas(df))"
                    + ", scattered or made by a task";
        }
        if (g.module().equals("pyarrow") || g.module().startsWith("pyarrow.")) {
            return "; a pyarrow value embedded in the task cannot be read by a Java task: scatter it"
                    + " (client.scatter) or make it in a task, and pass the future";
        }
        return "";
    }

    private Global lastGlobal() {
        return lastGlobal;
    }

    private static String opName(int op) {
        return switch (op) {
            case 'R' -> "REDUCE";
            case 0x81 -> "NEWOBJ";
            case 0x92 -> "NEWOBJ_EX";
            case 'b' -> "BUILD";
            case 'i' -> "INST";
            case 'o' -> "OBJ";
            case 0x8f -> "EMPTY_SET";
            case 0x90 -> "ADDITEMS";
            case 0x91 -> "FROZENSET";
            case 0x96 -> "BYTEARRAY8";
            case 0x97 -> "NEXT_BUFFER";
            case 0x98 -> "READONLY_BUFFER";
            case 'P', 'Q' -> "PERSID";
            case 'I', 'L', 'S', 'V', 'F', 'p', 'g', 'T', 'U' -> "protocol-0/1 opcode '" + (char) op + "'";
            default -> "?";
        };
    }

    private void tupleOf(int n) throws PickleException {
        if (stack.size() - lastMarkFloor() < n) {
            throw new PickleException("malformed pickle: TUPLE" + n + " on a short stack");
        }
        List<Object> t = new ArrayList<>(n);
        for (int i = stack.size() - n; i < stack.size(); i++) {
            t.add(stack.get(i));
        }
        for (int i = 0; i < n; i++) {
            stack.remove(stack.size() - 1);
        }
        push(t);
    }

    private int lastMarkFloor() {
        return marks.isEmpty() ? 0 : marks.get(marks.size() - 1) + 1;
    }

    private static void putAll(Map<Object, Object> m, List<Object> items) throws PickleException {
        if (items.size() % 2 != 0) {
            throw new PickleException("malformed pickle: odd number of dict items");
        }
        for (int i = 0; i < items.size(); i += 2) {
            Object k = items.get(i);
            if (k instanceof Map || k instanceof Global) {
                throw new PickleException("unhashable dict key " + describe(k));
            }
            m.put(k, items.get(i + 1));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object v) throws PickleException {
        if (v instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw new PickleException("malformed pickle: APPEND to " + describe(v));
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> dict(Object v) throws PickleException {
        if (v instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw new PickleException("malformed pickle: SETITEM on " + describe(v));
    }

    private void push(Object v) {
        stack.add(v);
    }

    private Object peek() throws PickleException {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw new PickleException("malformed pickle: empty stack");
        }
        return stack.get(stack.size() - 1);
    }

    private Object pop() throws PickleException {
        Object v = peek();
        stack.remove(stack.size() - 1);
        return v;
    }

    private List<Object> popMark() throws PickleException {
        if (marks.isEmpty()) {
            throw new PickleException("malformed pickle: no MARK");
        }
        int at = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(at + 1, stack.size()));
        while (stack.size() > at) {
            stack.remove(stack.size() - 1);
        }
        return items;
    }

    private Object memoGet(int i) throws PickleException {
        if (!memo.containsKey(i)) {
            throw new PickleException("malformed pickle: memo " + i + " undefined");
        }
        return memo.get(i);
    }

    private int length(long n) throws PickleException {
        if (n < 0 || n > in.remaining()) {
            throw new PickleException("pickle length " + n + " beyond its " + in.remaining() + " remaining bytes");
        }
        return (int) n;
    }

    private byte[] bytes(int n) throws PickleException {
        byte[] b = new byte[length(n)];
        in.get(b);
        return b;
    }

    private String utf8(int n) throws PickleException {
        byte[] b = bytes(n);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new PickleException("pickle str is not valid UTF-8");
        }
    }

    /** LONG1/LONG4: little-endian two's complement. */
    private Object longN(int n) throws PickleException {
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        BigInteger b = new BigInteger(be);
        return b.bitLength() < 64 ? (Object) b.longValue() : b;
    }

    private String line() throws PickleException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            byte c = in.get();
            if (c == '\n') {
                return sb.toString();
            }
            if (sb.length() > 1000) {
                throw new PickleException("GLOBAL name too long");
            }
            sb.append((char) (c & 0xff));
        }
    }

    static String describe(Object v) {
        if (v == null) {
            return "None";
        }
        String s = v instanceof byte[] b ? "bytes[" + b.length + "]" : String.valueOf(v);
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
