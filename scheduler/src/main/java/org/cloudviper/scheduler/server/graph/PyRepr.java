package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.layers.LayerException;
import org.cloudviper.protocol.layers.Py;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.List;

/**
 * Python's {@code str()} of the values a 2022.12.1 scheduler stringifies ({@code dask.utils.stringify}
 * turns a tuple key into {@code str(key)}): str, int, float, bool, None, bytes, tuples and lists of
 * these, slices. Byte for byte, since the result is the key every peer uses.
 */
final class PyRepr {
    private PyRepr() {
    }

    /** {@code str(v)} of a key part or key (a tuple as a List). */
    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        repr(v, b, 0);
        return b.toString();
    }

    /** {@code str(v)} of a Py value (stringify of a literal tuple). */
    static String str(Py v) {
        if (v instanceof Py.Lit l && l.value() instanceof String s) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        repr(v, b, 0);
        return b.toString();
    }

    private static void repr(Py v, StringBuilder b, int depth) {
        if (depth > 1000) {
            throw new LayerException("value nested too deeply to stringify");
        }
        if (v instanceof Py.Lit l) {
            repr(l.value(), b, depth);
        } else if (v instanceof Py.KeyRef k) {
            repr(k.key(), b, depth);
        } else if (v instanceof Py.PyTuple t) {
            sequence(t.items(), b, depth, '(', ')', t.items().size() == 1);
        } else if (v instanceof Py.PyList l) {
            sequence(l.items(), b, depth, '[', ']', false);
        } else if (v instanceof Py.Slice s) {
            b.append("slice(");
            repr(s.start(), b, depth);
            b.append(", ");
            repr(s.stop(), b, depth);
            b.append(", ");
            repr(s.step(), b, depth);
            b.append(')');
        } else {
            throw new LayerException("cannot stringify " + v.getClass().getSimpleName() + " as Python would");
        }
    }

    private static void sequence(List<Py> items, StringBuilder b, int depth, char open, char close, boolean comma) {
        b.append(open);
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                b.append(", ");
            }
            repr(items.get(i), b, depth + 1);
        }
        if (comma) {
            b.append(',');
        }
        b.append(close);
    }

    private static void repr(Object v, StringBuilder b, int depth) {
        if (depth > 1000) {
            throw new LayerException("key nested too deeply to stringify");
        }
        if (v == null) {
            b.append("None");
        } else if (v instanceof Boolean x) {
            b.append(x ? "True" : "False");
        } else if (v instanceof Long || v instanceof Integer || v instanceof BigInteger) {
            b.append(v);
        } else if (v instanceof Double d) {
            b.append(floatRepr(d));
        } else if (v instanceof String s) {
            strRepr(s, b);
        } else if (v instanceof byte[] bytes) {
            bytesRepr(bytes, b);
        } else if (v instanceof List<?> l) {
            b.append('(');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    b.append(", ");
                }
                repr(l.get(i), b, depth + 1);
            }
            if (l.size() == 1) {
                b.append(',');
            }
            b.append(')');
        } else {
            throw new LayerException("cannot stringify a " + v.getClass().getSimpleName() + " as Python would");
        }
    }

    /** {@code repr(str)}: single quotes unless the text has one and no double quote. */
    static void strRepr(String s, StringBuilder b) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        b.append(quote);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (escaped(c, quote, b)) {
                continue;
            } else if (c < ' ' || c == 0x7f) {
                b.append(String.format("\\x%02x", c));
            } else if (c < 0x7f || printable(c)) {
                b.appendCodePoint(c);
            } else if (c <= 0xff) {
                b.append(String.format("\\x%02x", c));
            } else if (c <= 0xffff) {
                b.append(String.format("\\u%04x", c));
            } else {
                b.append(String.format("\\U%08x", c));
            }
        }
        b.append(quote);
    }

    /** The escapes {@code repr} of str and bytes share: the quote, backslash, tab, newline, return. */
    private static boolean escaped(int c, char quote, StringBuilder b) {
        switch (c) {
            case '\t' -> b.append("\\t");
            case '\n' -> b.append("\\n");
            case '\r' -> b.append("\\r");
            default -> {
                if (c != quote && c != '\\') {
                    return false;
                }
                b.append('\\').append((char) c);
            }
        }
        return true;
    }

    /** {@code str.isprintable()} for one code point: not Cc, Cf, Cs, Co, Cn, Zl, Zp or Zs (space aside). */
    private static boolean printable(int c) {
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
                    Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                    Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    private static void bytesRepr(byte[] bytes, StringBuilder b) {
        boolean hasSingle = false;
        boolean hasDouble = false;
        for (byte x : bytes) {
            hasSingle |= x == '\'';
            hasDouble |= x == '"';
        }
        char quote = hasSingle && !hasDouble ? '"' : '\'';
        b.append('b').append(quote);
        for (byte x : bytes) {
            int c = x & 0xff;
            if (escaped(c, quote, b)) {
                continue;
            } else if (c < ' ' || c >= 0x7f) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.append((char) c);
            }
        }
        b.append(quote);
    }

    /**
     * {@code repr(float)}: the shortest digits that read back as the same double, in fixed notation
     * when the decimal point falls within 16 digits to the left or 4 to the right, else as
     * {@code d.ddde+XX}; integral values get ".0".
     */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(d);
        BigDecimal shortest = exact;
        for (int p = 1; p <= 17; p++) {
            BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (r.doubleValue() == d) {
                shortest = r;
                break;
            }
        }
        shortest = shortest.stripTrailingZeros();
        String digits = shortest.unscaledValue().abs().toString();
        int decpt = digits.length() - shortest.scale(); // value = 0.digits * 10^decpt
        StringBuilder b = new StringBuilder();
        if (d < 0) {
            b.append('-');
        }
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                b.append("0.");
                b.append("0".repeat(-decpt));
                b.append(digits);
            } else if (decpt >= digits.length()) {
                b.append(digits).append("0".repeat(decpt - digits.length())).append(".0");
            } else {
                b.append(digits, 0, decpt).append('.').append(digits, decpt, digits.length());
            }
        } else {
            b.append(digits.charAt(0));
            if (digits.length() > 1) {
                b.append('.').append(digits, 1, digits.length());
            }
            int exp = decpt - 1;
            b.append('e').append(exp < 0 ? '-' : '+');
            int a = Math.abs(exp);
            if (a < 10) {
                b.append('0');
            }
            b.append(a);
        }
        return b.toString();
    }
}
