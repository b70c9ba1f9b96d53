package org.cloudviper.protocol.pickle;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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


    private static final class Parser extends PickleInput {
        final int buffersAllowed;
        final int buffersGiven;

        // values (ids from 1; see ParsedPickle for the meaning of a, b, c)
        int count;
        byte[] kind;
        int[] vStart;
        int[] vEnd;
        int[] vDepth;
        int[] va;
        int[] vb;
        int[] vc;
        int[] completedBy;
        final List<BigInteger> bigs = new ArrayList<>();
        final Map<Integer, int[]> sideEffects = new HashMap<>();
        /** Children (tuple items; list, set and dict items as they arrive, compacted at STOP). */
        int[] kids;
        int nkids;
        /** Per list/dict/set: its chunks of kids (a = first chunk, b = item count, c = last chunk). */
        int[] chunkOff;
        int[] chunkLen;
        int[] chunkNext;
        int nchunks = 1; // chunk 0 = none

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
            // Graph pickles hold one value per 5 bytes (tasks of small arguments) to 22 (a client.map's
            // long keys), about one memo opcode per 3 and one memo entry per 5 to 44; start at a
            // quarter of the densest (capped) and grow, rather than growing from nothing or holding
            // four times what a client.map uses while its graph is sliced. A small pickle (a task's
            // arguments, read once per task by a worker) starts smaller still: these arrays are
            // allocated per read, and at graph sizes would cost several times its parse.
            int values = Math.min(Math.min(length / 16, limits.maxValues()), 1 << 22) + Math.min(64, 4 + length / 16);
            kind = new byte[values];
            vStart = new int[values];
            vEnd = new int[values];
            vDepth = new int[values];
            va = new int[values];
            vb = new int[values];
            vc = new int[values];
            completedBy = new int[values];
            int memos = Math.min(Math.min(length / 16, limits.maxMemo()), 1 << 22) + Math.min(16, 2 + length / 16);
            memo = new int[memos];
            memoPos = new int[memos];
            refs = new int[memos];
            points = new int[2 * (int) (Math.min(Math.min(length / 12, 2L * limits.maxValues()), 1 << 22)
                    + Math.min(16, 2 + length / 16))];
            kids = new int[Math.min(256, 4 + length / 4)];
            int containers = Math.min(64, 2 + length / 32);
            chunkOff = new int[containers];
            chunkLen = new int[containers];
            chunkNext = new int[containers];
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
                    case NONE -> push(value(ParsedPickle.K_NONE, opPos));
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
                        if (kindOf(top) != ParsedPickle.K_BUFFER) {
                            throw unsupported("READONLY_BUFFER applied to " + describe(top)
                                    + " instead of an out-of-band buffer");
                        }
                        vb[top] = 1;
                        vEnd[top] = pos;
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
                    case EMPTY_LIST -> push(value(ParsedPickle.K_LIST, opPos));
                    case LIST -> {
                        int base = popMarkBase();
                        int l = value(ParsedPickle.K_LIST, markOff[mp]);
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
                    case EMPTY_DICT -> push(value(ParsedPickle.K_DICT, opPos));
                    case DICT -> {
                        int base = popMarkBase();
                        int d = value(ParsedPickle.K_DICT, markOff[mp]);
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
                    case EMPTY_SET -> push(value(ParsedPickle.K_SET, opPos));
                    case ADDITEMS -> {
                        int base = popMarkBase();
                        append(target(belowMark(base), ParsedPickle.K_SET, "ADDITEMS"), base);
                    }
                    case FROZENSET -> {
                        int base = popMarkBase();
                        int s = value(ParsedPickle.K_FROZENSET, markOff[mp]);
                        append(s, base);
                        push(s);
                    }
                    case GLOBAL -> {
                        int modOff = pos;
                        int modLen = line();
                        int nameOff = pos;
                        line();
                        int g = value(ParsedPickle.K_GLOBAL_TEXT, opPos);
                        va[g] = modOff;
                        vb[g] = modLen;
                        vc[g] = nameOff;
                        push(g);
                    }
                    case STACK_GLOBAL -> {
                        frameHas(2);
                        int start = stackStart[sp - 2];
                        int name = stack[sp - 1];
                        int module = stack[sp - 2];
                        if (kindOf(resolve(module)) != ParsedPickle.K_STR || kindOf(resolve(name)) != ParsedPickle.K_STR) {
                            throw new PickleException("STACK_GLOBAL at offset " + opPos + " requires str module and name, got "
                                    + describe(resolve(module)) + " and " + describe(resolve(name)));
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
                        if (kindOf(obj) == ParsedPickle.K_REF) {
                            throw unsupported("BUILD of a memo reference (a recursive object)");
                        }
                        int b = node(ParsedPickle.K_BUILD, stackStart[sp - 2], 2);
                        completedBy[obj] = b;
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
            compact();
            trim();
            return new ParsedPickle(data, stack[0], count, kind, vStart, vEnd, vDepth, va, vb, vc, completedBy, kids,
                    bigs.toArray(new BigInteger[0]), sideEffects, memo, memoPos, memoTop, memoCount, points, pointCount,
                    buffersUsed, limits);
        }

        /**
         * Cuts the arrays sized from the pickle's length down to what it held, one at a time: a graph
         * of long keys (a client.map's) holds one value per 22 bytes, not the 5 they were sized for,
         * and the parse stays in memory while the graph is sliced.
         */
        private void trim() {
            int values = count + 1;
            if (kind.length > values + values / 4) {
                resizeValues(values);
            }
            if (memo.length > memoTop + memoTop / 4 + 16) {
                memo = Arrays.copyOf(memo, memoTop);
                memoPos = Arrays.copyOf(memoPos, memoTop);
            }
            refs = null;
            if (points.length > 2 * (pointCount + pointCount / 4) + 32) {
                points = Arrays.copyOf(points, 2 * pointCount);
            }
        }

        /** Every per-value array to {@code n} entries, one after another. */
        private void resizeValues(int n) {
            kind = Arrays.copyOf(kind, n);
            vStart = Arrays.copyOf(vStart, n);
            vEnd = Arrays.copyOf(vEnd, n);
            vDepth = Arrays.copyOf(vDepth, n);
            va = Arrays.copyOf(va, n);
            vb = Arrays.copyOf(vb, n);
            vc = Arrays.copyOf(vc, n);
            completedBy = Arrays.copyOf(completedBy, n);
        }

        /** Lays the items of every list, dict and set out contiguously: a = offset in kids, b = count. */
        private void compact() {
            int[] out = new int[nkids];
            int n = 0;
            for (int id = 1; id <= count; id++) {
                int k = kindOf(id);
                if (k == ParsedPickle.K_TUPLE) {
                    System.arraycopy(kids, va[id], out, n, vb[id]);
                    va[id] = n;
                    n += vb[id];
                } else if (k == ParsedPickle.K_LIST || k == ParsedPickle.K_DICT || k == ParsedPickle.K_SET
                        || k == ParsedPickle.K_FROZENSET) {
                    int off = n;
                    for (int ch = va[id]; ch != 0; ch = chunkNext[ch]) {
                        System.arraycopy(kids, chunkOff[ch], out, n, chunkLen[ch]);
                        n += chunkLen[ch];
                    }
                    va[id] = off;
                    vc[id] = 0;
                }
            }
            kids = out;
            nkids = n;
        }

        // ------------------------------------------------------------------------------ values

        /** A new value of {@code k} starting at {@code start} and ending here. */
        private int value(byte k, int start) {
            if (count >= limits.maxValues()) {
                throw PickleException.limitExceeded("pickle values", count + 1L, limits.maxValues());
            }
            int id = ++count;
            if (id == kind.length) {
                int n = (int) Math.min((long) id * 2, Integer.MAX_VALUE - 8);
                resizeValues(n);
            }
            kind[id] = k;
            vStart[id] = start;
            vEnd[id] = pos;
            vDepth[id] = 1;
            return id;
        }

        private int scalar(byte k, int a, int b) {
            int id = value(k, opPos);
            va[id] = a;
            vb[id] = b;
            return id;
        }

        /** A tuple of stack[base..sp), which it pops. */
        private int tuple(int start, int base) {
            int t = value(ParsedPickle.K_TUPLE, start);
            int n = sp - base;
            ensureKids(n);
            System.arraycopy(stack, base, kids, nkids, n);
            va[t] = nkids;
            vb[t] = n;
            nkids += n;
            adoptAll(t, base);
            return t;
        }

        /** GLOBAL/REDUCE/NEWOBJ/BUILD of the top n stack entries (a, b[, c]), which it pops. */
        private int node(byte k, int start, int n) {
            int id = value(k, start);
            int base = sp - n;
            va[id] = stack[base];
            vb[id] = stack[base + 1];
            if (n == 3) {
                vc[id] = stack[base + 2];
            }
            adoptAll(id, base);
            return id;
        }

        private void ensureKids(int n) {
            if (nkids + (long) n > kids.length) {
                kids = Arrays.copyOf(kids, (int) Math.min(Math.max(kids.length * 2L, nkids + (long) n),
                        Integer.MAX_VALUE - 8));
            }
        }

        /** Appends stack[base..sp) to list/set/frozenset {@code s} as one chunk, pops them. */
        private void append(int s, int base) {
            int n = sp - base;
            if (n > 0) {
                ensureKids(n);
                System.arraycopy(stack, base, kids, nkids, n);
                if (nchunks == chunkOff.length) {
                    chunkOff = Arrays.copyOf(chunkOff, nchunks * 2);
                    chunkLen = Arrays.copyOf(chunkLen, nchunks * 2);
                    chunkNext = Arrays.copyOf(chunkNext, nchunks * 2);
                }
                int ch = nchunks++;
                chunkOff[ch] = nkids;
                chunkLen[ch] = n;
                nkids += n;
                if (va[s] == 0) {
                    va[s] = ch;
                } else {
                    chunkNext[vc[s]] = ch;
                }
                vc[s] = ch;
                vb[s] += n;
            }
            adoptAll(s, base);
            vEnd[s] = pos;
        }

        private void pairs(int d, int base, String what) {
            if (((sp - base) & 1) != 0) {
                throw new PickleException(what + " at offset " + opPos + " with an odd number of items");
            }
            append(d, base);
        }

        private int kindOf(int id) {
            return kind[id] & ParsedPickle.KIND_MASK;
        }

        private int resolve(int id) {
            while (true) {
                if (kindOf(id) == ParsedPickle.K_REF) {
                    id = vb[id];
                } else if (completedBy[id] != 0) {
                    id = completedBy[id];
                } else {
                    return id;
                }
            }
        }

        private String describe(int id) {
            return switch (kindOf(id)) {
                case ParsedPickle.K_NONE -> "None";
                case ParsedPickle.K_BOOL -> "bool";
                case ParsedPickle.K_INT, ParsedPickle.K_BIGINT -> "int";
                case ParsedPickle.K_FLOAT -> "float";
                case ParsedPickle.K_STR -> "str";
                case ParsedPickle.K_BYTES -> "bytes";
                case ParsedPickle.K_BYTEARRAY -> "bytearray";
                case ParsedPickle.K_TUPLE -> "tuple";
                case ParsedPickle.K_LIST -> "list";
                case ParsedPickle.K_DICT -> "dict";
                case ParsedPickle.K_SET -> "set";
                case ParsedPickle.K_FROZENSET -> "frozenset";
                case ParsedPickle.K_GLOBAL, ParsedPickle.K_GLOBAL_TEXT -> "global";
                case ParsedPickle.K_REDUCE -> "REDUCE result";
                case ParsedPickle.K_NEWOBJ -> "NEWOBJ result";
                case ParsedPickle.K_BUILD -> "BUILD result";
                case ParsedPickle.K_BUFFER -> "out-of-band buffer";
                default -> "memo reference";
            };
        }

        // ------------------------------------------------------------------------------ stack

        private void push(int id) {
            pushAt(id, vStart[id]);
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
            int actual = kindOf(id);
            if (actual == ParsedPickle.K_REF) {
                throw unsupported(what + " on a memo reference (a recursive object)");
            }
            if (actual != k) {
                throw new PickleException(what + " at offset " + opPos + " applied to a " + describe(id));
            }
            return id;
        }

        /** Adopts stack[base..sp) as children of {@code parent} (depth), and pops them. */
        private void adoptAll(int parent, int base) {
            int d = vDepth[parent];
            for (int i = base; i < sp; i++) {
                int child = stack[i];
                int cd = kindOf(child) == ParsedPickle.K_REF ? vDepth[vb[child]] : vDepth[child];
                d = Math.max(d, cd + 1);
            }
            if (d > limits.maxDepth()) {
                throw PickleException.limitExceeded("pickle nesting depth", d, limits.maxDepth());
            }
            vDepth[parent] = d;
            sp = base;
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
            if (below != 0 && kindOf(below) != ParsedPickle.K_REF) {
                // (a shared Ref has no span of its own to extend; its container's span covers this)
                vEnd[below] = pos;
                int[] old = sideEffects.get(below);
                int[] now = old == null ? new int[1] : Arrays.copyOf(old, old.length + 1);
                now[now.length - 1] = v;
                sideEffects.put(below, now);
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
            for (int m = v; m != 0; m = kindOf(m) == ParsedPickle.K_BUILD ? va[m] : 0) {
                if ((kind[m] & ParsedPickle.MEMOIZED) != 0) {
                    return; // memoized (a BUILD counts through its object): used again later
                }
            }
            int k = kindOf(v);
            if (k == ParsedPickle.K_REDUCE) {
                int args = resolve(vb[v]);
                if (below != 0 && kindOf(below) != ParsedPickle.K_REF && kindOf(args) == ParsedPickle.K_TUPLE
                        && vb[args] > 0 && resolve(kids[va[args]]) == below) {
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
            if (kindOf(top) == ParsedPickle.K_REF) {
                throw unsupported("memo entry bound to a memo reference");
            }
            if (index >= limits.maxMemo()) {
                throw PickleException.limitExceeded("pickle memo index", index, limits.maxMemo() - 1L);
            }
            // CPython numbers the memo densely; a sparse index could make us allocate for nothing.
            if (index > count + 1024L) {
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
            kind[top] |= ParsedPickle.MEMOIZED;
            vEnd[top] = pos;
            point(index);
        }

        private void get(int index) {
            if (index < 0 || index >= memo.length || memo[index] == 0) {
                throw new PickleException("memo index " + Integer.toUnsignedString(index) + " is not defined (GET at offset "
                        + opPos + ")");
            }
            int r = refs[index];
            if (r == 0) {
                r = value(ParsedPickle.K_REF, opPos);
                va[r] = index;
                vb[r] = memo[index];
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
                    id = value(ParsedPickle.K_BIGINT, opPos);
                    vc[id] = bigs.size();
                    bigs.add(big);
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
