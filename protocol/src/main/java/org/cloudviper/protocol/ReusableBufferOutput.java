package org.cloudviper.protocol;

import org.msgpack.core.buffer.MessageBuffer;
import org.msgpack.core.buffer.MessageBufferOutput;

import java.util.Arrays;

/**
 * A msgpack output that packs into one growing array kept across messages. msgpack-java's own
 * ArrayBufferOutput drops its buffers on clear(), so every message allocated (and the JVM zeroed) a
 * fresh 8 KiB array: for the few hundred bytes of a stream message that was more work than packing
 * it, and most of the codec's garbage. Confined to one thread.
 */
final class ReusableBufferOutput implements MessageBufferOutput {
    private static final int INITIAL = 8 * 1024;
    /** A buffer grown past this by one large message is not kept for the next. */
    private static final int KEEP_AT_MOST = 1 << 20;

    private byte[] buf = new byte[INITIAL];
    private int size;

    /** Forgets what was written; keeps the array unless a large message grew it. */
    void reset() {
        size = 0;
        if (buf.length > KEEP_AT_MOST) {
            buf = new byte[INITIAL];
        }
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    private void ensure(int more) {
        if (buf.length - size < more) {
            // Doubling in long: past 1 GiB an int doubling overflowed, and the array then grew by
            // only what each write needed, copying the whole message per write.
            long needed = (long) size + more;
            if (needed > MAX_ARRAY) {
                throw new IllegalStateException("message of more than " + MAX_ARRAY + " bytes cannot be packed"
                        + " into one frame");
            }
            buf = Arrays.copyOf(buf, (int) Math.max(Math.min(2L * buf.length, MAX_ARRAY), needed));
        }
    }

    /** The largest array the JVM allocates. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    @Override
    public MessageBuffer next(int minimumSize) {
        ensure(Math.max(minimumSize, 1));
        return MessageBuffer.wrap(buf, size, buf.length - size);
    }

    @Override
    public void writeBuffer(int length) {
        size += length;
    }

    @Override
    public void write(byte[] buffer, int offset, int length) {
        ensure(length);
        System.arraycopy(buffer, offset, buf, size, length);
        size += length;
    }

    @Override
    public void add(byte[] buffer, int offset, int length) {
        write(buffer, offset, length);
    }

    @Override
    public void close() {
    }

    @Override
    public void flush() {
    }
}
