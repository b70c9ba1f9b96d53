package org.cloudviper.protocol;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * An insertion-ordered map in one array, for the small maps every Dask message is made of (an op and
 * a dozen fields): a LinkedHashMap of ten entries takes about 540 bytes (map, table, an entry object
 * each) against about 120 here (one object and one array), and allocating that
 * for each of millions of messages was a large part of the codec's cost. Lookups scan, so it is meant
 * for a few dozen entries at most; {@link #forSize} and the decoder use it up to {@link #MAX_SMALL}
 * entries.
 * Null keys and values are allowed. Not thread-safe.
 */
public final class CompactMap<K, V> extends AbstractMap<K, V> {
    /** Maps for up to this many entries are CompactMaps ({@link #forSize}, decoded msgpack maps). */
    public static final int MAX_SMALL = 16;

    private Object[] keysAndValues;
    private int size;
    private int modCount;

    public CompactMap(int expectedSize) {
        keysAndValues = new Object[2 * Math.max(expectedSize, 1)];
    }

    public CompactMap() {
        this(4);
    }

    /**
     * A map for about {@code expectedSize} entries: a CompactMap up to {@link #MAX_SMALL}, whose
     * lookups scan, a LinkedHashMap beyond (its initial capacity capped, as {@code expectedSize} may
     * come from a peer).
     */
    public static <K, V> Map<K, V> forSize(int expectedSize) {
        return expectedSize <= MAX_SMALL ? new CompactMap<>(expectedSize)
                : new LinkedHashMap<>(Math.min(expectedSize, 1 << 16) * 4 / 3 + 1);
    }

    private int indexOf(Object key) {
        Object[] kv = keysAndValues;
        for (int i = 0, n = 2 * size; i < n; i += 2) {
            Object k = kv[i];
            if (k == key || k != null && k.equals(key)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int size() {
        return size;
    }

    /** For the encoder: entries by position, with no iterator or entry objects. */
    Object keyAt(int i) {
        return keysAndValues[2 * i];
    }

    Object valueAt(int i) {
        return keysAndValues[2 * i + 1];
    }

    @Override
    public boolean containsKey(Object key) {
        return indexOf(key) >= 0;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        int i = indexOf(key);
        return i < 0 ? null : (V) keysAndValues[i + 1];
    }

    @Override
    @SuppressWarnings("unchecked")
    public V put(K key, V value) {
        int i = indexOf(key);
        if (i >= 0) {
            V old = (V) keysAndValues[i + 1];
            keysAndValues[i + 1] = value;
            return old;
        }
        append(key, value);
        return null;
    }

    /** Adds {@code key} unless present (then returns false and changes nothing): one scan. */
    boolean putIfNew(K key, V value) {
        if (indexOf(key) >= 0) {
            return false;
        }
        append(key, value);
        return true;
    }

    private void append(K key, V value) {
        int at = 2 * size;
        if (at == keysAndValues.length) {
            keysAndValues = java.util.Arrays.copyOf(keysAndValues, 2 * keysAndValues.length);
        }
        keysAndValues[at] = key;
        keysAndValues[at + 1] = value;
        size++;
        modCount++;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V remove(Object key) {
        int i = indexOf(key);
        if (i < 0) {
            return null;
        }
        V old = (V) keysAndValues[i + 1];
        removeAt(i);
        return old;
    }

    private void removeAt(int i) {
        int n = 2 * size;
        System.arraycopy(keysAndValues, i + 2, keysAndValues, i, n - i - 2);
        keysAndValues[n - 2] = null;
        keysAndValues[n - 1] = null;
        size--;
        modCount++;
    }

    @Override
    public void clear() {
        java.util.Arrays.fill(keysAndValues, 0, 2 * size, null);
        size = 0;
        modCount++;
    }

    @Override
    public Set<Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public Iterator<Entry<K, V>> iterator() {
                return new Entries();
            }
        };
    }

    private final class Entries implements Iterator<Entry<K, V>> {
        private int next; // index of the next key
        private int last = -1;
        private int expectedModCount = modCount;

        @Override
        public boolean hasNext() {
            return next < 2 * size;
        }

        @Override
        public Entry<K, V> next() {
            if (modCount != expectedModCount) {
                throw new ConcurrentModificationException();
            }
            if (next >= 2 * size) {
                throw new NoSuchElementException();
            }
            last = next;
            next += 2;
            return new Slot(last);
        }

        @Override
        public void remove() {
            if (last < 0) {
                throw new IllegalStateException();
            }
            if (modCount != expectedModCount) {
                throw new ConcurrentModificationException();
            }
            removeAt(last);
            next = last;
            last = -1;
            expectedModCount = modCount;
        }
    }

    /** An entry that reads and writes through to its slot. */
    private final class Slot implements Map.Entry<K, V> {
        private final int at;

        Slot(int at) {
            this.at = at;
        }

        @Override
        @SuppressWarnings("unchecked")
        public K getKey() {
            return (K) keysAndValues[at];
        }

        @Override
        @SuppressWarnings("unchecked")
        public V getValue() {
            return (V) keysAndValues[at + 1];
        }

        @Override
        @SuppressWarnings("unchecked")
        public V setValue(V value) {
            V old = (V) keysAndValues[at + 1];
            keysAndValues[at + 1] = value;
            return old;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Map.Entry<?, ?> e && Objects.equals(getKey(), e.getKey())
                    && Objects.equals(getValue(), e.getValue());
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(getKey()) ^ Objects.hashCode(getValue());
        }

        @Override
        public String toString() {
            return getKey() + "=" + getValue();
        }
    }
}
