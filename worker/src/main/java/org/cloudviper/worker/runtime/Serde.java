package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.pickle.PickleException;
import org.cloudviper.protocol.pickle.PickleValue;
import org.cloudviper.protocol.pickle.PickleValues;
import org.cloudviper.protocol.pickle.Pickles;
import org.cloudviper.worker.tasks.ArrowTable;
import org.cloudviper.worker.tasks.NdArray;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Dask's serialization families (distributed/protocol/serialize.py) between Java values and
 * {@code Serialized} sub-objects. Writes numpy arrays in the "dask" family exactly as
 * distributed/protocol/numpy.py does (one raw little-endian C-order frame) and other values in the
 * "msgpack" family, and pyarrow Tables/RecordBatches as distributed/protocol/arrow.py does (one Arrow IPC
 * stream frame); reads those, the "pickle" family for plain scalars and containers, collections
 * of them, {@code bytes}, and lz4/zlib-compressed frames relayed from Python peers. Anything else is
 * a {@link DataException} whose message says what the value was.
 */
final class Serde {
    /** {@code pickle.dumps(numpy.ndarray, protocol=5)}: the dask family's {@code type-serialized}. */
    static final byte[] NDARRAY_TYPE = HexFormat.of().parseHex(
            "80059515000000000000008c056e756d7079948c076e6461727261799493942e");
    private static final byte[] TABLE_TYPE = pickledClass("pyarrow.lib", "Table");
    private static final byte[] RECORD_BATCH_TYPE = pickledClass("pyarrow.lib", "RecordBatch");

    /** The dask family's {@code type-serialized} of a pyarrow class: {@code pickle.dumps(cls, protocol=5)}. */
    static byte[] arrowType(ArrowTable.Kind kind) {
        return (kind == ArrowTable.Kind.TABLE ? TABLE_TYPE : RECORD_BATCH_TYPE).clone();
    }

    /**
     * What Python's {@code pickle.dumps(cls, protocol=5)} writes for a class by reference: PROTO 5,
     * FRAME, module and name as SHORT_BINUNICODE (each memoized), STACK_GLOBAL, MEMOIZE, STOP.
     */
    private static byte[] pickledClass(String module, String name) {
        byte[] m = module.getBytes(StandardCharsets.US_ASCII);
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        int body = 2 + m.length + 1 + 2 + n.length + 1 + 1 + 1 + 1;
        ByteBuffer b = ByteBuffer.allocate(2 + 9 + body).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x80).put((byte) 5).put((byte) 0x95).putLong(body);
        b.put((byte) 0x8c).put((byte) m.length).put(m).put((byte) 0x94);
        b.put((byte) 0x8c).put((byte) n.length).put(n).put((byte) 0x94);
        b.put((byte) 0x93).put((byte) 0x94).put((byte) '.');
        return b.array();
    }

    /** The advice for a pandas object sent to a Java task. */
    static final String PANDAS_HINT = "a Java task cannot read pandas objects: send it as a pyarrow Table"
            + " (pyarrow.Table.from_pandas(df))";

    /** distributed.comm.shard: frames above this are cut into several (re-joined by split-* fields). */
    static final int SHARD = 64 << 20;
    /** Decompressed frames beyond this are refused (Netty buffers are int-indexed). */
    private static final long MAX_FRAME = Integer.MAX_VALUE - 8;

    private Serde() {
    }

    /** A value that cannot be read or written as a Dask value on this worker. */
    static final class DataException extends Exception {
        DataException(String message) {
            super(message);
        }
    }

    /** What task-finished says about a value: its pickled class (or null), type name and size. */
    record TypeInfo(byte[] type, String typename, long nbytes) {
    }

    // ---------------------------------------------------------------------------------------------
    // Writing

    /** The Serialized form of a Java task's result. */
    static SubObject encode(Object v) throws DataException {
        if (v instanceof NdArray a) {
            return encodeArray(a);
        }
        if (v instanceof ArrowTable t) {
            return encodeArrow(t);
        }
        checkMsgpack(v, 0);
        byte[] frame = MessageCodec.pack(v);
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("serializer", "msgpack");
        return withFrames(h, List.of(Unpooled.wrappedBuffer(frame)));
    }

    private static SubObject encodeArray(NdArray a) {
        long[] shape = a.shape();
        List<Object> strides = new ArrayList<>(shape.length);
        long stride = a.dtype().itemsize();
        Long[] s = new Long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = stride;
            stride *= Math.max(1, shape[i]);
        }
        strides.addAll(Arrays.asList(s));
        List<Object> shapeList = new ArrayList<>();
        for (long x : shape) {
            shapeList.add(x);
        }
        Map<String, Object> sub = new LinkedHashMap<>();
        sub.put("dtype", List.of(0L, a.dtype().str()));
        sub.put("shape", shapeList);
        sub.put("strides", strides);
        sub.put("writeable", List.of(true));
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("sub-header", sub);
        h.put("type", "numpy.ndarray");
        h.put("type-serialized", NDARRAY_TYPE);
        h.put("serializer", "dask");
        return withFrames(h, shards(a.data()));
    }

    /** arrow.py's serialize_table/serialize_batch: no sub-header fields, the IPC stream as the one frame. */
    private static SubObject encodeArrow(ArrowTable t) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("sub-header", new LinkedHashMap<>());
        h.put("type", "pyarrow.lib." + t.kind().pythonName());
        h.put("type-serialized", arrowType(t.kind()));
        h.put("serializer", "dask");
        return withFrames(h, shards(t.stream()));
    }

    /** One frame cut into SHARD-sized ones, as serialize_and_split does (at least one frame). */
    private static List<ByteBuf> shards(ByteBuffer data) {
        List<ByteBuf> frames = new ArrayList<>();
        if (data.remaining() == 0) {
            frames.add(Unpooled.EMPTY_BUFFER);
        }
        for (int at = 0; at < data.remaining(); at += SHARD) {
            ByteBuffer slice = data.duplicate();
            slice.position(at).limit(Math.min(data.remaining(), at + SHARD));
            frames.add(Unpooled.wrappedBuffer(slice.slice()));
        }
        return frames;
    }

    /** Adds the fields serialize_and_split and dumps add, for one original frame cut into shards. */
    private static SubObject withFrames(Map<String, Object> header, List<ByteBuf> frames) {
        List<Object> compression = new ArrayList<>();
        for (int i = 0; i < frames.size(); i++) {
            compression.add(null);
        }
        header.put("split-num-sub-frames", List.of((long) frames.size()));
        header.put("split-offsets", List.of(0L));
        header.put("compression", compression);
        header.put("num-sub-frames", (long) frames.size());
        return new SubObject(SubObject.Kind.SERIALIZED, Unpooled.wrappedBuffer(MessageCodec.pack(header)), frames);
    }

    /** Neither an array nor a table: a value of the msgpack family, cheap to serialize later. */
    static boolean isPlain(Object v) {
        return !(v instanceof NdArray) && !(v instanceof ArrowTable);
    }

    /** Throws what {@link #encode} would for a plain value, without encoding it. */
    static void checkPlain(Object v) throws DataException {
        checkMsgpack(v, 0);
    }

    /** Only what msgpack carries to Python unchanged (lists arrive as tuples). */
    private static void checkMsgpack(Object v, int depth) throws DataException {
        if (depth > 100) {
            throw new DataException("result nested deeper than 100 levels");
        }
        if (v == null || v instanceof Boolean || v instanceof Long || v instanceof Integer || v instanceof Short
                || v instanceof Byte || v instanceof Double || v instanceof Float || v instanceof String
                || v instanceof byte[]) {
            return;
        }
        if (v instanceof BigInteger b) {
            if (b.signum() < 0 ? b.bitLength() > 63 : b.bitLength() > 64) {
                throw new DataException("int " + b + " does not fit msgpack's 64 bits");
            }
            return;
        }
        if (v instanceof List<?> l) {
            for (Object o : l) {
                checkMsgpack(o, depth + 1);
            }
            return;
        }
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (e.getKey() instanceof List || e.getKey() instanceof Map) {
                    throw new DataException("dict key " + e.getKey() + " is not hashable in Python");
                }
                checkMsgpack(e.getKey(), depth + 1);
                checkMsgpack(e.getValue(), depth + 1);
            }
            return;
        }
        if (v instanceof NdArray || v instanceof ArrowTable) {
            throw new DataException("numpy arrays and Arrow tables inside lists or dicts are not supported yet;"
                    + " return one array or table");
        }
        throw new DataException("a " + v.getClass().getName() + " cannot be sent to Python"
                + " (supported: NdArray, ArrowTable, Long, Double, String, byte[], Boolean, null, List, Map)");
    }

    /** Size and class for task-finished, like distributed's sizeof() and pickle.dumps(type(value)). */
    static TypeInfo describe(Object v) {
        if (v instanceof NdArray a) {
            return new TypeInfo(NDARRAY_TYPE, "numpy.ndarray", a.nbytes());
        }
        if (v instanceof ArrowTable t) {
            return new TypeInfo(arrowType(t.kind()), "pyarrow.lib." + t.kind().pythonName(), Math.max(16, t.nbytes()));
        }
        if (v == null) {
            return new TypeInfo(null, "NoneType", 16);
        }
        if (v instanceof Boolean) {
            return builtin("bool", 28);
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte
                || v instanceof BigInteger) {
            return builtin("int", 28);
        }
        if (v instanceof Double || v instanceof Float) {
            return builtin("float", 24);
        }
        if (v instanceof String s) {
            return builtin("str", 49 + s.getBytes(StandardCharsets.UTF_8).length);
        }
        if (v instanceof byte[] b) {
            return builtin("bytes", 33 + b.length);
        }
        if (v instanceof List<?> l) {
            long n = 40 + 8L * l.size();
            for (Object o : l) {
                n += describe(o).nbytes();
            }
            return builtin("tuple", n);
        }
        if (v instanceof Map<?, ?> m) {
            long n = 64 + 24L * m.size();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                n += describe(e.getKey()).nbytes() + describe(e.getValue()).nbytes();
            }
            return builtin("dict", n);
        }
        return new TypeInfo(null, v.getClass().getSimpleName(), 1024);
    }

    private static TypeInfo builtin(String name, long nbytes) {
        return new TypeInfo(Pickles.global("builtins", name), name, nbytes);
    }

    /** What can be told about a value that arrived serialized, without decoding its data. */
    static TypeInfo describeSerialized(SubObject s) {
        long nbytes = Math.max(s.dataBytes(), 16);
        try {
            Object h = MessageCodec.decodeValue(s.header());
            if (h instanceof Map<?, ?> m && "dask".equals(m.get("serializer"))
                    && m.get("type-serialized") instanceof byte[] t) {
                Object name = m.get("type");
                return new TypeInfo(t, name instanceof String n ? n : "object", nbytes);
            }
        } catch (RuntimeException e) {
            // not ours to judge here: decoding it for a task will say what is wrong
        }
        return new TypeInfo(null, "object", nbytes);
    }

    /**
     * The exception a Python client re-raises for a Java task's failure: {@code RuntimeError(text)},
     * pickled and wrapped as distributed's error_message does ({@code to_serialize(pickle bytes)},
     * i.e. the dask family's {@code bytes}); clean_exception unpickles it on the client.
     */
    static SubObject pythonException(String text) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("sub-header", Map.of());
        h.put("type", "bytes");
        h.put("type-serialized", Pickles.global("builtins", "bytes"));
        h.put("serializer", "dask");
        return withFrames(h, List.of(Unpooled.wrappedBuffer(Pickles.call("builtins", "RuntimeError", text))));
    }

    // ---------------------------------------------------------------------------------------------
    // Reading

    /** The Java value of a Serialized sub-object (numpy arrays become {@link NdArray}). */
    static Object decode(SubObject s) throws DataException {
        Object h;
        try {
            h = MessageCodec.decodeValue(s.header());
        } catch (RuntimeException e) {
            throw new DataException("unreadable sub-header: " + e.getMessage());
        }
        if (!(h instanceof Map<?, ?> header)) {
            throw new DataException("sub-header is not a map");
        }
        if (s.kind() == SubObject.Kind.PICKLED) {
            return readPickle(header.get("pickled-obj"), s.frames().size());
        }
        List<byte[]> frames = new ArrayList<>();
        List<Object> compression = asList(header.get("compression"));
        for (int i = 0; i < s.frames().size(); i++) {
            ByteBuf f = s.frames().get(i);
            byte[] b = new byte[f.readableBytes()];
            f.getBytes(f.readerIndex(), b);
            Object c = compression != null && i < compression.size() ? compression.get(i) : null;
            frames.add(decompress(b, c));
        }
        return deserialize(header, merge(header, frames));
    }

    private static byte[] decompress(byte[] b, Object codec) throws DataException {
        if (codec == null) {
            return b;
        }
        try {
            switch (String.valueOf(codec)) {
                case "lz4":
                    return Lz4.decompress(b, MAX_FRAME);
                case "zlib": {
                    Inflater inf = new Inflater();
                    try {
                        inf.setInput(b);
                        ByteArrayOutputStream out = new ByteArrayOutputStream(b.length * 4);
                        byte[] buf = new byte[1 << 16];
                        while (!inf.finished()) {
                            int n = inf.inflate(buf);
                            if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                                throw new DataException("truncated zlib frame");
                            }
                            out.write(buf, 0, n);
                            if (out.size() > MAX_FRAME) {
                                throw new DataException("zlib frame inflates beyond " + MAX_FRAME + " bytes");
                            }
                        }
                        return out.toByteArray();
                    } finally {
                        inf.end();
                    }
                }
                default:
                    throw new DataException("frames compressed with " + codec + " are not supported (lz4, zlib are)");
            }
        } catch (IllegalArgumentException | DataFormatException e) {
            throw new DataException("cannot decompress a " + codec + " frame: " + e.getMessage());
        }
    }

    /** merge_and_deserialize: re-join frames cut by serialize_and_split. */
    private static List<byte[]> merge(Map<?, ?> header, List<byte[]> frames) throws DataException {
        List<Object> nums = asList(header.get("split-num-sub-frames"));
        List<Object> offsets = asList(header.get("split-offsets"));
        if (nums == null || offsets == null) {
            return frames;
        }
        if (nums.size() != offsets.size()) {
            throw new DataException("split-num-sub-frames and split-offsets differ in length");
        }
        List<byte[]> merged = new ArrayList<>();
        for (int i = 0; i < nums.size(); i++) {
            int n = ((Number) nums.get(i)).intValue();
            int off = ((Number) offsets.get(i)).intValue();
            if (off < 0 || n < 0 || off + n > frames.size()) {
                throw new DataException("split frames " + off + "+" + n + " beyond " + frames.size() + " frames");
            }
            if (n == 1) {
                merged.add(frames.get(off));
            } else {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (int j = off; j < off + n; j++) {
                    out.writeBytes(frames.get(j));
                }
                merged.add(out.toByteArray());
            }
        }
        return merged;
    }

    private static Object deserialize(Map<?, ?> header, List<byte[]> frames) throws DataException {
        if (header.containsKey("is-collection")) {
            return deserializeCollection(header, frames);
        }
        Object serializer = header.get("serializer");
        if ("msgpack".equals(serializer)) {
            try {
                return MessageCodec.decodeValue(Unpooled.wrappedBuffer(join(frames)));
            } catch (RuntimeException e) {
                throw new DataException("malformed msgpack value: " + e.getMessage());
            }
        } else if ("pickle".equals(serializer)) {
            if (frames.isEmpty()) {
                throw new DataException("pickled value without pickle bytes");
            }
            return readPickle(frames.get(0), frames.size() - 1);
        } else if ("dask".equals(serializer)) {
            return deserializeDask(header, frames);
        } else if ("error".equals(serializer)) {
            throw new DataException("the sender could not serialize this value: "
                    + new String(join(frames), StandardCharsets.UTF_8));
        }
        throw new DataException("serializer " + serializer + " is not supported (dask, msgpack, pickle are)");
    }

    private static Object deserializeCollection(Map<?, ?> header, List<byte[]> frames) throws DataException {
        List<Object> subs = asList(header.get("sub-headers"));
        List<Object> lengths = asList(header.get("frame-lengths"));
        if (subs == null || lengths == null || subs.size() != lengths.size()) {
            throw new DataException("malformed collection header");
        }
        boolean dict = "dict".equals(header.get("type-serialized"));
        Map<Object, Object> m = new LinkedHashMap<>();
        List<Object> l = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < subs.size(); i++) {
            int n = ((Number) lengths.get(i)).intValue();
            if (!(subs.get(i) instanceof Map<?, ?> sub) || at + n > frames.size()) {
                throw new DataException("malformed collection item " + i);
            }
            Object v = deserialize(sub, frames.subList(at, at + n));
            at += n;
            if (dict) {
                m.put(sub.get("key"), v);
            } else {
                l.add(v);
            }
        }
        return dict ? m : l;
    }

    private static Object deserializeDask(Map<?, ?> header, List<byte[]> frames) throws DataException {
        Object ts = header.get("type-serialized");
        String name;
        try {
            name = ts instanceof byte[] b ? PlainData.qualifiedName(PlainData.readGlobal(b))
                    : String.valueOf(header.get("type"));
        } catch (PickleException e) {
            throw new DataException("unreadable type-serialized: " + e.getMessage());
        }
        switch (name) {
            case "numpy.ndarray":
                return readArray(header.get("sub-header") instanceof Map<?, ?> sh ? sh : Map.of(), frames);
            case "builtins.bytes", "builtins.bytearray", "builtins.memoryview":
                return join(frames);
            case "pyarrow.lib.Table":
                return readArrow(ArrowTable.Kind.TABLE, frames);
            case "pyarrow.lib.RecordBatch":
                return readArrow(ArrowTable.Kind.RECORD_BATCH, frames);
            default:
                if (name.startsWith("pandas.")) {
                    throw new DataException(PANDAS_HINT);
                }
                throw new DataException("a " + name + " (dask serializer) cannot be read by a Java task");
        }
    }

    /** arrow.py's deserialize_table/deserialize_batch: frame 0 is the IPC stream. */
    private static ArrowTable readArrow(ArrowTable.Kind kind, List<byte[]> frames) throws DataException {
        if (frames.size() != 1) {
            throw new DataException("pyarrow." + kind.pythonName() + " in " + frames.size() + " frames (expected: 1)");
        }
        try {
            return ArrowTable.fromStream(kind, frames.get(0));
        } catch (IllegalArgumentException e) {
            throw new DataException("pyarrow." + kind.pythonName() + " cannot be read: " + e.getMessage());
        }
    }

    private static NdArray readArray(Map<?, ?> sub, List<byte[]> frames) throws DataException {
        if (Boolean.TRUE.equals(sub.get("pickle"))) {
            throw new DataException("numpy arrays of Python objects cannot be read by a Java task");
        }
        List<Object> dt = asList(sub.get("dtype"));
        if (dt == null || dt.size() != 2 || !Long.valueOf(0).equals(dt.get(0)) || !(dt.get(1) instanceof String d)) {
            throw new DataException("numpy dtype " + sub.get("dtype") + " is not supported (plain numeric dtypes are)");
        }
        NdArray.DType dtype = NdArray.DType.of(d);
        if (dtype == null) {
            throw new DataException("numpy dtype " + d + " is not supported (little-endian f8, f4, i8, i4, i2, i1,"
                    + " u8, u4, u2, u1, b1 are)");
        }
        // Zero-stride (broadcast) arrays come as their un-broadcast data plus the shape to view it
        // with; numpy.py deserializes them as ndarray(broadcast_to, buffer=frame, strides=strides).
        List<Object> shapeL = asList(sub.get("broadcast_to") != null ? sub.get("broadcast_to") : sub.get("shape"));
        List<Object> stridesL = asList(sub.get("strides"));
        if (shapeL == null || stridesL == null || shapeL.size() != stridesL.size()) {
            throw new DataException("numpy header without matching shape and strides");
        }
        if (frames.size() != 1) {
            throw new DataException("numpy array in " + frames.size() + " frames (expected: 1)");
        }
        int nd = shapeL.size();
        long[] shape = new long[nd];
        long[] strides = new long[nd];
        long count = 1;
        for (int i = 0; i < nd; i++) {
            shape[i] = ((Number) shapeL.get(i)).longValue();
            strides[i] = ((Number) stridesL.get(i)).longValue();
            count = Math.multiplyExact(count, shape[i]);
        }
        int item = dtype.itemsize();
        if (count * item > Integer.MAX_VALUE) {
            throw new DataException("numpy array of " + count * item + " bytes is too large");
        }
        byte[] buf = frames.get(0);
        if (count == 0) {
            return NdArray.wrap(dtype, shape, ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN));
        }
        // Validate that every element lies inside the frame, then copy into C order.
        long maxOffset = 0;
        for (int i = 0; i < nd; i++) {
            if (strides[i] < 0) {
                throw new DataException("negative numpy strides are not supported");
            }
            maxOffset += (shape[i] - 1) * strides[i];
        }
        if (maxOffset + item > buf.length) {
            throw new DataException("numpy frame of " + buf.length + " bytes is too short for shape "
                    + Arrays.toString(shape) + " and strides " + Arrays.toString(strides));
        }
        if (isCContiguous(shape, strides, item)) {
            // the frame was copied out of the message for this value alone: the array takes it as it is
            return NdArray.wrap(dtype, shape, ByteBuffer.wrap(buf, 0, (int) (count * item)).slice()
                    .order(ByteOrder.LITTLE_ENDIAN));
        }
        ByteBuffer out = ByteBuffer.allocate((int) (count * item)).order(ByteOrder.LITTLE_ENDIAN);
        long[] idx = new long[nd];
        for (long n = 0; n < count; n++) {
            long off = 0;
            for (int i = 0; i < nd; i++) {
                off += idx[i] * strides[i];
            }
            out.put(buf, (int) off, item);
            for (int i = nd - 1; i >= 0; i--) {
                if (++idx[i] < shape[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        out.flip();
        return NdArray.wrap(dtype, shape, out);
    }

    private static boolean isCContiguous(long[] shape, long[] strides, int item) {
        long expect = item;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expect) {
                return false;
            }
            expect *= shape[i];
        }
        return true;
    }

    /**
     * A value pickled with {@code buffers} out-of-band buffers (which a Java task cannot take): plain
     * data, or a refusal naming what it is (pandas objects with advice).
     */
    private static Object readPickle(Object pickle, int buffers) throws DataException {
        if (!(pickle instanceof byte[] b)) {
            throw new DataException("pickled value without pickle bytes");
        }
        PickleValue root;
        try {
            root = PlainData.parse(b, buffers);
        } catch (PickleException e) {
            throw new DataException(buffers > 0 ? outOfBand(buffers)
                    : "pickled value cannot be read by a Java task: " + e.getMessage());
        }
        if (PlainData.isPandas(PickleValues.madeBy(root.resolve()))) {
            throw new DataException(PANDAS_HINT);
        }
        if (buffers > 0) {
            throw new DataException(outOfBand(buffers));
        }
        try {
            return PlainData.of(root);
        } catch (PickleException e) {
            throw new DataException("pickled value cannot be read by a Java task: " + e.getMessage());
        }
    }

    private static String outOfBand(int buffers) {
        return "pickled value with " + buffers + " out-of-band buffers is not supported";
    }

    private static byte[] join(List<byte[]> frames) {
        if (frames.size() == 1) {
            return frames.get(0);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] f : frames) {
            out.writeBytes(f);
        }
        return out.toByteArray();
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object v) {
        return v instanceof List<?> l ? (List<Object>) l : null;
    }
}
