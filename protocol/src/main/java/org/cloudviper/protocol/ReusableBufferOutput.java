package org.cloudviper.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.msgpack.core.buffer.MessageBuffer;
import org.msgpack.core.buffer.MessageBufferOutput;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A msgpack output that packs into one growing array kept across messages. msgpack-java's own
 * ArrayBufferOutput drops its buffers on clear(), so every message allocated (and the JVM zeroed) a
 * fresh 8 KiB array: for the few hundred bytes of a stream message that was more work than packing
 * it, and most of the codec's garbage. A message past {@link #CHUNK} goes on in further arrays of
 * that size and is handed over as their composite, without a copy: a graph of millions of tasks
 * then needs its own size and one chunk, not the 3x of doubling one array and copying it out.
 * Confined to one thread.
 */
final class ReusableBufferOutput implements MessageBufferOutput {
    private static final int INITIAL = 8 * 1024;
    /** A buffer grown past this by one large message is not kept for the next. */
    private static final int KEEP_AT_MOST = 1 << 20;
    /** Beyond this a message grows by chunks instead of doubling its array. */
    static final int CHUNK = 64 << 20;
    /** The largest frame: what one Java array holds. */
    private static final long MAX_FRAME = Integer.MAX_VALUE - 8;

    private byte[] buf = new byte[INITIAL];
    private int size;
    /** The filled chunks of a message past {@link #CHUNK}, before {@link #buf}. */
    private final List<ByteBuf> chunks = new ArrayList<>();
    private long chunked;

    /** Forgets what was written; keeps the array unless a large message grew it. */
    void reset() {
        size = 0;
        chunks.clear();
        chunked = 0;
        if (buf.length > KEEP_AT_MOST) {
            buf = new byte[INITIAL];
        }
    }

    /** What was written, as one buffer the caller owns; the output starts over. */
    ByteBuf take() {
        if (chunks.isEmpty()) {
            ByteBuf b = Unpooled.wrappedBuffer(Arrays.copyOf(buf, size));
            reset();
            return b;
        }
        chunks.add(Unpooled.wrappedBuffer(buf, 0, size));
        ByteBuf all = Unpooled.wrappedBuffer(chunks.size(), chunks.toArray(new ByteBuf[0]));
        buf = new byte[INITIAL]; // handed over with the composite
        reset();
        return all;
    }

    private void ensure(int more) {
        if (buf.length - size >= more) {
            return;
        }
        long total = chunked + size + more;
        if (total > MAX_FRAME) {
            throw new IllegalStateException("message of more than " + MAX_FRAME + " bytes cannot be packed"
                    + " into one frame");
        }
        long needed = (long) size + more;
        if (chunks.isEmpty() && needed <= CHUNK) {
            buf = Arrays.copyOf(buf, (int) Math.max(Math.min(2L * buf.length, CHUNK), needed));
            return;
        }
        if (size > 0) {
            chunks.add(Unpooled.wrappedBuffer(buf, 0, size));
            chunked += size;
        }
        buf = new byte[Math.max(CHUNK, more)];
        size = 0;
    }

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
