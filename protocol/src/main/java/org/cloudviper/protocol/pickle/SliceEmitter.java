package org.cloudviper.protocol.pickle;

import java.util.Arrays;

import static org.cloudviper.protocol.pickle.ParsedPickle.POINT_BUFFER;
import static org.cloudviper.protocol.pickle.ParsedPickle.POINT_MEMO_DEF;
import static org.cloudviper.protocol.pickle.ParsedPickle.POINT_MEMO_GET;

/**
 * Cuts self-contained protocol-5 pickles out of one parsed pickle.
 *
 * <p>A slice is {@code PROTO 5}, then for every memo entry read inside the bodies but defined
 * outside them the value that defines it (its "unit": the memo binding, after BUILD) followed by
 * POP, once each, recursively for what those units read themselves, in pickle order; then the
 * caller's bodies and opcodes; then STOP. Copied spans drop FRAME/PROTO, renumber memo entries
 * densely from 0 in emission order (every definition becomes MEMOIZE, references BINGET or
 * LONG_BINGET; CPython's unpickler would otherwise size its memo array by the highest index) and
 * renumber NEXT_BUFFERs by listing the original buffer indexes in the order the slice consumes
 * them.
 *
 * <p>Spans form a laminar family (two spans are nested or disjoint), and a memo entry read inside
 * a span but defined outside it is defined before it, so its unit lies before the span or encloses
 * it; the latter is a recursive object and is refused. Hence sorting the units by offset and
 * dropping those nested in another gives a valid order, and each slice costs O(its own size +
 * log(opcodes)), independent of the size of the whole graph.
 *
 * <p>Values registered with {@link #replaceWithKey} (distributed Futures) are written as the key
 * they stand for wherever a copied span holds them, as distributed's scheduler unpacks them before
 * it sends a task ({@code unpack_remotedata}): the callee and arguments are copied between MARK and
 * POP_MARK (so the memo entries defined inside them stay defined, and nothing is called), then the
 * key is copied again and bound to the memo entry of the replaced value.
 *
 * <p>Not thread-safe; one emitter per parsed pickle and thread.
 */
final class SliceEmitter {
    private final ParsedPickle p;
    private final int[] pts;
    final PickleWriter w = new PickleWriter(1 << 12);
    private final int[] memoNew;
    private final int[] memoStamp;
    private final int[] memoSeen;
    /** By memo index: the memo entries its unit reads from outside itself (computed once). */
    private final int[][] externals;
    private int[] pendingMemo = new int[16];
    private int npending;
    private int stamp;
    private int nextMemo;
    private int[] bufs = new int[4];
    private int nbufs;
    /** The units (value ids) of the current slice, with the memo index that led to each. */
    private int[] units = new int[16];
    private int[] unitMemo = new int[16];
    private int nunits;
    /** By memo index: 1 + index of the first rewrite point of its unit's span, or 0 if not known yet. */
    private final int[] unitFirstPoint;
    /** By memo index: its unit (value id), or 0 if not resolved yet. */
    private final int[] unitOf;
    /** Values written as a key instead (REDUCE value ids), sorted by span start; and the key inside each. */
    private int[] replaced = new int[0];
    private int[] replacedKey = new int[0];

    SliceEmitter(ParsedPickle p) {
        this.p = p;
        this.pts = p.points;
        this.memoNew = new int[p.memoTop];
        this.memoStamp = new int[p.memoTop];
        this.memoSeen = new int[p.memoTop];
        this.externals = new int[p.memoTop][];
        this.unitFirstPoint = new int[p.memoTop];
        this.unitOf = new int[p.memoTop];
    }

    /**
     * From now on, writes each REDUCE value of {@code calls} (a call whose arguments tuple holds
     * {@code keys[i]}, a value id inside it) as that key. Spans of the calls must not overlap.
     */
    void replaceWithKey(int[] calls, int[] keys) {
        Integer[] order = new Integer[calls.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Integer.compare(p.start[calls[x]], p.start[calls[y]]));
        replaced = new int[calls.length];
        replacedKey = new int[calls.length];
        for (int i = 0; i < order.length; i++) {
            replaced[i] = calls[order[i]];
            replacedKey[i] = keys[order[i]];
            if (p.kind(replaced[i]) != ParsedPickle.K_REDUCE) {
                throw new IllegalArgumentException("not a call: " + p.value(replaced[i]).describe());
            }
        }
    }

    /** Starts a new slice: {@code PROTO 5}. */
    void begin() {
        stamp = p.nextStamp();
        nextMemo = 0;
        nbufs = 0;
        w.reset();
        w.proto();
    }

    /** Emits the definitions the given bodies need from outside themselves (call once, first). */
    void prefix(PickleValue... bodies) {
        nunits = 0;
        npending = 0;
        for (PickleValue b : bodies) {
            collect(b.id);
        }
        while (npending > 0) {
            for (int m : externals(pendingMemo[--npending])) {
                need(m);
            }
        }
        sortUnits();
        int maxEnd = -1;
        for (int k = 0; k < nunits; k++) {
            int u = units[k];
            if (p.end[u] <= maxEnd) {
                continue; // nested in a unit already emitted, which defines it too
            }
            span(p.start[u], p.end[u], firstPointOfUnit(unitMemo[k]));
            w.pop();
            maxEnd = p.end[u];
        }
    }

    /**
     * Finds the memo entries a body reads from outside itself. A unit enclosing the body means the
     * body refers to its own ancestor (a recursive object): a copy of the body next to the complete
     * ancestor would not be the same object graph, so that is refused. (A unit enclosing another
     * unit is fine: the outer one is emitted and defines the inner one.)
     */
    private void collect(int body) {
        if (p.kind(body) == ParsedPickle.K_REF) {
            need(p.a[body]); // emitted as a GET of the unit (which may well be an ancestor)
            return;
        }
        int s = p.start[body];
        int e = p.end[body];
        for (int i = p.firstPoint(s); i < p.pointCount && pts[i * 2] < e; i++) {
            if (p.pointKind(pts[i * 2]) != POINT_MEMO_GET) {
                continue;
            }
            int m = pts[i * 2 + 1];
            int defAt = p.memoPos[m];
            if (defAt >= s && defAt < e) {
                continue;
            }
            int u = unit(m);
            if (p.start[u] <= s && p.end[u] >= e) {
                throw new PickleException("memo entry " + m + " read at offset " + pts[i * 2] + " refers to "
                        + p.value(u).describe() + " at offset " + p.start[u] + ", which encloses "
                        + p.value(body).describe() + " (a recursive object cannot be cut out)");
            }
            need(m);
        }
    }

    private void need(int m) {
        if (memoSeen[m] == stamp) {
            return;
        }
        memoSeen[m] = stamp;
        int u = unit(m);
        if (p.stamp[u] != stamp) {
            p.stamp[u] = stamp;
            if (nunits == units.length) {
                units = Arrays.copyOf(units, nunits * 2);
                unitMemo = Arrays.copyOf(unitMemo, nunits * 2);
            }
            units[nunits] = u;
            unitMemo[nunits++] = m;
        }
        if (npending == pendingMemo.length) {
            pendingMemo = Arrays.copyOf(pendingMemo, npending * 2);
        }
        pendingMemo[npending++] = m;
    }

    /** The memo entries unit(m) reads from outside its span, each once; cached per entry. */
    private int[] externals(int m) {
        int[] cached = externals[m];
        if (cached != null) {
            return cached;
        }
        int u = unit(m);
        int s = p.start[u];
        int e = p.end[u];
        int[] out = new int[4];
        int n = 0;
        for (int i = firstPointOfUnit(m); i < p.pointCount && pts[i * 2] < e; i++) {
            if (p.pointKind(pts[i * 2]) != POINT_MEMO_GET) {
                continue;
            }
            int r = pts[i * 2 + 1];
            int defAt = p.memoPos[r];
            if (defAt >= s && defAt < e) {
                continue;
            }
            boolean dup = false;
            for (int k = 0; k < n && !dup; k++) {
                dup = out[k] == r;
            }
            if (!dup) {
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = r;
            }
        }
        cached = Arrays.copyOf(out, n);
        externals[m] = cached;
        return cached;
    }

    /** The unit of memo entry m, cached (resolving walks Ref and BUILD links). */
    private int unit(int m) {
        int u = unitOf[m];
        if (u == 0) {
            u = p.unit(m);
            unitOf[m] = u;
        }
        return u;
    }

    private int firstPointOfUnit(int m) {
        int f = unitFirstPoint[m];
        if (f == 0) {
            f = p.firstPoint(p.start[unit(m)]) + 1;
            unitFirstPoint[m] = f;
        }
        return f - 1;
    }

    /** Sorts the units by start, enclosing (longer) spans first. */
    private void sortUnits() {
        if (sortKeys.length < nunits) {
            sortKeys = new long[units.length];
            sortTmp = new long[units.length];
            unitTmp = new int[units.length];
            memoTmp = new int[units.length];
        }
        for (int i = 0; i < nunits; i++) {
            sortKeys[i] = ((long) p.start[units[i]] << 32) | (~p.end[units[i]] & 0x7fffffffL);
        }
        if (nunits <= 64) {
            for (int i = 1; i < nunits; i++) {
                long k = sortKeys[i];
                int u = units[i];
                int m = unitMemo[i];
                int j = i - 1;
                while (j >= 0 && sortKeys[j] > k) {
                    sortKeys[j + 1] = sortKeys[j];
                    units[j + 1] = units[j];
                    unitMemo[j + 1] = unitMemo[j];
                    j--;
                }
                sortKeys[j + 1] = k;
                units[j + 1] = u;
                unitMemo[j + 1] = m;
            }
        } else {
            mergeSort(0, nunits);
        }
    }

    /** Bottom-up merge sort of units[from..to) by sortKeys (for slices needing many units). */
    private void mergeSort(int from, int to) {
        for (int width = 1; width < to - from; width *= 2) {
            for (int lo = from; lo < to - width; lo += 2 * width) {
                int mid = lo + width;
                int hi = Math.min(lo + 2 * width, to);
                int i = lo;
                int j = mid;
                int k = lo;
                while (i < mid || j < hi) {
                    int pick = (j >= hi || (i < mid && sortKeys[i] <= sortKeys[j])) ? i++ : j++;
                    sortTmp[k] = sortKeys[pick];
                    unitTmp[k] = units[pick];
                    memoTmp[k++] = unitMemo[pick];
                }
                System.arraycopy(sortTmp, lo, sortKeys, lo, hi - lo);
                System.arraycopy(unitTmp, lo, units, lo, hi - lo);
                System.arraycopy(memoTmp, lo, unitMemo, lo, hi - lo);
            }
        }
    }

    private long[] sortKeys = new long[16];
    private long[] sortTmp = new long[16];
    private int[] unitTmp = new int[16];
    private int[] memoTmp = new int[16];

    /** Copies one value's span (a memo reference: a GET of its unit, defined by the prefix). */
    void body(PickleValue v) {
        int id = v.id;
        if (p.kind(id) == ParsedPickle.K_REF) {
            get(p.a[id], p.start[id]);
            return;
        }
        span(p.start[id], p.end[id], p.firstPoint(p.start[id]));
    }

    /**
     * Whether {@code v}'s span can be copied into any slice at any place as it is: it reads no memo
     * entry (its own definitions become MEMOIZE, which takes the next index wherever it stands),
     * consumes no out-of-band buffer and holds no value written as a key.
     */
    boolean standsAlone(PickleValue v) {
        int id = v.id;
        if (p.kind(id) == ParsedPickle.K_REF) {
            return false;
        }
        int s = p.start[id];
        int e = p.end[id];
        for (int i = p.firstPoint(s); i < p.pointCount && pts[i * 2] < e; i++) {
            int kind = p.pointKind(pts[i * 2]);
            if (kind == POINT_MEMO_GET || kind == POINT_BUFFER) {
                return false;
            }
        }
        int k = firstReplacedAt(s);
        return k >= replaced.length || p.start[replaced[k]] >= e;
    }

    private void get(int m, int at) {
        if (memoStamp[m] != stamp) {
            throw new PickleException("slicer: memo entry " + m + " read at offset " + at
                    + " is not defined in the slice (please report)");
        }
        w.get(memoNew[m]);
    }

    private void span(int s, int e, int first) {
        if (replaced.length == 0) {
            copy(s, e, first);
            return;
        }
        int k = firstReplacedAt(s);
        int cur = s;
        while (k < replaced.length && p.start[replaced[k]] < e) {
            int call = replaced[k];
            if (p.end[call] > e) {
                k++; // the call encloses this span (its callee, while the call itself is written)
                continue;
            }
            copy(cur, p.start[call], cur == s ? first : p.firstPoint(cur));
            writeKeyFor(k);
            cur = p.end[call];
            while (k < replaced.length && p.start[replaced[k]] < cur) {
                k++;
            }
        }
        copy(cur, e, cur == s ? first : p.firstPoint(cur));
    }

    private int firstReplacedAt(int offset) {
        int lo = 0;
        int hi = replaced.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (p.start[replaced[mid]] < offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The callee and arguments of replaced call {@code k}, popped; its key; the call's own memo entry. */
    private void writeKeyFor(int k) {
        int call = replaced[k];
        w.mark();
        body(p.value(p.a[call]));
        body(p.value(p.b[call]));
        w.op(Opcodes.POP_MARK);
        body(p.value(replacedKey[k]));
        int s = p.start[call];
        int e = p.end[call];
        for (int i = p.firstPoint(s); i < p.pointCount && pts[i * 2] < e; i++) {
            int at = pts[i * 2];
            int m = pts[i * 2 + 1];
            if (p.pointKind(at) == POINT_MEMO_DEF && p.memo[m] == call) {
                memoNew[m] = nextMemo++;
                memoStamp[m] = stamp;
                w.memoize();
            }
        }
    }

    private void copy(int s, int e, int first) {
        byte[] data = p.data;
        int cur = s;
        for (int i = first; i < p.pointCount && pts[i * 2] < e; i++) {
            int at = pts[i * 2];
            w.raw(data, cur, at - cur);
            int kind = p.pointKind(at);
            int arg = pts[i * 2 + 1];
            if (kind == POINT_MEMO_DEF) {
                memoNew[arg] = nextMemo++;
                memoStamp[arg] = stamp;
                w.memoize();
            } else if (kind == POINT_MEMO_GET) {
                get(arg, at);
            } else if (kind == POINT_BUFFER) {
                if (nbufs == bufs.length) {
                    bufs = Arrays.copyOf(bufs, nbufs * 2);
                }
                bufs[nbufs++] = arg;
                w.nextBuffer();
            } // POINT_SKIP: FRAME and PROTO are dropped
            cur = at + p.opLength(at);
        }
        w.raw(data, cur, e - cur);
    }

    /** Ends the slice with STOP; returns its bytes. */
    byte[] finish() {
        w.stop();
        return w.toByteArray();
    }

    /** The original out-of-band buffer indexes, in the order the slice consumes them. */
    int[] buffers() {
        return Arrays.copyOf(bufs, nbufs);
    }
}
