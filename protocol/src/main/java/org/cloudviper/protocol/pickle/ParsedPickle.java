package org.cloudviper.protocol.pickle;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A pickle read by {@link PickleReader}: its values, its memo and the positions of the opcodes a
 * slice must rewrite (FRAME and PROTO are dropped, memo definitions and references renumbered,
 * out-of-band buffers renumbered). Immutable after reading, except for the traversal stamps the
 * slicer uses (so one parsed pickle is sliced by one thread at a time).
 *
 * <p>Values live in primitive arrays indexed by a value id (1, 2, ...), not as one Java object
 * each: a 100,000-task graph holds millions of values, and as objects the garbage collector would
 * spend more time copying them than the slicer spends reading them. {@link PickleValue}s are
 * small views created on demand.
 */
public final class ParsedPickle {
    // value kinds; bit 6 of the kind byte marks "a memo entry is bound to this value"
    static final byte K_NONE = 1, K_BOOL = 2, K_INT = 3, K_BIGINT = 4, K_FLOAT = 5, K_STR = 6, K_BYTES = 7,
            K_BYTEARRAY = 8, K_TUPLE = 9, K_LIST = 10, K_DICT = 11, K_SET = 12, K_FROZENSET = 13, K_GLOBAL = 14,
            K_GLOBAL_TEXT = 15, K_REDUCE = 16, K_NEWOBJ = 17, K_BUILD = 18, K_BUFFER = 19, K_REF = 20;
    static final int MEMOIZED = 0x40;
    static final int KIND_MASK = 0x3f;

    final byte[] data;
    final int root;
    final int count; // ids are 1..count
    final byte[] kind;
    final int[] start;
    final int[] end;
    final int[] depth;
    /**
     * Per kind: Int/Float a = low, b = high 32 bits; BigInt c = index into bigs; Str/Bytes a = payload
     * offset, b = length; Tuple/List/Dict/Set a = offset into kids, b = count (a dict's keys and values
     * interleaved); Global a = module id, b = name id; GlobalText a = module offset, b = module
     * length, c = name offset; Reduce a = callee, b = args; NewObj a = cls, b = args, c = kwargs or 0;
     * Build a = obj, b = state; Buffer a = index, b = 1 if readonly; Ref a = memo index, b = target.
     */
    final int[] a;
    final int[] b;
    final int[] c;
    /** The BUILD that completed this object, or 0. */
    final int[] completedBy;
    final int[] kids;
    final BigInteger[] bigs;
    /** Values absorbed into a value (cloudpickle's state setters), by value id; rare. */
    final Map<Integer, int[]> sideEffects;
    /** Traversal stamps of the slicer, per value id. */
    final int[] stamp;

    final int[] memo;
    final int[] memoPos;
    final int memoTop;
    final int memoCount;
    /**
     * Rewrite points, stride 2: opcode offset and argument (memo index for PUT/GET opcodes, buffer
     * index for NEXT_BUFFER). Sorted by offset. Kind and length follow from the opcode.
     */
    final int[] points;
    final int pointCount;
    final int buffersUsed;
    final PickleLimits limits;
    private int stamps;

    /** {@code values} after {@link ValueTable#finish}; its arrays are kept, not copied. */
    ParsedPickle(byte[] data, int root, ValueTable values, int[] memo, int[] memoPos, int memoTop, int memoCount,
                 int[] points, int pointCount, int buffersUsed, PickleLimits limits) {
        this.data = data;
        this.root = root;
        this.count = values.count;
        this.kind = values.kind;
        this.start = values.start;
        this.end = values.end;
        this.depth = values.depth;
        this.a = values.a;
        this.b = values.b;
        this.c = values.c;
        this.completedBy = values.completedBy;
        this.kids = values.kids;
        this.bigs = values.bigs.toArray(new BigInteger[0]);
        this.sideEffects = values.sideEffects;
        this.stamp = new int[count + 1];
        this.memo = memo;
        this.memoPos = memoPos;
        this.memoTop = memoTop;
        this.memoCount = memoCount;
        this.points = points;
        this.pointCount = pointCount;
        this.buffersUsed = buffersUsed;
        this.limits = limits;
    }

    /** The value STOP returned. */
    public PickleValue root() {
        return value(root);
    }

    public int size() {
        return data.length;
    }

    /** How many out-of-band buffers the pickle consumes (NEXT_BUFFER opcodes). */
    public int buffersUsed() {
        return buffersUsed;
    }

    /** Number of memo entries defined. */
    public int memoCount() {
        return memoCount;
    }

    /** Number of symbolic values read (a memo reference counts once, however often it is read). */
    public int valueCount() {
        return count;
    }

    /** The value memo entry {@code index} was bound to, or null if it was never defined. */
    public PickleValue memo(int index) {
        return index >= 0 && index < memoTop && memo[index] != 0 ? value(memo[index]) : null;
    }

    /** Offset of the opcode that defined memo entry {@code index}, or -1. */
    public int memoDefinedAt(int index) {
        return memo(index) == null ? -1 : memoPos[index];
    }

    /** A copy of the bytes of {@code v}'s span, verbatim (FRAME opcodes and memo indexes included). */
    public byte[] spanBytes(PickleValue v) {
        return Arrays.copyOfRange(data, v.start(), v.end());
    }

    /** The view of value {@code id} (1 .. {@link #valueCount()}). */
    public PickleValue value(int id) {
        if (id < 1 || id > count) {
            throw new IndexOutOfBoundsException("value id " + id);
        }
        return switch (kind(id)) {
            case K_NONE -> new PickleValue.None(this, id);
            case K_BOOL -> new PickleValue.Bool(this, id);
            case K_INT, K_BIGINT -> new PickleValue.Int(this, id);
            case K_FLOAT -> new PickleValue.Float(this, id);
            case K_STR -> new PickleValue.Str(this, id);
            case K_BYTES, K_BYTEARRAY -> new PickleValue.Bytes(this, id);
            case K_TUPLE -> new PickleValue.Tuple(this, id);
            case K_LIST -> new PickleValue.PyList(this, id);
            case K_DICT -> new PickleValue.PyDict(this, id);
            case K_SET, K_FROZENSET -> new PickleValue.PySet(this, id);
            case K_GLOBAL, K_GLOBAL_TEXT -> new PickleValue.Global(this, id);
            case K_REDUCE -> new PickleValue.Reduce(this, id);
            case K_NEWOBJ -> new PickleValue.NewObj(this, id);
            case K_BUILD -> new PickleValue.Build(this, id);
            case K_BUFFER -> new PickleValue.Buffer(this, id);
            case K_REF -> new PickleValue.Ref(this, id);
            default -> throw new IllegalStateException("kind " + kind(id));
        };
    }

    int kind(int id) {
        return kind[id] & KIND_MASK;
    }

    /** {@code id}, or for a memo reference the value it denotes; in both cases after BUILD. */
    int resolve(int id) {
        return resolve(kind, b, completedBy, id);
    }

    /** {@link #resolve} over a value table's arrays, for the parser that is filling them. */
    static int resolve(byte[] kind, int[] b, int[] completedBy, int id) {
        while (true) {
            if ((kind[id] & KIND_MASK) == K_REF) {
                id = b[id];
            } else if (completedBy[id] != 0) {
                id = completedBy[id];
            } else {
                return id;
            }
        }
    }

    /** The value a slice must emit to define memo entry {@code index}: its binding, after BUILD. */
    int unit(int index) {
        return resolve(memo[index]);
    }

    long longValue(int id) {
        return ((long) b[id] << 32) | (a[id] & 0xffffffffL);
    }

    String strValue(int id) {
        if (kind(id) == K_GLOBAL_TEXT) {
            throw new IllegalStateException();
        }
        return Utf8.decode(data, a[id], b[id]);
    }

    /** Whether str value {@code id} equals the ASCII string {@code s}, without decoding. */
    boolean strEquals(int id, String s) {
        int n = b[id];
        if (n != s.length()) {
            return false;
        }
        int off = a[id];
        for (int i = 0; i < n; i++) {
            if (data[off + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Children of a tuple, list, dict (keys and values interleaved) or set. */
    int childCount(int id) {
        return b[id];
    }

    int child(int id, int i) {
        return kids[a[id] + i];
    }

    List<PickleValue> children(int id) {
        int n = b[id];
        PickleValue[] out = new PickleValue[n];
        for (int i = 0; i < n; i++) {
            out[i] = value(kids[a[id] + i]);
        }
        return List.of(out);
    }

    /** The value of the last pair of dict {@code id} whose key is the ASCII str {@code name}, or 0. */
    int dictGet(int id, String name) {
        for (int i = b[id] - 2; i >= 0; i -= 2) {
            int k = resolve(kids[a[id] + i]);
            if (kind(k) == K_STR && strEquals(k, name)) {
                return kids[a[id] + i + 1];
            }
        }
        return 0;
    }

    /** A fresh traversal stamp (see {@link #stamp}); single-threaded use only. */
    int nextStamp() {
        return ++stamps;
    }

    static final int POINT_SKIP = 0, POINT_MEMO_DEF = 1, POINT_MEMO_GET = 2, POINT_BUFFER = 3;

    private static final byte[] POINT_KIND = new byte[256];

    static {
        for (int op : new int[]{Opcodes.MEMOIZE, Opcodes.BINPUT, Opcodes.LONG_BINPUT, Opcodes.PUT}) {
            POINT_KIND[op] = POINT_MEMO_DEF;
        }
        for (int op : new int[]{Opcodes.BINGET, Opcodes.LONG_BINGET, Opcodes.GET}) {
            POINT_KIND[op] = POINT_MEMO_GET;
        }
        POINT_KIND[Opcodes.NEXT_BUFFER] = POINT_BUFFER; // FRAME and PROTO stay POINT_SKIP
    }

    /** What the rewrite point at {@code offset} is. */
    int pointKind(int offset) {
        return POINT_KIND[data[offset] & 0xff];
    }

    private static final byte[] OP_LENGTH = new byte[256];

    static {
        OP_LENGTH[Opcodes.MEMOIZE] = 1;
        OP_LENGTH[Opcodes.NEXT_BUFFER] = 1;
        OP_LENGTH[Opcodes.BINPUT] = 2;
        OP_LENGTH[Opcodes.BINGET] = 2;
        OP_LENGTH[Opcodes.PROTO] = 2;
        OP_LENGTH[Opcodes.LONG_BINPUT] = 5;
        OP_LENGTH[Opcodes.LONG_BINGET] = 5;
        OP_LENGTH[Opcodes.FRAME] = 9;
    }

    /** Length in bytes of the opcode (with its argument) at {@code offset}. */
    int opLength(int offset) {
        int n = OP_LENGTH[data[offset] & 0xff];
        if (n != 0) {
            return n;
        }
        int i = offset + 1; // PUT, GET: decimal digits and a newline (checked by the reader)
        while (data[i] != '\n') {
            i++;
        }
        return i + 1 - offset;
    }

    /** Index of the first rewrite point at or after {@code offset}. */
    int firstPoint(int offset) {
        int lo = 0;
        int hi = pointCount;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (points[mid * 2] < offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
