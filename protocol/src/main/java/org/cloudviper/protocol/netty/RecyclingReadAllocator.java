package org.cloudviper.protocol.netty;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.internal.PlatformDependent;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The allocator for connections that receive large messages (get_data replies relayed by a gather,
 * scatters, big graphs): socket reads of {@link Reads#MAX_READ} bytes, the size every read of a long
 * transfer settles at, reuse the memory of earlier such reads; everything else goes to the delegate.
 *
 * <p>Why: a relayed gather holds its whole reply (1 GiB for 16 x 64 MiB) until it is forwarded, and
 * once released the general-purpose allocator hands that memory back to the operating system. The
 * next gather then takes a page fault and a page clear for every 4 KiB it receives: in a profile of
 * the second gather (the one the side-by-side benchmark reports) those were a quarter of the
 * scheduler's samples, more than the socket copies themselves (docs/benchmarks.md, section 15).
 *
 * <p>Memory kept between reads is bounded ({@code maxCachedBytes}) and freed once no large read has
 * happened for {@code idleNanos}: while anything is cached, a check runs every {@code idleNanos} on
 * Netty's global executor, so every process that reads through it (scheduler, Java worker, Java
 * client) gives the memory back without having to ask. A cached buffer is not in use; one in use is
 * owned by its {@link ByteBuf} and comes back when that buffer's last reference (its slices' too) is
 * released. Thread-safe: connections on any event loop may share one instance.
 */
public final class RecyclingReadAllocator extends AbstractByteBufAllocator {
    /** One per process, bounded at half the direct-memory limit or 1 GiB, trimmed after 30 s idle. */
    public static final RecyclingReadAllocator SHARED = new RecyclingReadAllocator(ByteBufAllocator.DEFAULT,
            Reads.MAX_READ, Math.min(1L << 30, PlatformDependent.maxDirectMemory() / 2), 30_000_000_000L);

    private final ByteBufAllocator delegate;
    private final int chunkSize;
    private final int maxCached;
    private final long idleNanos;
    private final ArrayDeque<ByteBuffer> cached = new ArrayDeque<>();
    private long lastLargeRead = System.nanoTime();
    /** A trim check is scheduled; guarded by {@code this}. */
    private boolean trimScheduled;

    /**
     * @param chunkSize      the read size whose memory is reused (reads of other sizes are not)
     * @param maxCachedBytes at most this much unused memory is kept
     * @param idleNanos      the cache is freed after this long without a large read
     */
    public RecyclingReadAllocator(ByteBufAllocator delegate, int chunkSize, long maxCachedBytes, long idleNanos) {
        super(true);
        if (chunkSize <= 0 || maxCachedBytes < 0 || idleNanos < 0) {
            throw new IllegalArgumentException("chunkSize: " + chunkSize + ", maxCachedBytes: " + maxCachedBytes
                    + ", idleNanos: " + idleNanos + " (expected: > 0, >= 0, >= 0)");
        }
        this.delegate = delegate;
        this.chunkSize = chunkSize;
        this.maxCached = (int) Math.min(Integer.MAX_VALUE, maxCachedBytes / chunkSize);
        this.idleNanos = idleNanos;
    }

    /** Bytes of unused memory kept for the next large reads. */
    public synchronized long cachedBytes() {
        return (long) cached.size() * chunkSize;
    }

    /** Frees the cached memory if no large read was allocated in the last {@code idleNanos}. */
    public void trimIdle(long nowNanos) {
        ByteBuffer[] free;
        synchronized (this) {
            if (cached.isEmpty() || nowNanos - lastLargeRead < idleNanos) {
                return;
            }
            free = cached.toArray(new ByteBuffer[0]);
            cached.clear();
        }
        for (ByteBuffer b : free) {
            PlatformDependent.freeDirectBuffer(b);
        }
    }

    private ByteBuf recycled() {
        ByteBuffer memory;
        synchronized (this) {
            lastLargeRead = System.nanoTime();
            memory = cached.pollLast(); // the most recently used: likeliest still in the processor's caches
        }
        if (memory == null) {
            memory = ByteBuffer.allocateDirect(chunkSize);
        }
        return new RecycledBuf(this, memory);
    }

    private void giveBack(ByteBuffer memory) {
        boolean scheduleTrim;
        synchronized (this) {
            if (cached.size() >= maxCached) {
                scheduleTrim = false;
            } else {
                memory.clear();
                cached.addLast(memory);
                scheduleTrim = !trimScheduled;
                trimScheduled = true;
                memory = null;
            }
        }
        if (memory != null) {
            PlatformDependent.freeDirectBuffer(memory);
        } else if (scheduleTrim) {
            scheduleTrim();
        }
    }

    /** Checks every {@code idleNanos} while anything is cached; stops once the cache is empty. */
    private void scheduleTrim() {
        GlobalEventExecutor.INSTANCE.schedule(() -> {
            trimIdle(System.nanoTime());
            boolean again;
            synchronized (this) {
                again = !cached.isEmpty();
                trimScheduled = again;
            }
            if (again) {
                scheduleTrim();
            }
        }, idleNanos, TimeUnit.NANOSECONDS);
    }

    /** Wraps memory it does not free; the last release hands the memory back to the cache. */
    private static final class RecycledBuf extends UnpooledUnsafeDirectByteBuf {
        private final RecyclingReadAllocator owner;
        private final ByteBuffer memory;

        RecycledBuf(RecyclingReadAllocator owner, ByteBuffer memory) {
            super(owner, memory, memory.capacity());
            this.owner = owner;
            this.memory = memory;
            clear(); // wrapping made the whole buffer readable; a read buffer starts empty
        }

        @Override
        protected void deallocate() {
            super.deallocate(); // drops the reference; memory it did not allocate is not freed
            owner.giveBack(memory);
        }
    }

    /** Reads of exactly {@code chunkSize} get reused memory, tracked by Netty's leak detector like any buffer. */
    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return initialCapacity == chunkSize && maxCapacity >= chunkSize ? toLeakAwareBuffer(recycled())
                : delegate.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return delegate.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return delegate.isDirectBufferPooled();
    }
}
