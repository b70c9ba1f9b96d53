package org.cloudviper.protocol.pickle;

import java.math.BigInteger;
import java.util.Arrays;

import static org.cloudviper.protocol.pickle.Opcodes.*;

/**
 * Reads a pickle (protocols 2-5, as CPython's pickler and cloudpickle write them) into a tree of
 * {@link PickleValue}s (stored compactly in a {@link ParsedPickle}) without importing or calling
 * anything. Single pass, no recursion, linear in
 * the input; every length, index and count is checked against the input left and the
 * {@link PickleLimits} before anything is allocated for it.
 *
 * <p>Refused with a {@link PickleException}: malformed or truncated input; opcodes outside the set
 * listed in docs/dask-protocol.md §6.2 (PERSID, EXT*, INST/OBJ and the other protocol 0-1 text opcodes,
 * and DUP, which no CPython pickler writes); a memo index redefined or far beyond the values read
 * (CPython numbers its memo densely); in-place updates (APPEND, SETITEM, ADDITEMS, BUILD) of a memo
 * reference, a memo entry bound to a memo reference, and a discarded call that does not modify the
 * value below it (these only occur for recursive objects, which a per-task slice could not
 * reproduce); PROTO anywhere but at the start; trailing bytes after STOP.
 *
 * <p>Thread-safe: each {@link #read} call uses its own state.
 */
public final class PickleReader {
    private final PickleLimits limits;

    public PickleReader() {
        this(PickleLimits.DEFAULT);
    }

    public PickleReader(PickleLimits limits) {
        this.limits = limits;
    }

    public PickleLimits limits() {
        return limits;
    }

    /** A pickle without out-of-band buffers. */
    public ParsedPickle read(byte[] pickle) {
        return read(pickle, 0);
    }

    /**
     * @param pickle  the pickle; kept (not copied) by the result, so it must not change afterwards
     * @param buffers how many out-of-band buffers come with it (protocol 5 NEXT_BUFFER)
     */
    public ParsedPickle read(byte[] pickle, int buffers) {
        if (pickle.length > limits.maxPickleBytes()) {
            throw PickleException.limitExceeded("pickle size", pickle.length, limits.maxPickleBytes());
        }
        if (buffers < 0) {
            throw new IllegalArgumentException("buffers: " + buffers + " (expected: >= 0)");
        }
        try {
            return new Parser(pickle, Math.min(buffers, limits.maxBuffers()), buffers, limits).run();
        } catch (PickleException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new PickleException("pickle: internal error while reading (please report): " + e, e);
        }
    }

    /**
     * The opcode machine: the stack of value ids, the marks and the memo, checked opcode by opcode.
     * The values it makes go to a {@link ValueTable}.
     */
    private static final class Parser extends PickleInput {
        final int buffersAllowed;
        final int buffersGiven;
        final ValueTable values;

        int[] stack;
        /** Where each stack entry's bytes start (a shared Ref's own start is its first GET). */
        int[] stackStart;
        int sp;
        int[] markSp;
        int[] markOff;
        int mp;

        int[] memo;
        int[] memoPos;
        /** The one Ref per memo index (created at its first GET). */
        int[] refs;
        int memoCount;
        int memoTop; // highest defined index + 1

        int[] points; // stride 2: offset, argument (memo or buffer index); the opcode says the rest
        int pointCount;
        int buffersUsed;

        Parser(byte[] data, int buffersAllowed, int buffersGiven, PickleLimits limits) {
            super(data, limits);
            this.buffersAllowed = buffersAllowed;
            this.buffersGiven = buffersGiven;
            // Sized from the length as the value table is, for graph pickles' one memo opcode per
            // about 3 bytes and one memo entry per 5 to 44.
            values = new ValueTable(length, limits);
            int memos = Math.min(Math.min(length / 16, limits.maxMemo()), 1 << 22) + Math.min(16, 2 + length / 16);
            memo = new int[memos];
            memoPos = new int[memos];
            refs = new int[memos];
            points = new int[2 * (int) (Math.min(Math.min(length / 12, 2L * limits.maxValues()), 1 << 22)
                    + Math.min(16, 2 + length / 16))];
            stack = new int[Math.min(64, 4 + length / 8)];
            stackStart = new int[stack.length];
            markSp = new int[Math.min(16, 2 + length / 64)];
            markOff = new int[markSp.length];
        }

        ParsedPickle run() {
            while (true) {
                if (pos >= length) {
                    throw new PickleException("pickle truncated at offset " + pos + ": no STOP opcode");
                }
                opPos = pos;
                op = data[pos++] & 0xff;
                switch (op) {
                    case PROTO -> {
                        if (opPos != 0) {
                            throw unsupported("PROTO after the start of the pickle");
                        }
                        int proto = u8();
                        if (proto > HIGHEST_PROTOCOL) {
                            throw new PickleException("unsupported pickle protocol " + proto + " at offset " + opPos);
                        }
                        point(0);
                    }
                    case FRAME -> {
                        long n = u64();
                        if (n < 0 || n > length - pos) {
                            throw new PickleException("FRAME of " + Long.toUnsignedString(n) + " bytes at offset "
                                    + opPos + " exceeds the " + (length - pos) + " bytes left");
                        }
                        point(0);
                    }
                    case STOP -> {
                        return stop();
                    }
                    case MARK -> {
                        if (mp >= limits.maxDepth()) {
                            throw PickleException.limitExceeded("pickle MARK nesting", mp + 1L, limits.maxDepth());
                        }
                        if (mp == markSp.length) {
                            markSp = Arrays.copyOf(markSp, mp * 2);
                            markOff = Arrays.copyOf(markOff, mp * 2);
                        }
                        markSp[mp] = sp;
                        markOff[mp] = opPos;
                        mp++;
                    }
                    case POP -> pop();
                    case POP_MARK -> popMark();
                    case NONE -> push(values.add(ParsedPickle.K_NONE, opPos, pos));
                    case NEWTRUE -> push(scalar(ParsedPickle.K_BOOL, 1, 0));
                    case NEWFALSE -> push(scalar(ParsedPickle.K_BOOL, 0, 0));
                    case BININT -> {
                        long v = i32();
                        push(scalar(ParsedPickle.K_INT, (int) v, (int) (v >> 32)));
                    }
                    case BININT1 -> push(scalar(ParsedPickle.K_INT, u8(), 0));
                    case BININT2 -> {
                        int v = u8() | (u8() << 8);
                        push(scalar(ParsedPickle.K_INT, v, 0));
                    }
                    case LONG1 -> longN(u8());
                    case LONG4 -> {
                        int n = i32();
                        if (n < 0) {
                            throw new PickleException("LONG4 with negative byte count at offset " + opPos);
                        }
                        longN(n);
                    }
                    case BINFLOAT -> {
                        need(8);
                        long bits = 0;
                        for (int i = 0; i < 8; i++) {
                            bits = (bits << 8) | (data[pos++] & 0xff);
                        }
                        push(scalar(ParsedPickle.K_FLOAT, (int) bits, (int) (bits >>> 32)));
                    }
                    case SHORT_BINUNICODE -> str(u8());
                    case BINUNICODE -> str(u32());
                    case BINUNICODE8 -> str(u64());
                    case SHORT_BINBYTES -> bytes(u8(), ParsedPickle.K_BYTES);
                    case BINBYTES -> bytes(u32(), ParsedPickle.K_BYTES);
                    case BINBYTES8 -> bytes(u64(), ParsedPickle.K_BYTES);
                    case BYTEARRAY8 -> bytes(u64(), ParsedPickle.K_BYTEARRAY);
                    case NEXT_BUFFER -> {
                        if (buffersUsed >= buffersGiven) {
                            throw new PickleException("NEXT_BUFFER at offset " + opPos + ": the pickle uses more than the "
                                    + buffersGiven + " out-of-band buffers given");
                        }
                        if (buffersUsed >= buffersAllowed) {
                            throw PickleException.limitExceeded("out-of-band buffers", buffersUsed + 1L, limits.maxBuffers());
                        }
                        point(buffersUsed);
                        push(scalar(ParsedPickle.K_BUFFER, buffersUsed++, 0));
                    }
                    case READONLY_BUFFER -> {
                        int top = top(1);
                        if (values.kindOf(top) != ParsedPickle.K_BUFFER) {
                            throw unsupported("READONLY_BUFFER applied to " + values.describe(top)
                                    + " instead of an out-of-band buffer");
                        }
                        values.readonly(top, pos);
                    }
                    case EMPTY_TUPLE -> push(tuple(opPos, sp));
                    case TUPLE1, TUPLE2, TUPLE3 -> {
                        int n = op - TUPLE1 + 1;
                        frameHas(n);
                        push(tuple(stackStart[sp - n], sp - n));
                    }
                    case TUPLE -> {
                        int base = popMarkBase();
                        push(tuple(markOff[mp], base));
                    }
                    case EMPTY_LIST -> push(values.add(ParsedPickle.K_LIST, opPos, pos));
                    case LIST -> {
                        int base = popMarkBase();
                        int l = values.add(ParsedPickle.K_LIST, markOff[mp], pos);
                        append(l, base);
                        push(l);
                    }
                    case APPEND -> {
                        frameHas(2);
                        append(target(stack[sp - 2], ParsedPickle.K_LIST, "APPEND"), sp - 1);
                    }
                    case APPENDS -> {
                        int base = popMarkBase();
                        append(target(belowMark(base), ParsedPickle.K_LIST, "APPENDS"), base);
                    }
                    case EMPTY_DICT -> push(values.add(ParsedPickle.K_DICT, opPos, pos));
                    case DICT -> {
                        int base = popMarkBase();
                        int d = values.add(ParsedPickle.K_DICT, markOff[mp], pos);
                        pairs(d, base, "DICT");
                        push(d);
                    }
                    case SETITEM -> {
                        frameHas(3);
                        pairs(target(stack[sp - 3], ParsedPickle.K_DICT, "SETITEM"), sp - 2, "SETITEM");
                    }
                    case SETITEMS -> {
                        int base = popMarkBase();
                        pairs(target(belowMark(base), ParsedPickle.K_DICT, "SETITEMS"), base, "SETITEMS");
                    }
                    case EMPTY_SET -> push(values.add(ParsedPickle.K_SET, opPos, pos));
                    case ADDITEMS -> {
                        int base = popMarkBase();
                        append(target(belowMark(base), ParsedPickle.K_SET, "ADDITEMS"), base);
                    }
                    case FROZENSET -> {
                        int base = popMarkBase();
                        int s = values.add(ParsedPickle.K_FROZENSET, markOff[mp], pos);
                        append(s, base);
                        push(s);
                    }
                    case GLOBAL -> {
                        int modOff = pos;
                        int modLen = line();
                        int nameOff = pos;
                        line();
                        push(values.globalText(opPos, pos, modOff, modLen, nameOff));
                    }
                    case STACK_GLOBAL -> {
                        frameHas(2);
                        int start = stackStart[sp - 2];
                        int name = values.resolve(stack[sp - 1]);
                        int module = values.resolve(stack[sp - 2]);
                        if (values.kindOf(module) != ParsedPickle.K_STR || values.kindOf(name) != ParsedPickle.K_STR) {
                            throw new PickleException("STACK_GLOBAL at offset " + opPos + " requires str module and name, got "
                                    + values.describe(module) + " and " + values.describe(name));
                        }
                        push(node(ParsedPickle.K_GLOBAL, start, 2));
                    }
                    case REDUCE -> {
                        frameHas(2);
                        push(node(ParsedPickle.K_REDUCE, stackStart[sp - 2], 2));
                    }
                    case NEWOBJ -> {
                        frameHas(2);
                        push(node(ParsedPickle.K_NEWOBJ, stackStart[sp - 2], 2));
                    }
                    case NEWOBJ_EX -> {
                        frameHas(3);
                        push(node(ParsedPickle.K_NEWOBJ, stackStart[sp - 3], 3));
                    }
                    case BUILD -> {
                        frameHas(2);
                        int obj = stack[sp - 2];
                        if (values.kindOf(obj) == ParsedPickle.K_REF) {
                            throw unsupported("BUILD of a memo reference (a recursive object)");
                        }
                        int base = sp - 2;
                        int b = values.build(stackStart[base], pos, stack, base);
                        sp = base;
                        push(b);
                    }
                    case MEMOIZE -> define(memoCount);
                    case BINPUT -> define(u8());
                    case LONG_BINPUT -> define(u32Int("LONG_BINPUT"));
                    case PUT -> define(decimalLine("PUT"));
                    case BINGET -> get(u8());
                    case LONG_BINGET -> get(u32Int("LONG_BINGET"));
                    case GET -> get(decimalLine("GET"));
                    default -> throw new PickleException((Opcodes.known(op) ? "unsupported" : "unknown")
                            + " pickle opcode " + Opcodes.describe(op) + " at offset " + opPos);
                }
            }
        }

        private ParsedPickle stop() {
            if (mp != 0) {
                throw new PickleException("STOP at offset " + opPos + " with " + mp + " open MARKs");
            }
            if (sp != 1) {
                throw new PickleException("STOP at offset " + opPos + " with " + sp + " values on the stack (expected: 1)");
            }
            if (pos != length) {
                throw new PickleException((length - pos) + " trailing bytes after STOP at offset " + opPos);
            }
            values.finish();
            trim();
            return new ParsedPickle(data, stack[0], values, memo, memoPos, memoTop, memoCount, points, pointCount,
                    buffersUsed, limits);
        }

        /**
         * Cuts the memo and the rewrite points, sized from the pickle's length, down to what they
         * hold, one at a time: the parse stays in memory while the graph is sliced.
         */
        private void trim() {
            if (memo.length > memoTop + memoTop / 4 + 16) {
                memo = Arrays.copyOf(memo, memoTop);
                memoPos = Arrays.copyOf(memoPos, memoTop);
            }
            refs = null;
            if (points.length > 2 * (pointCount + pointCount / 4) + 32) {
                points = Arrays.copyOf(points, 2 * pointCount);
            }
        }

        /** A value read by the current opcode alone: a, b as its kind defines them. */
        private int scalar(byte k, int a, int b) {
            return values.scalar(k, opPos, pos, a, b);
        }

        /** A tuple of stack[base..sp), which it pops. */
        private int tuple(int start, int base) {
            int t = values.tuple(start, pos, stack, base, sp);
            sp = base;
            return t;
        }

        /** STACK_GLOBAL/REDUCE/NEWOBJ of the top n stack entries (a, b[, c]), which it pops. */
        private int node(byte k, int start, int n) {
            int base = sp - n;
            int id = values.node(k, start, pos, stack, base, n);
            sp = base;
            return id;
        }

        /** Appends stack[base..sp) to list, dict, set or frozenset {@code s} as one chunk, pops them. */
        private void append(int s, int base) {
            values.append(s, pos, stack, base, sp);
            sp = base;
        }

        private void pairs(int d, int base, String what) {
            if (((sp - base) & 1) != 0) {
                throw new PickleException(what + " at offset " + opPos + " with an odd number of items");
            }
            append(d, base);
        }

        // ------------------------------------------------------------------------------ stack

        private void push(int id) {
            pushAt(id, values.start[id]);
        }

        private void pushAt(int id, int start) {
            if (sp >= limits.maxValues()) {
                throw PickleException.limitExceeded("pickle stack", sp + 1L, limits.maxValues());
            }
            if (sp == stack.length) {
                stack = Arrays.copyOf(stack, sp * 2);
                stackStart = Arrays.copyOf(stackStart, sp * 2);
            }
            stackStart[sp] = start;
            stack[sp++] = id;
        }

        private int frameBase() {
            return mp == 0 ? 0 : markSp[mp - 1];
        }

        private void frameHas(int n) {
            int have = sp - frameBase();
            if (have < n) {
                throw new PickleException("pickle stack underflow: " + Opcodes.describe(op) + " at offset " + opPos
                        + " needs " + n + " values, the current frame holds " + have);
            }
        }

        private int top(int n) {
            frameHas(n);
            return stack[sp - 1];
        }

        /** Pops the innermost MARK; returns the stack index of the first value above it. */
        private int popMarkBase() {
            if (mp == 0) {
                throw new PickleException(Opcodes.describe(op) + " at offset " + opPos + " without a MARK");
            }
            return markSp[--mp];
        }

        private int belowMark(int base) {
            int outer = mp == 0 ? 0 : markSp[mp - 1];
            if (base - 1 < outer) {
                throw new PickleException("pickle stack underflow: " + Opcodes.describe(op) + " at offset " + opPos
                        + " has no container below its MARK");
            }
            return stack[base - 1];
        }

        private int target(int id, byte k, String what) {
            int actual = values.kindOf(id);
            if (actual == ParsedPickle.K_REF) {
                throw unsupported(what + " on a memo reference (a recursive object)");
            }
            if (actual != k) {
                throw new PickleException(what + " at offset " + opPos + " applied to a " + values.describe(id));
            }
            return id;
        }

        /**
         * POP: CPython pops the MARK when the current frame is empty. A popped value that sits on
         * another value of the same frame is absorbed into it (its bytes and side effects belong to
         * it from now on): this is how cloudpickle's {@code _function_setstate(f, state)} + POP ends
         * up inside f's span.
         */
        private void pop() {
            if (mp > 0 && markSp[mp - 1] == sp) {
                mp--;
                return;
            }
            frameHas(1);
            int v = stack[--sp];
            int below = sp > frameBase() ? stack[sp - 1] : 0;
            checkDiscarded(v, below);
            if (below != 0 && values.kindOf(below) != ParsedPickle.K_REF) {
                // (a shared Ref has no span of its own to extend; its container's span covers this)
                values.absorb(below, v, pos);
            }
        }

        private void popMark() {
            int base = popMarkBase();
            for (int i = base; i < sp; i++) {
                checkDiscarded(stack[i], 0);
            }
            sp = base;
        }

        /**
         * A call whose result is thrown away without being memoized exists for its side effect; the
         * only one a slice can reproduce is a state setter applied to the value right below it.
         */
        private void checkDiscarded(int v, int below) {
            if (values.isMemoized(v)) {
                return; // used again later
            }
            int k = values.kindOf(v);
            if (k == ParsedPickle.K_REDUCE) {
                if (values.setsStateOf(v, below)) {
                    return;
                }
                throw unsupported("a call discarded with POP that does not update the value below it");
            }
            if (k == ParsedPickle.K_NEWOBJ || k == ParsedPickle.K_BUILD) {
                throw unsupported("an object discarded with POP without being memoized");
            }
        }

        // ------------------------------------------------------------------------------ memo

        private void define(int index) {
            int top = top(1);
            if (values.kindOf(top) == ParsedPickle.K_REF) {
                throw unsupported("memo entry bound to a memo reference");
            }
            if (index >= limits.maxMemo()) {
                throw PickleException.limitExceeded("pickle memo index", index, limits.maxMemo() - 1L);
            }
            // CPython numbers the memo densely; a sparse index could make us allocate for nothing.
            if (index > values.count + 1024L) {
                throw unsupported("memo index " + index + " far beyond the " + memoCount + " entries defined so far");
            }
            if (index >= memo.length) {
                int n = (int) Math.min(Math.max(memo.length * 2L, index + 1L), Integer.MAX_VALUE - 8);
                memo = Arrays.copyOf(memo, n);
                memoPos = Arrays.copyOf(memoPos, n);
                refs = Arrays.copyOf(refs, n);
            }
            if (memo[index] != 0) {
                throw unsupported("memo index " + index + " redefined");
            }
            memo[index] = top;
            memoPos[index] = opPos;
            memoCount++;
            memoTop = Math.max(memoTop, index + 1);
            values.memoize(top, pos);
            point(index);
        }

        private void get(int index) {
            if (index < 0 || index >= memo.length || memo[index] == 0) {
                throw new PickleException("memo index " + Integer.toUnsignedString(index) + " is not defined (GET at offset "
                        + opPos + ")");
            }
            int r = refs[index];
            if (r == 0) {
                r = values.ref(index, memo[index], opPos, pos);
                refs[index] = r;
            }
            point(index);
            pushAt(r, opPos);
        }

        private void point(int arg) {
            if (pointCount * 2 == points.length) {
                points = Arrays.copyOf(points, points.length * 2);
            }
            points[pointCount * 2] = opPos;
            points[pointCount * 2 + 1] = arg;
            pointCount++;
        }

        // ------------------------------------------------------------------------------ literals

        private void longN(long n) {
            checkLength(n, "LONG");
            int len = (int) n;
            int id;
            if (len <= 8) {
                long x = 0;
                for (int i = len - 1; i >= 0; i--) {
                    x = (x << 8) | (data[pos + i] & 0xff);
                }
                if (len > 0) {
                    int shift = 64 - 8 * len;
                    x = (x << shift) >> shift; // sign-extend
                }
                pos += len;
                id = scalar(ParsedPickle.K_INT, (int) x, (int) (x >> 32));
            } else {
                byte[] be = new byte[len];
                for (int i = 0; i < len; i++) {
                    be[i] = data[pos + len - 1 - i];
                }
                pos += len;
                BigInteger big = new BigInteger(be);
                if (big.bitLength() < 64) {
                    long x = big.longValue();
                    id = scalar(ParsedPickle.K_INT, (int) x, (int) (x >> 32));
                } else {
                    id = values.bigInt(big, opPos, pos);
                }
            }
            push(id);
        }

        private void str(long n) {
            checkLength(n, "str");
            int len = (int) n;
            Utf8.validate(data, pos, len);
            int off = pos;
            pos += len;
            push(scalar(ParsedPickle.K_STR, off, len));
        }

        private void bytes(long n, byte k) {
            checkLength(n, k == ParsedPickle.K_BYTEARRAY ? "bytearray" : "bytes");
            int len = (int) n;
            int off = pos;
            pos += len;
            push(scalar(k, off, len));
        }

        private PickleException unsupported(String what) {
            return new PickleException("unsupported pickle construct at offset " + opPos + " ("
                    + Opcodes.describe(op) + "): " + what);
        }
    }
}
