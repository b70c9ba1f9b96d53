package org.cloudviper.worker.tasks;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * An n-dimensional numpy-compatible array: a dtype, a shape and the elements in C order,
 * little-endian, in one buffer. This is what numpy arrays from Python peers become and what Java
 * tasks return to be sent as {@code numpy.ndarray} (Dask's "dask" serialization family).
 *
 * <p>Immutable: {@link #data()} hands out read-only views, so a value can be shared by the tasks that
 * read it and the peers it is sent to without copies.
 */
public final class NdArray {
    /** The dtypes a Java task can read and write, by their numpy {@code dtype.str}. */
    public enum DType {
        F8("<f8", 8), F4("<f4", 4), I8("<i8", 8), I4("<i4", 4), I2("<i2", 2), I1("|i1", 1),
        U8("<u8", 8), U4("<u4", 4), U2("<u2", 2), U1("|u1", 1), BOOL("|b1", 1);

        private final String str;
        private final int itemsize;

        DType(String str, int itemsize) {
            this.str = str;
            this.itemsize = itemsize;
        }

        /** numpy's {@code dtype.str}, e.g. {@code "<f8"}. */
        public String str() {
            return str;
        }

        public int itemsize() {
            return itemsize;
        }

        public boolean isFloat() {
            return this == F8 || this == F4;
        }

        /** The dtype of a numpy {@code dtype.str}, or null if Java tasks cannot use it. */
        public static DType of(String numpyStr) {
            for (DType d : values()) {
                if (d.str.equals(numpyStr)) {
                    return d;
                }
            }
            if (numpyStr != null && numpyStr.length() == 3 && numpyStr.charAt(0) == '|') {
                return of("<" + numpyStr.substring(1)); // single-byte types may be spelled either way
            }
            return null;
        }
    }

    private final DType dtype;
    private final long[] shape;
    private final int size;
    private final ByteBuffer data;

    private NdArray(DType dtype, long[] shape, ByteBuffer data) {
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        long n = 1;
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("shape: " + Arrays.toString(shape) + " (expected: >= 0 each)");
            }
            n = Math.multiplyExact(n, s);
        }
        if (n * dtype.itemsize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("array bytes: " + n * dtype.itemsize + " (expected: <= "
                    + Integer.MAX_VALUE + ")");
        }
        if (data.remaining() != n * dtype.itemsize) {
            throw new IllegalArgumentException("data bytes: " + data.remaining() + " (expected: " + n * dtype.itemsize
                    + " for shape " + Arrays.toString(shape) + " of " + dtype.str + ")");
        }
        this.size = (int) n;
        this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * An array over {@code data} (C order, little-endian, exactly shape x itemsize bytes from its
     * position). The caller must not change {@code data} afterwards.
     */
    public static NdArray wrap(DType dtype, long[] shape, ByteBuffer data) {
        return new NdArray(dtype, shape, data);
    }

    /** A float64 array of {@code values} with {@code shape} (1-D of the values' length if none). */
    public static NdArray ofDoubles(double[] values, long... shape) {
        long[] s = shape.length == 0 ? new long[]{values.length} : shape;
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        return new NdArray(DType.F8, s, b);
    }

    /** A float32 array of {@code values} with {@code shape} (1-D of the values' length if none). */
    public static NdArray ofFloats(float[] values, long... shape) {
        long[] s = shape.length == 0 ? new long[]{values.length} : shape;
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new NdArray(DType.F4, s, b);
    }

    /** An int64 array of {@code values} with {@code shape} (1-D of the values' length if none). */
    public static NdArray ofLongs(long[] values, long... shape) {
        long[] s = shape.length == 0 ? new long[]{values.length} : shape;
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return new NdArray(DType.I8, s, b);
    }

    public DType dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int ndim() {
        return shape.length;
    }

    /** Number of elements. */
    public int size() {
        return size;
    }

    public long nbytes() {
        return (long) size * dtype.itemsize;
    }

    /** The elements, C order, little-endian, read-only, position 0. */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Element {@code i} (flat C-order index) as a double, whatever the dtype. */
    public double getDouble(int i) {
        int at = i * dtype.itemsize;
        return switch (dtype) {
            case F8 -> data.getDouble(at);
            case F4 -> data.getFloat(at);
            case I8 -> data.getLong(at);
            case I4 -> data.getInt(at);
            case I2 -> data.getShort(at);
            case I1 -> data.get(at);
            case U8 -> unsignedLongToDouble(data.getLong(at));
            case U4 -> Integer.toUnsignedLong(data.getInt(at));
            case U2 -> Short.toUnsignedInt(data.getShort(at));
            case U1, BOOL -> Byte.toUnsignedInt(data.get(at));
        };
    }

    /** All elements as doubles, C order. */
    public double[] toDoubleArray() {
        double[] r = new double[size];
        if (dtype == DType.F8) {
            data().asDoubleBuffer().get(r);
            return r;
        }
        for (int i = 0; i < size; i++) {
            r[i] = getDouble(i);
        }
        return r;
    }

    private static double unsignedLongToDouble(long v) {
        double d = (double) (v >>> 1) * 2.0;
        return d + (v & 1);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NdArray a && a.dtype == dtype && Arrays.equals(a.shape, shape) && a.data.equals(data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape), data);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NdArray(").append(dtype.str).append(", shape=")
                .append(Arrays.toString(shape)).append(", [");
        for (int i = 0; i < Math.min(size, 8); i++) {
            sb.append(i == 0 ? "" : ", ").append(getDouble(i));
        }
        return sb.append(size > 8 ? ", ...])" : "])").toString();
    }
}
