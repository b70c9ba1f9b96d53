package org.cloudviper.testkit;

import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {

    /** What Python's json.dumps writes for a script result, as the tests compare it. */
    @Test
    void readsWhatPythonWrites() {
        Map<String, Object> m = Json.parseObject(
                "{\"z\": 1, \"a\": [2, 2.5, -0.0, \"s\\u00e9\\n\", true, null], \"n\": NaN, \"i\": -Infinity,"
                        + " \"big\": 123456789012345678901234567890, \"x\": 4999950000}");
        assertEquals(List.of("z", "a", "n", "i", "big", "x"), List.copyOf(m.keySet()), "document order");
        assertEquals(1L, m.get("z"));
        assertEquals(List.of(2L, 2.5, -0.0, "s\u00e9\n", true), ((List<?>) m.get("a")).subList(0, 5));
        assertEquals(null, ((List<?>) m.get("a")).get(5));
        assertTrue(Double.isNaN((Double) m.get("n")));
        assertEquals(Double.NEGATIVE_INFINITY, m.get("i"));
        assertEquals(new BigInteger("123456789012345678901234567890"), m.get("big"));
        assertInstanceOf(Long.class, m.get("x"));
    }

    @Test
    void refusesWhatIsNotOneObject() {
        assertThrows(IllegalArgumentException.class, () -> Json.parseObject("[1]"));
        assertThrows(IllegalArgumentException.class, () -> Json.parseObject("{\"a\": 1} {"));
        assertThrows(IllegalArgumentException.class, () -> Json.parseObject("{\"a\": }"));
    }
}
