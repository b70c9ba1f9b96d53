package org.cloudviper.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCounted;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Builds Dask wire bytes by hand and takes decoded values apart again, for tests. */
public final class TestWire {
    private TestWire() {
    }

    /** One framed message with {@code L} covering every byte after itself, as distributed 2022 writes it. */
    public static byte[] message(byte[]... frames) {
        long total = 8 + 8L * frames.length;
        for (byte[] f : frames) {
            total += f.length;
        }
        return message(total, frames.length, frames);
    }

    /** One framed message with the given {@code L} and frame count field (which may lie). */
    public static byte[] message(long l, long n, byte[]... frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(u64(l));
        out.writeBytes(u64(n));
        for (byte[] f : frames) {
            out.writeBytes(u64(f.length));
        }
        for (byte[] f : frames) {
            out.writeBytes(f);
        }
        return out.toByteArray();
    }

    public static byte[] u64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Parses hex such as {@code "92 81 a2"} (spaces ignored). */
    public static byte[] hex(String s) {
        String h = s.replace(" ", "");
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    /** The readable bytes of {@code buf}, without moving its indexes. */
    public static byte[] bytes(ByteBuf buf) {
        byte[] b = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), b);
        return b;
    }

    public static List<byte[]> bytes(Frames frames) {
        List<byte[]> out = new ArrayList<>();
        for (ByteBuf f : frames.frames()) {
            out.add(bytes(f));
        }
        return out;
    }

    /** Frames over fresh heap buffers holding copies of {@code frames}. */
    public static Frames frames(byte[]... frames) {
        List<ByteBuf> l = new ArrayList<>();
        for (byte[] f : frames) {
            l.add(Unpooled.buffer(f.length).writeBytes(f)); // never the unreleasable EMPTY_BUFFER
        }
        return new Frames(l);
    }

    /** Msgpack bytes of a value tree without sub-objects. */
    public static byte[] pack(Object value) {
        return MessageCodec.pack(value);
    }

    /** Cuts {@code data} into fragments of random sizes between 1 and {@code maxFragment}. */
    public static List<byte[]> randomFragments(byte[] data, Random rnd, int maxFragment) {
        List<byte[]> out = new ArrayList<>();
        int i = 0;
        while (i < data.length) {
            int n = Math.min(data.length - i, 1 + rnd.nextInt(maxFragment));
            byte[] f = new byte[n];
            System.arraycopy(data, i, f, 0, n);
            out.add(f);
            i += n;
        }
        return out;
    }

    /** Releases every {@link SubObject} in a decoded value tree (keys included). */
    public static void releaseTree(Object v) {
        for (SubObject s : subObjects(v)) {
            s.release();
        }
    }

    /** Every {@link SubObject} in a decoded value tree, in encounter (= frame) order. */
    public static List<SubObject> subObjects(Object v) {
        List<SubObject> out = new ArrayList<>();
        collect(v, out);
        return out;
    }

    private static void collect(Object v, List<SubObject> out) {
        if (v instanceof SubObject s) {
            out.add(s);
        } else if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                collect(e.getKey(), out);
                collect(e.getValue(), out);
            }
        } else if (v instanceof Collection<?> c) {
            for (Object o : c) {
                collect(o, out);
            }
        }
    }

    /**
     * A copy of a decoded tree that compares by value: {@code byte[]} becomes {@code "bin:<hex>"} and
     * a sub-object {@code "SERIALIZED<header hex|frame hex|...>"}.
     */
    public static Object canonical(Object v) {
        if (v instanceof byte[] b) {
            return "bin:" + HexFormat.of().formatHex(b);
        } else if (v instanceof SubObject s) {
            StringBuilder sb = new StringBuilder(s.kind().name()).append('<').append(HexFormat.of().formatHex(bytes(s.header())));
            for (ByteBuf f : s.frames()) {
                sb.append('|').append(HexFormat.of().formatHex(bytes(f)));
            }
            return sb.append('>').toString();
        } else if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.put(canonical(e.getKey()), canonical(e.getValue()));
            }
            return out;
        } else if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object o : l) {
                out.add(canonical(o));
            }
            return out;
        }
        return v;
    }

    public static void assertAllReleased(Iterable<? extends ReferenceCounted> bufs) {
        int i = 0;
        for (ReferenceCounted b : bufs) {
            if (b.refCnt() != 0) {
                throw new AssertionError("buffer #" + i + " still has refCnt " + b.refCnt() + ": " + b);
            }
            i++;
        }
    }
}
