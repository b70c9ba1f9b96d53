package org.cloudviper.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;

import java.util.Arrays;
import java.util.List;

/**
 * Reads msgpack from bytes that arrive piece by piece: a large frame 0 while it is still being
 * received, so that its values are taken as they come instead of after the whole frame is buffered.
 *
 * <p>A read that needs bytes not yet appended throws {@link #UNDERFLOW} and leaves the position
 * wherever it stopped: callers {@link #mark} before each item they read as a whole and
 * {@link #rewind} to it on underflow, then try again after the next {@link #append}. Bytes before
 * the last mark an item was read from are released with {@link #discardRead}.
 *
 * <p>Lengths are checked against the frame's end before anything is allocated for them, as
 * {@link MessageCodec} does. Values read with {@link #readValue} (and items decoded later from
 * {@link #readRaw}) are exactly what {@link MessageCodec#decode} gives for the same bytes.
 */
public final class MsgpackCursor implements AutoCloseable {
    /** More bytes are needed; thrown without a stack trace (it is control flow, not an error). */
    public static final class Underflow extends RuntimeException {
        private Underflow() {
            super("msgpack value continues past the bytes received so far", null, false, false);
        }
    }

    public static final Underflow UNDERFLOW = new Underflow();

    /** msgpack format families ({@link #peekType}). */
    public enum Type { NIL, BOOLEAN, INTEGER, FLOAT, STR, BIN, ARRAY, MAP, EXTENSION }

    private final CompositeByteBuf buf;
    /** Bytes of the frame not yet appended. */
    private long frameLeft;
    /** Bytes released from the front so far: positions are absolute within the frame. */
    private long discarded;

    /** @param frameLength the frame's total length, announced by its prelude */
    public MsgpackCursor(ByteBufAllocator alloc, long frameLength) {
        // Not through alloc.compositeBuffer: under paranoid leak detection that wrapper records a
        // stack trace on every read, which made a 2 MiB graph take seconds. The pieces themselves
        // stay tracked, so a leak is still reported.
        this.buf = new CompositeByteBuf(alloc, false, Integer.MAX_VALUE);
        this.frameLeft = frameLength;
    }

    /** Takes ownership of {@code piece}, the frame's next bytes. */
    public void append(ByteBuf piece) {
        int n = piece.readableBytes();
        if (n > frameLeft) {
            piece.release();
            throw new IllegalArgumentException("piece of " + n + " bytes (expected: <= " + frameLeft + ")");
        }
        frameLeft -= n;
        buf.addComponent(true, piece);
    }

    /** Whether every byte of the frame has been appended. */
    public boolean complete() {
        return frameLeft == 0;
    }

    /** Bytes appended and not yet read. */
    public int available() {
        return buf.readableBytes();
    }

    /** Whether the frame has been read to its end. */
    public boolean atEnd() {
        return frameLeft == 0 && buf.readableBytes() == 0;
    }

    /** The read position, absolute within the frame. */
    public long position() {
        return discarded + buf.readerIndex();
    }

    public int mark() {
        return buf.readerIndex();
    }

    public void rewind(int mark) {
        buf.readerIndex(mark);
    }

    /** Releases the pieces read past; marks taken before are invalid afterwards. */
    public void discardRead() {
        int before = buf.readerIndex();
        buf.discardReadComponents();
        discarded += before - buf.readerIndex();
    }

    /** Bytes from the read position to the frame's end, appended or not. */
    private long remaining() {
        return buf.readableBytes() + frameLeft;
    }

    private void need(int n) {
        if (buf.readableBytes() < n) {
            throw UNDERFLOW;
        }
    }

    private int u8() {
        need(1);
        return buf.readUnsignedByte();
    }

    /** The format byte of the next value, not consumed. */
    public int peek() {
        need(1);
        return buf.getUnsignedByte(buf.readerIndex());
    }

    public Type peekType() {
        return type(peek());
    }

    static Type type(int f) {
        if (f <= 0x7f || f >= 0xe0) {
            return Type.INTEGER;
        }
        if (f <= 0x8f) {
            return Type.MAP;
        }
        if (f <= 0x9f) {
            return Type.ARRAY;
        }
        if (f <= 0xbf) {
            return Type.STR;
        }
        return switch (f) {
            case 0xc0 -> Type.NIL;
            case 0xc2, 0xc3 -> Type.BOOLEAN;
            case 0xc4, 0xc5, 0xc6 -> Type.BIN;
            case 0xca, 0xcb -> Type.FLOAT;
            case 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3 -> Type.INTEGER;
            case 0xd9, 0xda, 0xdb -> Type.STR;
            case 0xdc, 0xdd -> Type.ARRAY;
            case 0xde, 0xdf -> Type.MAP;
            case 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8 -> Type.EXTENSION;
            default -> throw new ProtocolException("malformed msgpack: format byte 0x" + Integer.toHexString(f));
        };
    }

    /** An unsigned big-endian length of {@code bytes} bytes, checked against what the frame can still hold. */
    private int length(int bytes, String what) {
        need(bytes);
        long n = switch (bytes) {
            case 1 -> buf.readUnsignedByte();
            case 2 -> buf.readUnsignedShort();
            default -> buf.readUnsignedInt();
        };
        return checked(n, what);
    }

    private int checked(long n, String what) {
        // A length (or count: each element is at least one byte) can never exceed what is left.
        if (n > remaining()) {
            throw ProtocolException.limit("msgpack " + what, n, remaining());
        }
        return (int) n;
    }

    public int readMapHeader() {
        int f = u8();
        if (f >= 0x80 && f <= 0x8f) {
            return checked(f & 0x0f, "map size");
        }
        return switch (f) {
            case 0xde -> length(2, "map size");
            case 0xdf -> length(4, "map size");
            default -> throw expected("a map", f);
        };
    }

    public int readArrayHeader() {
        int f = u8();
        if (f >= 0x90 && f <= 0x9f) {
            return checked(f & 0x0f, "array size");
        }
        return switch (f) {
            case 0xdc -> length(2, "array size");
            case 0xdd -> length(4, "array size");
            default -> throw expected("an array", f);
        };
    }

    private int strLength() {
        int f = u8();
        if (f >= 0xa0 && f <= 0xbf) {
            return checked(f & 0x1f, "length");
        }
        return switch (f) {
            case 0xd9 -> length(1, "length");
            case 0xda -> length(2, "length");
            case 0xdb -> length(4, "length");
            default -> throw expected("a str", f);
        };
    }

    private int binLength() {
        int f = u8();
        return switch (f) {
            case 0xc4 -> length(1, "length");
            case 0xc5 -> length(2, "length");
            case 0xc6 -> length(4, "length");
            default -> throw expected("a bin", f);
        };
    }

    /** A str, strict UTF-8 as Python's {@code raw=False} reads it. */
    public String readStr() {
        int n = strLength();
        need(n);
        byte[] b = n <= STR_SCRATCH ? strScratch : new byte[n];
        buf.readBytes(b, 0, n);
        return MessageCodec.strictUtf8(b, n);
    }

    private static final int STR_SCRATCH = 4096;
    private final byte[] strScratch = new byte[STR_SCRATCH];
    private byte[] strBytes = strScratch;

    /**
     * Reads a str as {@link #readStr} does (strict UTF-8), without making a String of it: returns its
     * length in bytes, the bytes being the start of {@link #strBytes()} until the next call.
     */
    public int readStrBytes() {
        int n = strLength();
        need(n);
        if (n > strBytes.length) {
            strBytes = new byte[Math.max(n, 2 * strBytes.length)];
        }
        buf.readBytes(strBytes, 0, n);
        for (int i = 0; i < n; i++) {
            if (strBytes[i] < 0) {
                MessageCodec.strictUtf8(strBytes, n); // not ASCII: checked strictly, the String dropped
                break;
            }
        }
        return n;
    }

    /** The bytes of the last {@link #readStrBytes}. */
    public byte[] strBytes() {
        return strBytes;
    }

    /** Whether the next value is the str {@code s} (ASCII); consumes it only if so. */
    public boolean readStrIf(String s) {
        int mark = mark();
        if (peekType() != Type.STR) {
            return false;
        }
        int n = strLength();
        need(n);
        boolean same = n == s.length();
        for (int i = 0; same && i < n; i++) {
            same = buf.getByte(buf.readerIndex() + i) == s.charAt(i);
        }
        if (same) {
            buf.skipBytes(n);
        } else {
            rewind(mark);
        }
        return same;
    }

    public byte[] readBin() {
        int n = binLength();
        need(n);
        byte[] b = new byte[n];
        buf.readBytes(b);
        return b;
    }

    /** A bin equal to {@code seen}, consumed, returns {@code seen}; else null and nothing consumed. */
    public byte[] readBinIfEqual(byte[] seen) {
        int mark = mark();
        int n = binLength();
        need(n);
        if (n == seen.length && equalAt(buf.readerIndex(), seen)) {
            buf.skipBytes(n);
            return seen;
        }
        rewind(mark);
        return null;
    }

    private boolean equalAt(int index, byte[] b) {
        int off = 0;
        while (off < b.length) {
            int n = Math.min(b.length - off, compare.length);
            buf.getBytes(index + off, compare, 0, n);
            if (!Arrays.equals(compare, 0, n, b, off, off + n)) {
                return false;
            }
            off += n;
        }
        return true;
    }

    private final byte[] compare = new byte[1024];

    /** The header of a bin whose payload the caller takes with {@link #readPayload}; its length. */
    public int readBinHeader() {
        return binLength();
    }

    /** Copies up to {@code n} bytes of payload (as many as have arrived) into {@code dst}; how many. */
    public int readPayload(byte[] dst, int off, int n) {
        int k = Math.min(n, buf.readableBytes());
        buf.readBytes(dst, off, k);
        return k;
    }

    public boolean readNilIf() {
        if (peek() == 0xc0) {
            buf.skipBytes(1);
            return true;
        }
        return false;
    }

    /** A msgpack int that fits a signed 64-bit value. */
    public long readLong() {
        int f = u8();
        if (f <= 0x7f) {
            return f;
        }
        if (f >= 0xe0) {
            return (byte) f;
        }
        switch (f) {
            case 0xcc: need(1); return buf.readUnsignedByte();
            case 0xcd: need(2); return buf.readUnsignedShort();
            case 0xce: need(4); return buf.readUnsignedInt();
            case 0xcf: {
                need(8);
                long v = buf.readLong();
                if (v < 0) {
                    throw new ProtocolException("msgpack uint64 " + Long.toUnsignedString(v) + " does not fit a signed long");
                }
                return v;
            }
            case 0xd0: need(1); return buf.readByte();
            case 0xd1: need(2); return buf.readShort();
            case 0xd2: need(4); return buf.readInt();
            case 0xd3: need(8); return buf.readLong();
            default: throw expected("an int", f);
        }
    }

    /** Steps over the next value, however nested, without building it. */
    public void skip() {
        long pending = 1;
        while (pending > 0) {
            pending--;
            int f = u8();
            if (f <= 0x7f || f >= 0xe0 || f == 0xc0 || f == 0xc2 || f == 0xc3) {
                continue;
            }
            if (f <= 0x8f) {
                pending += 2L * (f & 0x0f);
            } else if (f <= 0x9f) {
                pending += f & 0x0f;
            } else if (f <= 0xbf) {
                skipBytes(f & 0x1f);
            } else {
                switch (f) {
                    case 0xc4, 0xd9 -> skipBytes(length(1, "length"));
                    case 0xc5, 0xda -> skipBytes(length(2, "length"));
                    case 0xc6, 0xdb -> skipBytes(length(4, "length"));
                    case 0xc7 -> skipBytes(length(1, "length") + 1);
                    case 0xc8 -> skipBytes(length(2, "length") + 1);
                    case 0xc9 -> skipBytes(length(4, "length") + 1);
                    case 0xca -> skipBytes(4);
                    case 0xcb -> skipBytes(8);
                    case 0xcc, 0xd0 -> skipBytes(1);
                    case 0xcd, 0xd1 -> skipBytes(2);
                    case 0xce, 0xd2 -> skipBytes(4);
                    case 0xcf, 0xd3 -> skipBytes(8);
                    case 0xd4 -> skipBytes(2);
                    case 0xd5 -> skipBytes(3);
                    case 0xd6 -> skipBytes(5);
                    case 0xd7 -> skipBytes(9);
                    case 0xd8 -> skipBytes(17);
                    case 0xdc -> pending += length(2, "array size");
                    case 0xdd -> pending += length(4, "array size");
                    case 0xde -> pending += 2L * length(2, "map size");
                    case 0xdf -> pending += 2L * length(4, "map size");
                    default -> throw new ProtocolException("malformed msgpack: format byte 0x" + Integer.toHexString(f));
                }
            }
            if (pending > remaining()) {
                throw ProtocolException.limit("msgpack values pending", pending, remaining());
            }
        }
    }

    private void skipBytes(int n) {
        need(n);
        buf.skipBytes(n);
    }

    /** The next value's msgpack bytes, copied: for decoding later, once the message's other frames are there. */
    public byte[] readRaw() {
        int start = buf.readerIndex();
        skip();
        byte[] b = new byte[buf.readerIndex() - start];
        buf.getBytes(start, b);
        return b;
    }

    /**
     * The next value as {@link MessageCodec#decode} builds it, for values that hold no sub-object
     * (keys, counts, flags); a sub-object placeholder in it is a {@link ProtocolException}.
     */
    public Object readValue() {
        if (peekType() == Type.STR) {
            return readStr();
        }
        return MessageCodec.decodeValue(Unpooled.wrappedBuffer(readRaw()));
    }

    /** Decodes raw bytes from {@link #readRaw} with the message's frames ({@code rest}: frames 1..n). */
    public static Object decodeRaw(byte[] raw, List<ByteBuf> rest) {
        ByteBuf[] frames = new ByteBuf[rest.size() + 1];
        frames[0] = Unpooled.wrappedBuffer(raw);
        for (int i = 0; i < rest.size(); i++) {
            frames[i + 1] = rest.get(i);
        }
        return MessageCodec.decode(new Frames(Arrays.asList(frames)));
    }

    private static ProtocolException expected(String what, int f) {
        return new ProtocolException("malformed message: expected " + what + ", got msgpack format 0x"
                + Integer.toHexString(f));
    }

    /** Releases every piece still held. */
    @Override
    public void close() {
        if (buf.refCnt() > 0) {
            buf.release();
        }
    }
}
