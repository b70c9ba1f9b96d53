package org.cloudviper.scheduler.server.graph;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** repr of key parts as CPython 3.11 writes them (expected texts printed by Python itself). */
class PyReprTest {

    private static String str(String s) {
        StringBuilder b = new StringBuilder();
        PyRepr.strRepr(s, b);
        return b.toString();
    }

    @Test
    void strings() {
        assertEquals("'plain'", str("plain"));
        assertEquals("\"it's\"", str("it's"));
        assertEquals("'a\"b\\'c'", str("a\"b'c"));
        assertEquals("'tab\\there\\nnl\\r\\\\'", str("tab\there\nnl\r\\"));
        assertEquals("'\\x01\\x7f'", str("\u0001\u007f"));
        assertEquals("'é€😀\\xa0'", str("é€😀\u00a0"));
    }

    @Test
    void bytesInATuple() {
        assertEquals("(b'ab', 1)", PyRepr.str(List.of("ab".getBytes(StandardCharsets.US_ASCII), 1L)));
        assertEquals("(b\"it's\", 1)", PyRepr.str(List.of("it's".getBytes(StandardCharsets.US_ASCII), 1L)));
        assertEquals("(b'a\"b\\'c', 1)", PyRepr.str(List.of("a\"b'c".getBytes(StandardCharsets.US_ASCII), 1L)));
        assertEquals("(b'\\t\\n\\r\\\\\\x00\\xff', 1)",
                PyRepr.str(List.of(new byte[]{'\t', '\n', '\r', '\\', 0, (byte) 0xff}, 1L)));
    }
}
