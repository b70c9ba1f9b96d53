package org.cloudviper.protocol;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** CompactMap behaves as a LinkedHashMap does, and decoded small maps are CompactMaps. */
class CompactMapTest {
    @Test
    void randomOperationsMatchLinkedHashMap() {
        Random rnd = new Random(42);
        for (int round = 0; round < 200; round++) {
            CompactMap<Object, Object> c = new CompactMap<>(rnd.nextInt(4));
            Map<Object, Object> l = new LinkedHashMap<>();
            for (int op = 0; op < 200; op++) {
                Object key = rnd.nextInt(10) == 0 ? null : "k" + rnd.nextInt(24);
                Object value = rnd.nextInt(10) == 0 ? null : rnd.nextInt(100);
                switch (rnd.nextInt(6)) {
                    case 0, 1, 2 -> assertEquals(l.put(key, value), c.put(key, value));
                    case 3 -> assertEquals(l.remove(key), c.remove(key));
                    case 4 -> {
                        Iterator<Map.Entry<Object, Object>> ci = c.entrySet().iterator();
                        Iterator<Map.Entry<Object, Object>> li = l.entrySet().iterator();
                        while (li.hasNext()) {
                            Map.Entry<Object, Object> le = li.next();
                            Map.Entry<Object, Object> ce = ci.next();
                            assertEquals(le, ce);
                            if (rnd.nextInt(4) == 0) {
                                li.remove();
                                ci.remove();
                            } else if (rnd.nextInt(4) == 0) {
                                le.setValue(op);
                                ce.setValue(op);
                            }
                        }
                        assertEquals(false, ci.hasNext());
                    }
                    default -> {
                        assertEquals(l.containsKey(key), c.containsKey(key));
                        assertEquals(l.get(key), c.get(key));
                    }
                }
                assertEquals(l.size(), c.size());
                assertEquals(new ArrayList<>(l.keySet()), new ArrayList<>(c.keySet()), "insertion order");
                assertEquals(l, c);
                assertEquals(l.hashCode(), c.hashCode());
            }
        }
    }

    @Test
    void modificationDuringIterationIsReported() {
        CompactMap<String, Integer> c = new CompactMap<>();
        c.put("a", 1);
        c.put("b", 2);
        Iterator<String> it = c.keySet().iterator();
        it.next();
        c.put("c", 3);
        assertThrows(ConcurrentModificationException.class, it::next);
    }

    @Test
    void smallDecodedMapsAreCompactAndReencodeToTheSameBytes() {
        Map<Object, Object> small = new LinkedHashMap<>();
        for (int i = 0; i < CompactMap.MAX_SMALL; i++) {
            small.put("field" + i, i % 2 == 0 ? (Object) (long) i : List.of("x", (long) i));
        }
        Map<Object, Object> big = new LinkedHashMap<>(small);
        big.put("one-more", true);
        for (Map<Object, Object> m : List.of(small, big)) {
            Frames f = MessageCodec.encode(m);
            Object decoded;
            try {
                decoded = MessageCodec.decode(f);
            } finally {
                f.release();
            }
            assertEquals(m, decoded);
            if (m == small) {
                assertInstanceOf(CompactMap.class, decoded);
            } else {
                assertInstanceOf(LinkedHashMap.class, decoded);
            }
            Frames a = MessageCodec.encode(m);
            Frames b = MessageCodec.encode(decoded);
            try {
                assertEquals(a.frames().get(0), b.frames().get(0));
            } finally {
                a.release();
                b.release();
            }
        }
    }
}
