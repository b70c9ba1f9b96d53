package org.cloudviper.protocol.pickle;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 as CPython's pickle uses it: strict, except that lone surrogates are allowed
 * ({@code "surrogatepass"}). A surrogate pair encoded as two 3-byte sequences would decode in
 * Python to two code points but in Java to one supplementary character, so it is refused rather
 * than silently re-encoded differently.
 */
final class Utf8 {
    private Utf8() {
    }

    static void validate(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        boolean previousHigh = false;
        while (i < end) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                i++;
                previousHigh = false;
                continue;
            }
            int n;
            int cp;
            if (c >= 0xc2 && c <= 0xdf) {
                n = 1;
                cp = c & 0x1f;
            } else if (c >= 0xe0 && c <= 0xef) {
                n = 2;
                cp = c & 0x0f;
            } else if (c >= 0xf0 && c <= 0xf4) {
                n = 3;
                cp = c & 0x07;
            } else {
                throw bad(i);
            }
            if (i + n >= end) {
                throw bad(i); // truncated sequence
            }
            for (int k = 1; k <= n; k++) {
                int cc = b[i + k] & 0xff;
                if ((cc & 0xc0) != 0x80) {
                    throw bad(i);
                }
                cp = (cp << 6) | (cc & 0x3f);
            }
            if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
                throw bad(i); // overlong or out of range
            }
            boolean high = cp >= 0xd800 && cp <= 0xdbff;
            boolean low = cp >= 0xdc00 && cp <= 0xdfff;
            if (low && previousHigh) {
                throw new PickleException("str holds a surrogate pair encoded as two code points at byte "
                        + (i - off) + " (unsupported)");
            }
            previousHigh = high;
            i += n + 1;
        }
    }

    private static PickleException bad(int at) {
        return new PickleException("str is not valid UTF-8 at pickle offset " + at);
    }

    /** Decodes bytes already checked by {@link #validate}. */
    static String decode(byte[] b, int off, int len) {
        boolean ascii = true;
        for (int i = off; i < off + len; i++) {
            if (b[i] < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(b, off, len, StandardCharsets.ISO_8859_1);
        }
        StringBuilder sb = new StringBuilder(len);
        int i = off;
        int end = off + len;
        while (i < end) {
            int c = b[i] & 0xff;
            if (c < 0x80) {
                sb.append((char) c);
                i++;
            } else if (c < 0xe0) {
                sb.append((char) (((c & 0x1f) << 6) | (b[i + 1] & 0x3f)));
                i += 2;
            } else if (c < 0xf0) {
                sb.append((char) (((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f)));
                i += 3;
            } else {
                int cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6)
                        | (b[i + 3] & 0x3f);
                sb.appendCodePoint(cp);
                i += 4;
            }
        }
        return sb.toString();
    }

    static int encodedLength(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x80) {
                n += 1;
            } else if (ch < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3; // BMP, or a lone surrogate written as Python's surrogatepass does
            }
        }
        return n;
    }

    static byte[] encode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() + 8);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x80) {
                out.write(ch);
            } else if (ch < 0x800) {
                out.write(0xc0 | (ch >> 6));
                out.write(0x80 | (ch & 0x3f));
            } else if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(ch, s.charAt(++i));
                out.write(0xf0 | (cp >> 18));
                out.write(0x80 | ((cp >> 12) & 0x3f));
                out.write(0x80 | ((cp >> 6) & 0x3f));
                out.write(0x80 | (cp & 0x3f));
            } else {
                out.write(0xe0 | (ch >> 12));
                out.write(0x80 | ((ch >> 6) & 0x3f));
                out.write(0x80 | (ch & 0x3f));
            }
        }
        return out.toByteArray();
    }
}
