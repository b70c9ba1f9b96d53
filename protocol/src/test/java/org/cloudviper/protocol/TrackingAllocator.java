package org.cloudviper.protocol;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * An unpooled allocator that remembers every buffer it hands out, so a test can assert that all of
 * them (a decoder's cumulation included) were released. Also wraps test input via {@link #input}.
 */
public final class TrackingAllocator extends AbstractByteBufAllocator {
    private final boolean direct;
    private final List<ByteBuf> allocated = new ArrayList<>();

    public TrackingAllocator(boolean direct) {
        super(direct);
        this.direct = direct;
    }

    /** A tracked buffer holding a copy of {@code bytes}, as a socket read would deliver it. */
    public ByteBuf input(byte[] bytes) {
        ByteBuf b = buffer(bytes.length, bytes.length);
        b.writeBytes(bytes);
        return b;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
        return track(new CompositeByteBuf(this, false, maxNumComponents));
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
        return track(new CompositeByteBuf(this, true, maxNumComponents));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    private synchronized <B extends ByteBuf> B track(B b) {
        allocated.add(b);
        return b;
    }

    public synchronized int count() {
        return allocated.size();
    }

    /** Fails if any buffer handed out so far is still referenced. */
    public synchronized void assertAllReleased() {
        TestWire.assertAllReleased(allocated);
    }

    @Override
    public String toString() {
        return direct ? "direct" : "heap";
    }
}
