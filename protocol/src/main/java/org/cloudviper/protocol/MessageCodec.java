package org.cloudviper.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.msgpack.core.MessagePacker;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.core.buffer.ArrayBufferInput;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Converts between the frames of one Dask message and a tree of plain Java values.
 *
 * <p>Values: {@code Map<Object,Object>} (insertion ordered), {@code List<Object>} (msgpack arrays;
 * Python reads them back as tuples), {@code String}, {@code byte[]}, {@code Long} (or
 * {@code BigInteger} beyond signed 64 bits), {@code Double}, {@code Boolean}, {@code null} and
 * {@link SubObject} for {@code {"__Serialized__": i}} / {@code {"__Pickled__": i}} placeholders.
 * Markers such as {@code {"__Set__": true, "as-list": [...]}} stay plain maps, so a decoded
 * message re-encodes to the same bytes (see distributed/protocol/core.py dumps/loads).
 */
public final class MessageCodec {
    /** A packer and the array it packs into, per thread, reused for every message. */
    private static final class Packing {
        final ReusableBufferOutput out = new ReusableBufferOutput();
        final MessagePacker packer = MessagePack.DEFAULT_PACKER_CONFIG.newPacker(out);
        /** Room for one short ASCII str, see {@link #packString}. */
        final byte[] ascii = new byte[SHORT_ASCII];
        /** Set while an encode uses this packer: one nested inside it gets a packer of its own. */
        boolean busy;
    }

    private static final int SHORT_ASCII = 256;

    /**
     * msgpack-java encodes a short str with String.getBytes, a new array per str; nearly every str a
     * Dask message holds (ops, field names, keys, statuses) is short ASCII, so those go from their
     * chars straight to the packer.
     */
    private static void packString(Packing k, String s) throws IOException {
        int n = s.length();
        if (n <= SHORT_ASCII) {
            byte[] b = k.ascii;
            int i = 0;
            for (; i < n; i++) {
                char c = s.charAt(i);
                if (c >= 0x80) {
                    break;
                }
                b[i] = (byte) c;
            }
            if (i == n) {
                k.packer.packRawStringHeader(n);
                k.packer.writePayload(b, 0, n);
                return;
            }
        }
        k.packer.packString(s);
    }

    private static final ThreadLocal<Packing> PACKING = ThreadLocal.withInitial(Packing::new);
    /** The packer of an encode nested in one (a deferred sub-object's header, once per compute-task). */
    private static final ThreadLocal<Packing> NESTED_PACKING = ThreadLocal.withInitial(Packing::new);
    private static final ThreadLocal<ShortStrings> SHORT_STRINGS = ThreadLocal.withInitial(ShortStrings::new);

    /**
     * Per decoding thread: the short strs decoded lately, by a hash of their bytes (direct-mapped,
     * a newer one replaces an older one in its slot). Only valid UTF-8 gets in, so a hit needs no check.
     */
    private static final class ShortStrings {
        static final int MAX_LENGTH = 24;
        static final int SLOTS = 512;
        /** Longer strs are read into this first when they fit, so only the String is allocated. */
        static final int LONG_SCRATCH = 4096;
        final byte[] scratch = new byte[LONG_SCRATCH];
        final byte[][] bytes = new byte[SLOTS][];
        final String[] strings = new String[SLOTS];
        /**
         * Per slot, the hash of the last str that missed there: a str enters the cache on its second
         * miss, so keys and stimulus ids (each seen once) do not evict the field names and ops.
         */
        final int[] missed = new int[SLOTS];
    }

    /** Nesting deeper than this is a hostile peer, not a Dask message. */
    static final int MAX_DEPTH = 256;

    private MessageCodec() {
    }

    /**
     * Decodes frame 0 of {@code frames}; sub-objects retain their own slices of the other frames.
     * Does not release {@code frames}.
     */
    public static Object decode(Frames frames) {
        List<ByteBuf> fs = frames.frames();
        if (fs.isEmpty()) {
            throw new ProtocolException("message has no frames (expected: >= 1)");
        }
        ByteBuf f0 = fs.get(0);
        Reader r = null;
        Unpacking k = UNPACKING.get();
        try {
            MessageUnpacker u = k.open(f0);
            r = new Reader(u, fs);
            Object value = r.read(0);
            if (u.hasNext()) {
                throw new ProtocolException("frame 0 has trailing bytes after the msgpack value");
            }
            return value;
        } catch (MessagePackException | IOException e) {
            release(r);
            throw new ProtocolException("malformed msgpack in frame 0: " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            // The half-built tree is garbage once this returns, so the process goes on; the peer that
            // sent it is disconnected like any other that broke a limit.
            release(r);
            throw new ProtocolException("message of " + frames.totalBytes() + " bytes: did not fit in the heap (max "
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MiB); give the JVM a larger -Xmx", e);
        } catch (RuntimeException | Error e) {
            release(r);
            throw e;
        } finally {
            k.close();
        }
    }

    /**
     * Per decoding thread, one unpacker reset for every frame 0, and a copy of the frame when it is
     * off-heap: the decoded tree holds no reference into either (strs and binaries are copied out,
     * sub-objects slice the other frames), and decoding never re-enters on one thread.
     */
    private static final class Unpacking {
        private static final int KEPT_SCRATCH_BYTES = 1 << 20;
        private final ArrayBufferInput in = new ArrayBufferInput(new byte[0]);
        private final MessageUnpacker unpacker = MessagePack.DEFAULT_UNPACKER_CONFIG.newUnpacker(in);
        private byte[] scratch = new byte[4096];

        MessageUnpacker open(ByteBuf b) throws IOException {
            int n = b.readableBytes();
            if (b.hasArray()) {
                in.reset(b.array(), b.arrayOffset() + b.readerIndex(), n);
            } else {
                byte[] copy = n <= scratch.length ? scratch
                        : n <= KEPT_SCRATCH_BYTES ? (scratch = new byte[Integer.highestOneBit(n - 1) << 1])
                        : new byte[n];
                b.getBytes(b.readerIndex(), copy, 0, n);
                in.reset(copy, 0, n);
            }
            unpacker.reset(in);
            return unpacker;
        }

        void close() {
            in.reset(EMPTY, 0, 0); // drop the frame's array (a large one must not stay reachable)
        }

        private static final byte[] EMPTY = new byte[0];
    }

    private static final ThreadLocal<Unpacking> UNPACKING = ThreadLocal.withInitial(Unpacking::new);

    static MessageUnpacker unpacker(ByteBuf b) {
        if (b.hasArray()) {
            return MessagePack.newDefaultUnpacker(b.array(), b.arrayOffset() + b.readerIndex(), b.readableBytes());
        }
        return MessagePack.newDefaultUnpacker(ByteBufUtil.getBytes(b));
    }

    /** A failed decode owns the sub-objects it already resolved: free their frame references. */
    private static void release(Reader r) {
        if (r != null) {
            for (SubObject s : r.resolved) {
                s.release();
            }
        }
    }

    /**
     * Releases every sub-object in a decoded tree once. Ownership rule of the project: whoever decoded
     * a message releases its tree after handling it; code that keeps a sub-object retains it first.
     */
    public static void release(Object tree) {
        if (tree instanceof SubObject s) {
            if (s.refCnt() > 0) {
                s.release();
            }
        } else if (tree instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                release(e.getKey());
                release(e.getValue());
            }
        } else if (tree instanceof List<?> l) {
            for (Object o : l) {
                release(o);
            }
        }
    }

    /**
     * Retains every sub-object in a tree once: for code that uses a decoded value after its message
     * is released (an asynchronous call that encodes it later); it releases the tree when done.
     */
    public static void retain(Object tree) {
        if (tree instanceof SubObject s) {
            s.retain();
        } else if (tree instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                retain(e.getKey());
                retain(e.getValue());
            }
        } else if (tree instanceof List<?> l) {
            for (Object o : l) {
                retain(o);
            }
        }
    }

    /**
     * Decodes {@code frames}, releases them, hands the tree to {@code use}, then releases the tree's
     * sub-objects: the one ownership path for a received message. Sub-objects only come from frames
     * after frame 0, so a one-frame message (every small stream batch) is not walked again.
     */
    public static void withDecoded(Frames frames, java.util.function.Consumer<Object> use) {
        boolean mayHoldSubObjects = frames.count() > 1;
        Object tree;
        try {
            tree = decode(frames);
        } finally {
            frames.release();
        }
        try {
            use.accept(tree);
        } finally {
            if (mayHoldSubObjects) {
                release(tree);
            }
        }
    }

    /** A msgpack str's bytes, strict like Python's {@code raw=False}: malformed UTF-8 is an error, not U+FFFD. */
    static String strictUtf8(byte[] b, int n) {
        // The JDK's lenient decoder is the fast one (an intrinsic ASCII check, then a plain copy);
        // it turns malformed input into U+FFFD, so only a result holding U+FFFD, never an ASCII
        // one, is decoded again strictly to tell a real U+FFFD from a malformed byte.
        String fast = new String(b, 0, n, StandardCharsets.UTF_8);
        if (fast.indexOf('\uFFFD') < 0) {
            return fast;
        }
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return strict.decode(ByteBuffer.wrap(b, 0, n)).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolException("msgpack str of " + n + " bytes is not valid UTF-8", e);
        }
    }

    /** Decodes one standalone msgpack value (no sub-objects possible). */
    public static Object decodeValue(ByteBuf buf) {
        return decode(new Frames(List.of(buf)));
    }

    /**
     * Encodes {@code message} into frames: frame 0 plus, for every sub-object met, its header and data
     * frames (retained duplicates: the caller keeps its own references).
     */
    public static Frames encode(Object message) {
        // One packer and output array per thread, reused (ReusableBufferOutput says why). A
        // DeferredSubObject may encode its own header while its message is being written: that
        // nested encode packs with a second packer kept per thread.
        List<ByteBuf> out = new ArrayList<>(1);
        out.add(null);
        ThreadLocal<Packing> local = PACKING.get().busy ? NESTED_PACKING : PACKING;
        Packing shared = local.get();
        Packing k = shared.busy ? new Packing() : shared; // deeper nesting: rare, a packer of its own
        k.busy = true;
        k.out.reset();
        try {
            write(k, message, out, 0);
            k.packer.flush();
            out.set(0, k.out.take());
            k.busy = false;
        } catch (IOException e) {
            if (k == shared) {
                local.remove(); // a packer stopped half-way is not reused
            }
            throw new IllegalStateException("in-memory msgpack packing failed", e);
        } catch (RuntimeException e) {
            if (k == shared) {
                local.remove();
            }
            for (ByteBuf b : out) {
                if (b != null) {
                    b.release();
                }
            }
            throw e;
        }
        return new Frames(out);
    }

    /** Packs one standalone value with no sub-objects, for caching as {@link RawMsgpack}. */
    public static byte[] pack(Object value) {
        Frames f = encode(value);
        try {
            if (f.count() != 1) {
                throw new IllegalArgumentException("value holds sub-objects");
            }
            ByteBuf b = f.frames().get(0);
            byte[] bytes = new byte[b.readableBytes()];
            b.getBytes(b.readerIndex(), bytes);
            return bytes;
        } finally {
            f.release();
        }
    }

    private static void write(Packing k, Object v, List<ByteBuf> out, int depth) throws IOException {
        MessagePacker p = k.packer;
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("message nesting: " + depth + " (expected: <= " + MAX_DEPTH + ")");
        }
        if (v == null) {
            p.packNil();
        } else if (v instanceof String s) {
            packString(k, s);
        } else if (v instanceof Long l) {
            p.packLong(l);
        } else if (v instanceof Integer i) {
            p.packInt(i);
        } else if (v instanceof CompactMap<?, ?> m) {
            int n = m.size();
            p.packMapHeader(n);
            for (int i = 0; i < n; i++) {
                write(k, m.keyAt(i), out, depth + 1);
                write(k, m.valueAt(i), out, depth + 1);
            }
        } else if (v instanceof Map<?, ?> m) {
            p.packMapHeader(m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) {
                write(k, e.getKey(), out, depth + 1);
                write(k, e.getValue(), out, depth + 1);
            }
        } else if (v instanceof List<?> l) {
            p.packArrayHeader(l.size());
            for (Object o : l) {
                write(k, o, out, depth + 1);
            }
        } else if (v instanceof byte[] b) {
            p.packBinaryHeader(b.length);
            p.writePayload(b);
        } else if (v instanceof Double d) {
            p.packDouble(d);
        } else if (v instanceof Boolean b) {
            p.packBoolean(b);
        } else if (v instanceof SubObject s) {
            p.packMapHeader(1);
            p.packString(s.kind().marker());
            p.packInt(out.size());
            out.add(s.header().retainedDuplicate());
            for (ByteBuf f : s.frames()) {
                out.add(f.retainedDuplicate());
            }
        } else if (v instanceof DeferredSubObject d) {
            SubObject s = d.materialize();
            try {
                write(k, s, out, depth);
            } finally {
                s.release();
            }
        } else if (v instanceof RawMsgpack r) {
            p.writePayload(r.bytes());
        } else if (v instanceof Collection<?> c) {
            p.packArrayHeader(c.size());
            for (Object o : c) {
                write(k, o, out, depth + 1);
            }
        } else if (v instanceof Object[] a) {
            p.packArrayHeader(a.length);
            for (Object o : a) {
                write(k, o, out, depth + 1);
            }
        } else if (v instanceof Short || v instanceof Byte) {
            p.packLong(((Number) v).longValue());
        } else if (v instanceof BigInteger b) {
            p.packBigInteger(b);
        } else if (v instanceof Float f) {
            p.packDouble(f);
        } else if (v instanceof Enum<?> e) {
            p.packString(e.toString());
        } else {
            throw new IllegalArgumentException("cannot encode " + v.getClass().getName() + " as msgpack");
        }
    }

    /** Reads one msgpack value, resolving sub-object placeholders against the message's frames. */
    private static final class Reader {
        private final MessageUnpacker u;
        private final List<ByteBuf> frames;
        /**
         * Frame 0's length, read once: asking the frame on every length check made a call site that
         * sees every ByteBuf and List class the connections produce, and the JIT recompiled the
         * whole recursive reader each time a new one showed up (JFR: class_check deoptimizations).
         */
        private final int frame0Length;
        /** Every sub-object created so far, to release them if the message turns out malformed. */
        final List<SubObject> resolved = new ArrayList<>();

        Reader(MessageUnpacker u, List<ByteBuf> frames) {
            this.u = u;
            this.frames = frames;
            this.frame0Length = frames.get(0).readableBytes();
        }

        Object read(int depth) throws IOException {
            if (depth > MAX_DEPTH) {
                throw ProtocolException.limit("message nesting", depth, MAX_DEPTH);
            }
            MessageFormat f = u.getNextFormat();
            switch (f.getValueType()) {
                case NIL:
                    u.unpackNil();
                    return null;
                case BOOLEAN:
                    return u.unpackBoolean();
                case INTEGER:
                    if (f == MessageFormat.UINT64) {
                        BigInteger b = u.unpackBigInteger();
                        return b.bitLength() < 64 ? (Object) b.longValue() : b;
                    }
                    return u.unpackLong();
                case FLOAT:
                    return u.unpackDouble();
                case STRING: {
                    int n = u.unpackRawStringHeader();
                    checkLength(n);
                    if (n <= ShortStrings.MAX_LENGTH) {
                        return shortString(n);
                    }
                    if (n <= ShortStrings.LONG_SCRATCH) {
                        byte[] b = shortStrings().scratch;
                        u.readPayload(b, 0, n);
                        return utf8(b, n);
                    }
                    byte[] b = u.readPayload(n);
                    return utf8(b, n);
                }
                case BINARY: {
                    int n = u.unpackBinaryHeader();
                    checkLength(n);
                    return intern(u.readPayload(n));
                }
                case ARRAY: {
                    int n = u.unpackArrayHeader();
                    checkLength(n);
                    List<Object> l = new ArrayList<>(Math.min(n, 1 << 16));
                    for (int i = 0; i < n; i++) {
                        l.add(read(depth + 1));
                    }
                    return l;
                }
                case MAP: {
                    int n = u.unpackMapHeader();
                    checkLength(n);
                    if (n == 1) {
                        Object k = read(depth + 1);
                        Object val = read(depth + 1);
                        SubObject s = subObject(k, val);
                        if (s != null) {
                            return s;
                        }
                        Map<Object, Object> m = new CompactMap<>(1);
                        m.put(k, val);
                        return m;
                    }
                    Map<Object, Object> m = CompactMap.forSize(n);
                    for (int i = 0; i < n; i++) {
                        Object k = read(depth + 1);
                        Object val = read(depth + 1);
                        if (!putNew(m, k, val)) {
                            throw duplicateKey(k);
                        }
                    }
                    return m;
                }
                case EXTENSION:
                    throw new ProtocolException("msgpack extension types are not part of the Dask protocol");
                default:
                    throw new ProtocolException("unknown msgpack format " + f);
            }
        }

        /** Adds a new key; false if present (one scan of a CompactMap). */
        private static boolean putNew(Map<Object, Object> m, Object k, Object v) {
            if (m instanceof CompactMap<Object, Object> c) {
                return c.putIfNew(k, v);
            }
            if (m.containsKey(k)) {
                return false;
            }
            m.put(k, v);
            return true;
        }

        /**
         * Python would keep the last value, but no dict produces this; refusing it keeps every
         * sub-object reachable from the result, so none leaks.
         */
        private static ProtocolException duplicateKey(Object k) {
            return new ProtocolException("duplicate map key: " + abbreviate(k));
        }

        private static String abbreviate(Object v) {
            String s = String.valueOf(v);
            return s.length() > 100 ? s.substring(0, 100) + "..." : s;
        }

        private ShortStrings shortStrings;

        /** A short str: field names, ops and statuses repeat in every message, so they come from a cache. */
        private ShortStrings shortStrings() {
            ShortStrings c = shortStrings;
            if (c == null) {
                c = shortStrings = SHORT_STRINGS.get();
            }
            return c;
        }

        private String shortString(int n) throws IOException {
            ShortStrings c = shortStrings();
            byte[] b = c.scratch;
            u.readPayload(b, 0, n);
            int h = 0x811c9dc5;
            for (int i = 0; i < n; i++) {
                h = (h ^ b[i]) * 0x01000193;
            }
            int slot = (h ^ (h >>> 16)) & (ShortStrings.SLOTS - 1);
            byte[] seen = c.bytes[slot];
            if (seen != null && seen.length == n && java.util.Arrays.equals(seen, 0, n, b, 0, n)) {
                return c.strings[slot];
            }
            String v = utf8(b, n);
            if (c.missed[slot] == h) {
                c.bytes[slot] = java.util.Arrays.copyOf(b, n);
                c.strings[slot] = v;
            } else {
                c.missed[slot] = h;
            }
            return v;
        }

        private String utf8(byte[] b, int n) {
            return strictUtf8(b, n);
        }

        /**
         * Equal medium-sized binaries within one message share one array: a 2022.12 client sends the
         * same cloudpickled function (~0.5 KB) once per task of a map, so a million-task graph would
         * otherwise hold a million copies until the scheduler interned them.
         */
        private byte[] intern(byte[] b) {
            if (b.length < 64 || b.length > 65536) {
                return b;
            }
            if (lastBin != null && lastBin.length == b.length && java.util.Arrays.equals(lastBin, b)) {
                return lastBin;
            }
            if (bins == null) {
                bins = new java.util.HashMap<>();
            }
            byte[] seen = bins.putIfAbsent(java.nio.ByteBuffer.wrap(b), b);
            lastBin = seen != null ? seen : b;
            return lastBin;
        }

        private java.util.HashMap<java.nio.ByteBuffer, byte[]> bins;
        private byte[] lastBin;

        private void checkLength(int n) throws IOException {
            // A length can never exceed the bytes left in the frame; refuse before allocating.
            if (n < 0 || n > remaining()) {
                throw ProtocolException.limit("msgpack length", n & 0xffffffffL, remaining());
            }
        }

        private long remaining() {
            return frame0Length - u.getTotalReadBytes();
        }

        private SubObject subObject(Object key, Object value) throws IOException {
            SubObject.Kind kind;
            if ("__Serialized__".equals(key)) {
                kind = SubObject.Kind.SERIALIZED;
            } else if ("__Pickled__".equals(key)) {
                kind = SubObject.Kind.PICKLED;
            } else {
                return null;
            }
            if (value instanceof BigInteger big) {
                // beyond 2^63: Python's frames[offset] raises IndexError, so must we
                throw new ProtocolException(kind.marker() + " frame index: " + big
                        + " (expected: 1 .. " + (frames.size() - 1) + ")");
            }
            if (!(value instanceof Long idx)) {
                return null; // legacy {"__Serialized__": true, ...} lives only inside sub-headers
            }
            if (idx < 1 || idx >= frames.size()) {
                throw new ProtocolException(kind.marker() + " frame index: " + idx
                        + " (expected: 1 .. " + (frames.size() - 1) + ")");
            }
            int i = idx.intValue();
            ByteBuf header = frames.get(i);
            long k = subFrameCount(header);
            if (k < 0 || k > frames.size() - i - 1) { // no i + 1 + k: it overflows for k near 2^63
                throw new ProtocolException(kind.marker() + " num-sub-frames: " + k
                        + " (expected: <= " + (frames.size() - i - 1) + ")");
            }
            List<ByteBuf> data = new ArrayList<>((int) k);
            for (int j = 0; j < k; j++) {
                ByteBuf d = frames.get(i + 1 + j);
                data.add(d.retainedSlice());
            }
            SubObject s = new SubObject(kind, header.retainedSlice(), data);
            resolved.add(s);
            return s;
        }

        private static final byte[] NUM_SUB_FRAMES = "num-sub-frames".getBytes(StandardCharsets.US_ASCII);

        private static boolean isNumSubFrames(org.msgpack.core.buffer.MessageBuffer key, int len) {
            if (len != NUM_SUB_FRAMES.length) {
                return false;
            }
            for (int i = 0; i < len; i++) {
                if (key.getByte(i) != NUM_SUB_FRAMES[i]) {
                    return false;
                }
            }
            return true;
        }

        private static long subFrameCount(ByteBuf header) throws IOException {
            try (MessageUnpacker h = unpacker(header)) {
                if (h.getNextFormat().getValueType() != org.msgpack.value.ValueType.MAP) {
                    throw new ProtocolException("sub-object header is not a msgpack map");
                }
                int n = h.unpackMapHeader();
                for (int i = 0; i < n; i++) {
                    if (h.getNextFormat().getValueType() == org.msgpack.value.ValueType.STRING) {
                        int len = h.unpackRawStringHeader();
                        if (isNumSubFrames(h.readPayloadAsReference(len), len)) {
                            return h.unpackLong();
                        }
                    } else {
                        h.skipValue();
                    }
                    h.skipValue();
                }
            }
            throw new ProtocolException("sub-object header has no num-sub-frames");
        }
    }
}
