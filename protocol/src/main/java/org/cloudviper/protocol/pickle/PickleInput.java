package org.cloudviper.protocol.pickle;

/**
 * The bytes of one pickle as {@link PickleReader}'s parser reads them: the position, the opcode
 * being read and where it started (for errors), and the reads of opcode arguments, each checked
 * against the input left and the {@link PickleLimits} before anything is taken.
 */
abstract class PickleInput {
    final byte[] data;
    final int length;
    final PickleLimits limits;
    int pos;
    /** Where the opcode being read starts, and the opcode. */
    int opPos;
    int op;

    PickleInput(byte[] data, PickleLimits limits) {
        this.data = data;
        this.length = data.length;
        this.limits = limits;
    }

    /** A declared length: never trusted beyond the input left or the configured maximum. */
    final void checkLength(long n, String what) {
        if (n < 0 || n > limits.maxStringBytes()) {
            throw PickleException.limitExceeded("pickle " + what + " length at offset " + opPos, n,
                    limits.maxStringBytes());
        }
        if (n > length - pos) {
            throw new PickleException("pickle truncated: " + what + " of " + n + " bytes at offset " + opPos
                    + " but only " + (length - pos) + " bytes left");
        }
    }

    /** Skips one text line (GLOBAL's module or name), checked as UTF-8; returns its length. */
    final int line() {
        int limit = (int) Math.min(length, pos + (long) limits.maxStringBytes() + 1);
        for (int i = pos; i < limit; i++) {
            if (data[i] == '\n') {
                Utf8.validate(data, pos, i - pos);
                int n = i - pos;
                pos = i + 1;
                return n;
            }
        }
        throw new PickleException("pickle truncated: " + Opcodes.describe(op) + " at offset " + opPos
                + " has no end of line");
    }

    final int decimalLine(String what) {
        long v = 0;
        int i = pos;
        while (i < length && data[i] != '\n') {
            int c = data[i] - '0';
            if (c < 0 || c > 9 || i - pos >= 10) {
                throw new PickleException(what + " at offset " + opPos + " has a malformed memo index");
            }
            v = v * 10 + c;
            i++;
        }
        if (i >= length || i == pos) {
            throw new PickleException("pickle truncated: " + what + " at offset " + opPos + " has no memo index");
        }
        pos = i + 1;
        if (v > Integer.MAX_VALUE) {
            throw PickleException.limitExceeded("pickle memo index", v, limits.maxMemo() - 1L);
        }
        return (int) v;
    }

    final void need(int n) {
        if (length - pos < n) {
            throw new PickleException("pickle truncated: " + Opcodes.describe(op) + " at offset " + opPos
                    + " needs " + n + " argument bytes, " + (length - pos) + " left");
        }
    }

    final int u8() {
        need(1);
        return data[pos++] & 0xff;
    }

    final int i32() {
        need(4);
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | (data[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    final long u32() {
        return i32() & 0xffffffffL;
    }

    final int u32Int(String what) {
        long v = u32();
        if (v > Integer.MAX_VALUE) {
            throw PickleException.limitExceeded(what + " memo index", v, limits.maxMemo() - 1L);
        }
        return (int) v;
    }

    /** Unsigned 64-bit; values beyond 2^63 come back negative and fail every length check. */
    final long u64() {
        need(8);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (data[pos + i] & 0xff);
        }
        pos += 8;
        return v;
    }
}
