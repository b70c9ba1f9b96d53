package org.cloudviper.protocol.pickle;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The values of one pickle as {@link PickleReader} reads them: parallel primitive arrays indexed by
 * value id, not one object per value (a graph holds millions), which {@link ParsedPickle} keeps once
 * {@link #finish} has laid them out. The meaning of {@code a}, {@code b} and {@code c} per kind is
 * ParsedPickle's.
 *
 * <p>Invariants: ids are 1 .. {@link #count} (0 means "no value"); every per-value array has the
 * same length, greater than {@code count}; {@code count} never exceeds
 * {@link PickleLimits#maxValues()} and no depth exceeds {@link PickleLimits#maxDepth()} (a memo
 * reference adds its target's depth to its container). A tuple's items are contiguous in
 * {@link #kids} ({@code a} = offset, {@code b} = count) from the start; a list's, dict's or set's
 * arrive in chunks, one per opcode that adds them ({@code a} = first chunk, {@code b} = item count,
 * {@code c} = last chunk), until {@link #finish} lays them out contiguously as well.
 *
 * <p>The parser reads the arrays directly; it changes them only through the methods here.
 */
final class ValueTable {
    private final PickleLimits limits;

    int count;
    byte[] kind;
    int[] start;
    int[] end;
    int[] depth;
    int[] a;
    int[] b;
    int[] c;
    /** The BUILD that completed this object, or 0. */
    int[] completedBy;
    /** Items of tuples, lists, dicts (keys and values interleaved) and sets. */
    int[] kids;
    int nkids;
    /** Ints that do not fit a long, by {@code c}. */
    final List<BigInteger> bigs = new ArrayList<>();
    /** Values absorbed into a value (cloudpickle's state setters), by value id; rare. */
    final Map<Integer, int[]> sideEffects = new HashMap<>();

    /** Chunks of kids of a list, dict or set until {@link #finish}; chunk 0 = none. */
    private int[] chunkOff;
    private int[] chunkLen;
    private int[] chunkNext;
    private int nchunks = 1;

    /**
     * Sized for a pickle of {@code length} bytes. Graph pickles hold one value per 5 bytes (tasks of
     * small arguments) to 22 (a client.map's long keys): start at a quarter of the densest (capped)
     * and grow, rather than growing from nothing or holding four times what a client.map uses while
     * its graph is sliced. A small pickle (a task's arguments, read once per task by a worker)
     * starts smaller still: these arrays are allocated per read, and at graph sizes would cost
     * several times its parse.
     */
    ValueTable(int length, PickleLimits limits) {
        this.limits = limits;
        int values = Math.min(Math.min(length / 16, limits.maxValues()), 1 << 22) + Math.min(64, 4 + length / 16);
        kind = new byte[values];
        start = new int[values];
        end = new int[values];
        depth = new int[values];
        a = new int[values];
        b = new int[values];
        c = new int[values];
        completedBy = new int[values];
        kids = new int[Math.min(256, 4 + length / 4)];
        int containers = Math.min(64, 2 + length / 32);
        chunkOff = new int[containers];
        chunkLen = new int[containers];
        chunkNext = new int[containers];
    }

    // ------------------------------------------------------------------------------ new values

    /** A new value of kind {@code k} spanning [{@code from}, {@code to}), of depth 1. */
    int add(byte k, int from, int to) {
        if (count >= limits.maxValues()) {
            throw PickleException.limitExceeded("pickle values", count + 1L, limits.maxValues());
        }
        int id = ++count;
        if (id == kind.length) {
            resize((int) Math.min((long) id * 2, Integer.MAX_VALUE - 8));
        }
        kind[id] = k;
        start[id] = from;
        end[id] = to;
        depth[id] = 1;
        return id;
    }

    /** A value without children: {@code a} and {@code b} as its kind defines them. */
    int scalar(byte k, int from, int to, int va, int vb) {
        int id = add(k, from, to);
        a[id] = va;
        b[id] = vb;
        return id;
    }

    /** A big int, kept in {@link #bigs}. */
    int bigInt(BigInteger big, int from, int to) {
        int id = add(ParsedPickle.K_BIGINT, from, to);
        c[id] = bigs.size();
        bigs.add(big);
        return id;
    }

    /** A GLOBAL opcode's module and name, as offsets into the pickle. */
    int globalText(int from, int to, int moduleOff, int moduleLen, int nameOff) {
        int id = add(ParsedPickle.K_GLOBAL_TEXT, from, to);
        a[id] = moduleOff;
        b[id] = moduleLen;
        c[id] = nameOff;
        return id;
    }

    /** The reference to memo entry {@code index}, bound to {@code target}. */
    int ref(int index, int target, int from, int to) {
        int id = add(ParsedPickle.K_REF, from, to);
        a[id] = index;
        b[id] = target;
        return id;
    }

    /** A tuple of {@code items[base..top)}. */
    int tuple(int from, int to, int[] items, int base, int top) {
        int t = add(ParsedPickle.K_TUPLE, from, to);
        int n = top - base;
        ensureKids(n);
        System.arraycopy(items, base, kids, nkids, n);
        a[t] = nkids;
        b[t] = n;
        nkids += n;
        adopt(t, items, base, top);
        return t;
    }

    /** STACK_GLOBAL, REDUCE or NEWOBJ of {@code items[base..base+n)} as a, b[, c]. */
    int node(byte k, int from, int to, int[] items, int base, int n) {
        int id = add(k, from, to);
        a[id] = items[base];
        b[id] = items[base + 1];
        if (n == 3) {
            c[id] = items[base + 2];
        }
        adopt(id, items, base, base + n);
        return id;
    }

    /** BUILD of object {@code items[base]} with state {@code items[base + 1]}; it completes the object. */
    int build(int from, int to, int[] items, int base) {
        int id = node(ParsedPickle.K_BUILD, from, to, items, base, 2);
        completedBy[items[base]] = id;
        return id;
    }

    // ------------------------------------------------------------------------------ updates

    /** Adds {@code items[base..top)} to list, dict or set {@code s} as one chunk; its span ends at {@code to}. */
    void append(int s, int to, int[] items, int base, int top) {
        int n = top - base;
        if (n > 0) {
            ensureKids(n);
            System.arraycopy(items, base, kids, nkids, n);
            if (nchunks == chunkOff.length) {
                chunkOff = Arrays.copyOf(chunkOff, nchunks * 2);
                chunkLen = Arrays.copyOf(chunkLen, nchunks * 2);
                chunkNext = Arrays.copyOf(chunkNext, nchunks * 2);
            }
            int ch = nchunks++;
            chunkOff[ch] = nkids;
            chunkLen[ch] = n;
            nkids += n;
            if (a[s] == 0) {
                a[s] = ch;
            } else {
                chunkNext[c[s]] = ch;
            }
            c[s] = ch;
            b[s] += n;
        }
        adopt(s, items, base, top);
        end[s] = to;
    }

    /** Marks out-of-band buffer {@code id} read-only; its span ends at {@code to}. */
    void readonly(int id, int to) {
        b[id] = 1;
        end[id] = to;
    }

    /** Binds a memo entry to {@code id}, whose span then ends at {@code to} (after the PUT). */
    void memoize(int id, int to) {
        kind[id] |= ParsedPickle.MEMOIZED;
        end[id] = to;
    }

    /** Makes {@code v} a side effect of {@code into}, whose span then ends at {@code to}. */
    void absorb(int into, int v, int to) {
        end[into] = to;
        int[] old = sideEffects.get(into);
        int[] now = old == null ? new int[1] : Arrays.copyOf(old, old.length + 1);
        now[now.length - 1] = v;
        sideEffects.put(into, now);
    }

    /** Raises {@code parent}'s depth above that of each of {@code items[base..top)}. */
    private void adopt(int parent, int[] items, int base, int top) {
        int d = depth[parent];
        for (int i = base; i < top; i++) {
            int child = items[i];
            int cd = kindOf(child) == ParsedPickle.K_REF ? depth[b[child]] : depth[child];
            d = Math.max(d, cd + 1);
        }
        if (d > limits.maxDepth()) {
            throw PickleException.limitExceeded("pickle nesting depth", d, limits.maxDepth());
        }
        depth[parent] = d;
    }

    private void ensureKids(int n) {
        if (nkids + (long) n > kids.length) {
            kids = Arrays.copyOf(kids, (int) Math.min(Math.max(kids.length * 2L, nkids + (long) n),
                    Integer.MAX_VALUE - 8));
        }
    }

    // ------------------------------------------------------------------------------ queries

    int kindOf(int id) {
        return kind[id] & ParsedPickle.KIND_MASK;
    }

    /** {@code id}, or for a memo reference the value it denotes; in both cases after BUILD. */
    int resolve(int id) {
        return ParsedPickle.resolve(kind, b, completedBy, id);
    }

    /** Whether a memo entry is bound to {@code id} or, for a BUILD, to the object it builds. */
    boolean isMemoized(int id) {
        for (int m = id; m != 0; m = kindOf(m) == ParsedPickle.K_BUILD ? a[m] : 0) {
            if ((kind[m] & ParsedPickle.MEMOIZED) != 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether REDUCE {@code call} is a state setter of {@code target}, a value of its own (not 0, not
     * a memo reference): its first argument is {@code target}, after memo references and BUILD.
     */
    boolean setsStateOf(int call, int target) {
        int args = resolve(b[call]);
        return target != 0 && kindOf(target) != ParsedPickle.K_REF && kindOf(args) == ParsedPickle.K_TUPLE
                && b[args] > 0 && resolve(kids[a[args]]) == target;
    }

    /** The Python type of {@code id} as error messages name it. */
    String describe(int id) {
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

    // ------------------------------------------------------------------------------ the end

    /**
     * Brings the table into ParsedPickle's layout: the items of every list, dict and set contiguous
     * in {@link #kids} ({@code a} = offset, {@code b} = count, {@code c} = 0). Then cuts the per-value
     * arrays down to the values held when they have room for over a quarter more: a graph of long keys (a
     * client.map's) holds one value per 22 bytes, fewer than its length sized them for, and the
     * parse stays in memory while the graph is sliced.
     */
    void finish() {
        compact();
        int values = count + 1;
        if (kind.length > values + values / 4) {
            resize(values);
        }
    }

    private void compact() {
        int[] out = new int[nkids];
        int n = 0;
        for (int id = 1; id <= count; id++) {
            int k = kindOf(id);
            if (k == ParsedPickle.K_TUPLE) {
                System.arraycopy(kids, a[id], out, n, b[id]);
                a[id] = n;
                n += b[id];
            } else if (k == ParsedPickle.K_LIST || k == ParsedPickle.K_DICT || k == ParsedPickle.K_SET
                    || k == ParsedPickle.K_FROZENSET) {
                int off = n;
                for (int ch = a[id]; ch != 0; ch = chunkNext[ch]) {
                    System.arraycopy(kids, chunkOff[ch], out, n, chunkLen[ch]);
                    n += chunkLen[ch];
                }
                a[id] = off;
                c[id] = 0;
            }
        }
        kids = out;
        nkids = n;
    }

    /** Every per-value array to {@code n} entries, one after another (one copy alive at a time). */
    private void resize(int n) {
        kind = Arrays.copyOf(kind, n);
        start = Arrays.copyOf(start, n);
        end = Arrays.copyOf(end, n);
        depth = Arrays.copyOf(depth, n);
        a = Arrays.copyOf(a, n);
        b = Arrays.copyOf(b, n);
        c = Arrays.copyOf(c, n);
        completedBy = Arrays.copyOf(completedBy, n);
    }
}
