package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.pickle.PickleValues;

import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.RandomAccess;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The {@code keys} of an {@code update-graph} (2024) or {@code update-graph-hlg} (2022) and the
 * client's order of them ({@code internal_priority}, {@code priority}), held as their UTF-8 bytes
 * rather than as a String per key: a million-task {@code client.map} names every key once in each
 * field, and the scheduler's tasks already hold each key once more, as the graph names it.
 * {@link PickledGraph} and {@link HlgGraph.Layers} look each task's key up here ({@link #taskKey})
 * and hand the state the tasks' own key instances ({@link #takeWanted}).
 *
 * <p>As a list it is the keys in the order sent, each decoded when asked for ({@link #get}); str
 * keys are kept as bytes, keys of any other type (tuples, ints) as their decoded values.
 * {@link #priorities()} is the order as the map the client sent. Filled by the stream reader:
 * {@link #add}/{@link #addOther}, then {@link #seal}, then the order by {@link #find} and
 * {@link #order}; read-only after that.
 */
public final class KeyTable extends AbstractList<Object> implements RandomAccess {
    private byte[] utf8 = new byte[1024];
    private int used;
    /** Where key i's bytes end (they start where key i-1's end). */
    private int[] ends = new int[64];
    /** Key i when it is not a str; null for str keys (and the array itself until a first such key). */
    private Object[] others;
    /** Positions of the keys that are not str, by canonical key. */
    private final HashMap<Object, Integer> otherIndex = new HashMap<>();
    private int size;
    /** Open addressing over the str keys: position + 1, 0 for an empty slot. */
    private int[] slots;
    private long[] order;
    /** Keys given an order, so that a key named twice in the order is refused. */
    private BitSet ordered;
    /** Order of keys the order names that are not in the table, by canonical key. */
    private final HashMap<Object, Long> unlisted = new HashMap<>();
    private final Priorities priorities = new Priorities();
    /** Per key, the instance the first task naming it gave ({@link #taskKey}); null until one does. */
    private Object[] taskKeys;

    /** Appends a str key: the first {@code n} bytes of {@code b}, valid UTF-8. */
    public void add(byte[] b, int n) {
        checkOpen();
        if (used + n > utf8.length) {
            long want = Math.max((long) used + n, 2L * utf8.length);
            if (want > Integer.MAX_VALUE - 16) {
                throw ProtocolException.limit("update-graph keys bytes", (long) used + n, Integer.MAX_VALUE - 16);
            }
            utf8 = Arrays.copyOf(utf8, (int) want);
        }
        System.arraycopy(b, 0, utf8, used, n);
        used += n;
        append();
    }

    /** Appends a key that is not a str, as decoded from msgpack. */
    public void addOther(Object key) {
        checkOpen();
        if (others == null) {
            others = new Object[ends.length];
        }
        append();
        others[size - 1] = key;
        otherIndex.putIfAbsent(canonical(key), size - 1);
    }

    private void append() {
        if (size == ends.length) {
            ends = Arrays.copyOf(ends, 2 * size);
            if (others != null) {
                others = Arrays.copyOf(others, ends.length);
            }
        }
        ends[size++] = used;
    }

    private void checkOpen() {
        if (slots != null) {
            throw new IllegalStateException("sealed");
        }
    }

    /** The keys are all there: builds the index {@link #find} and {@link #indexOf} use. */
    public void seal() {
        if (slots != null) {
            return;
        }
        int cap = Integer.highestOneBit(Math.max(4, size) * 2 - 1) << 1;
        slots = new int[cap];
        for (int i = 0; i < size; i++) {
            if (isStr(i)) {
                int s = start(i);
                int slot = slot(hash(utf8, s, ends[i]), utf8, s, ends[i]);
                if (slots[slot] == 0) {
                    slots[slot] = i + 1; // a repeated key keeps its first position
                }
            }
        }
    }

    private boolean isStr(int i) {
        return others == null || others[i] == null;
    }

    private int start(int i) {
        return i == 0 ? 0 : ends[i - 1];
    }

    /** The slot holding the str key {@code b[from, to)}, or the empty slot where it would go. */
    private int slot(int hash, byte[] b, int from, int to) {
        int mask = slots.length - 1;
        int slot = hash & mask;
        while (true) {
            int p = slots[slot];
            if (p == 0) {
                return slot;
            }
            int s = start(p - 1);
            if (Arrays.equals(utf8, s, ends[p - 1], b, from, to)) {
                return slot;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** Position of the str key in the first {@code n} bytes of {@code b}, or -1. */
    public int find(byte[] b, int n) {
        int p = slots[slot(hash(b, 0, n), b, 0, n)];
        return p - 1;
    }

    /** Position of a key as the graph pickle names it ({@link PickleValues#canonicalKey} form), or -1. */
    public int indexOf(Object key) {
        if (!(key instanceof String s)) {
            Integer i = otherIndex.get(key);
            return i == null ? -1 : i;
        }
        byte[] b = ascii(s) ? null : s.getBytes(StandardCharsets.UTF_8);
        int h = b != null ? hash(b, 0, b.length) : spread(s.hashCode());
        int mask = slots.length - 1;
        int slot = h & mask;
        while (true) {
            int p = slots[slot];
            if (p == 0) {
                return -1;
            }
            int from = start(p - 1);
            int to = ends[p - 1];
            if (b != null ? Arrays.equals(utf8, from, to, b, 0, b.length) : sameAscii(s, from, to)) {
                return p - 1;
            }
            slot = (slot + 1) & mask;
        }
    }

    /**
     * Position of a task's key ({@link #indexOf} of {@code canonicalKey}, the key in that form), or -1;
     * the first task to name a key gives the instance {@link #takeWanted} hands the state for it.
     */
    public int taskKey(Object canonicalKey, Object key) {
        int i = indexOf(canonicalKey);
        if (i >= 0) {
            if (taskKeys == null) {
                taskKeys = new Object[size];
            }
            if (taskKeys[i] == null) {
                taskKeys[i] = key;
            }
        }
        return i;
    }

    /**
     * The keys in the order sent, as the update wants them: the instance a task gave for each
     * ({@link #taskKey}), else {@code unnamed} applied to the key as decoded. The table is empty after.
     */
    public List<Object> takeWanted(UnaryOperator<Object> unnamed) {
        Object[] wanted = taskKeys != null ? taskKeys : new Object[size];
        for (int i = 0; i < size; i++) {
            if (wanted[i] == null) {
                wanted[i] = unnamed.apply(get(i));
            }
        }
        clear();
        return Arrays.asList(wanted);
    }

    private static boolean ascii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    private boolean sameAscii(String s, int from, int to) {
        if (to - from != s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (utf8[from + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Of an ASCII key, its String.hashCode spread: a task's key hashes without being encoded. */
    private static int hash(byte[] b, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + (b[i] & 0xff);
        }
        return spread(h);
    }

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }

    /**
     * Records the client's order of key {@code i} (a {@link #find} result), or of a key not in the
     * table ({@code i} = -1, {@code key} its decoded value); a key given twice is a
     * {@link ProtocolException}, as a duplicate map key is.
     */
    public void order(int i, Object key, long o) {
        if (i < 0) {
            if (unlisted.putIfAbsent(canonical(key), o) != null) {
                throw new ProtocolException("duplicate map key: " + key);
            }
            return;
        }
        if (order == null) {
            order = new long[size];
            ordered = new BitSet(size);
        }
        if (ordered.get(i)) {
            throw new ProtocolException("duplicate map key: " + get(i));
        }
        ordered.set(i);
        order[i] = o;
    }

    /** The key as the graph pickle names it; a value no key can be is the peer's error. */
    public static Object canonical(Object key) {
        try {
            return PickleValues.canonicalKey(key);
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("update-graph names a key of type " + key.getClass().getSimpleName());
        }
    }

    /**
     * The client's order of a key: of key {@code i} (an {@link #indexOf} result), or for -1 of
     * {@code canonicalKey} if the order names it though the table does not hold it; else {@code absent}.
     */
    public long orderOf(int i, Object canonicalKey, long absent) {
        if (i >= 0) {
            return ordered != null && ordered.get(i) ? order[i] : absent;
        }
        Long o = unlisted.get(canonicalKey);
        return o == null ? absent : o;
    }

    /** The order as the map the client sent: key (decoded) to its position in the client's order. */
    public Map<Object, Object> priorities() {
        return priorities;
    }

    /** Whether {@code p} is this table's {@link #priorities()}. */
    public boolean ordersBy(Map<?, ?> p) {
        return p == priorities;
    }

    /** Lets go of every key and order: the table is empty (and sealed) after. */
    @Override
    public void clear() {
        utf8 = new byte[0];
        used = 0;
        ends = new int[0];
        others = null;
        otherIndex.clear();
        size = 0;
        slots = new int[1];
        order = null;
        ordered = null;
        unlisted.clear();
        taskKeys = null;
    }

    @Override
    public Object get(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException(i);
        }
        if (!isStr(i)) {
            return others[i];
        }
        return new String(utf8, start(i), ends[i] - start(i), StandardCharsets.UTF_8);
    }

    @Override
    public int size() {
        return size;
    }

    private final class Priorities extends AbstractMap<Object, Object> {
        @Override
        public Set<Entry<Object, Object>> entrySet() {
            return new AbstractSet<>() {
                @Override
                public Iterator<Entry<Object, Object>> iterator() {
                    Iterator<Map.Entry<Object, Long>> rest = unlisted.entrySet().iterator();
                    return new Iterator<>() {
                        int next = ordered == null ? -1 : ordered.nextSetBit(0);

                        @Override
                        public boolean hasNext() {
                            return next >= 0 || rest.hasNext();
                        }

                        @Override
                        public Entry<Object, Object> next() {
                            if (next >= 0) {
                                int i = next;
                                next = ordered.nextSetBit(i + 1);
                                return new SimpleImmutableEntry<>(KeyTable.this.get(i), order[i]);
                            }
                            if (!rest.hasNext()) {
                                throw new NoSuchElementException();
                            }
                            Map.Entry<Object, Long> e = rest.next();
                            return new SimpleImmutableEntry<>(e.getKey(), e.getValue());
                        }
                    };
                }

                @Override
                public int size() {
                    return (ordered == null ? 0 : ordered.cardinality()) + unlisted.size();
                }
            };
        }
    }
}
