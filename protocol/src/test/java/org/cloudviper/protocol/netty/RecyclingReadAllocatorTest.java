package org.cloudviper.protocol.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecyclingReadAllocatorTest {
    private static final int CHUNK = 64 * 1024;
    private static final long IDLE = 1_000_000_000L;

    private static RecyclingReadAllocator allocator(int maxChunks) {
        return new RecyclingReadAllocator(new UnpooledByteBufAllocator(true), CHUNK, (long) maxChunks * CHUNK, IDLE);
    }

    @Test
    void aReleasedReadBufferIsReusedEmptyAndItsContentsAreNotShared() {
        RecyclingReadAllocator a = allocator(4);
        ByteBuf first = a.ioBuffer(CHUNK);
        assertEquals(0, first.readableBytes(), "a read buffer starts empty");
        assertEquals(CHUNK, first.writableBytes());
        long address = first.memoryAddress();
        first.writeLong(42);
        first.release();
        assertEquals(CHUNK, a.cachedBytes());

        ByteBuf second = a.directBuffer(CHUNK);
        assertEquals(address, second.memoryAddress(), "the same memory comes back");
        assertEquals(0, second.readableBytes());
        assertEquals(0, a.cachedBytes());
        second.release();
    }

    @Test
    void memoryStaysWithItsBufferUntilTheLastSliceIsReleased() {
        RecyclingReadAllocator a = allocator(4);
        ByteBuf read = a.ioBuffer(CHUNK);
        read.writeBytes(new byte[1000]);
        ByteBuf frame = read.readRetainedSlice(600); // what FrameDecoder hands on
        read.release();
        assertEquals(0, a.cachedBytes(), "a frame still uses the memory");

        ByteBuf other = a.ioBuffer(CHUNK);
        assertNotEquals(frame.memoryAddress(), other.memoryAddress(), "memory in use is not handed out");
        frame.release();
        assertEquals(CHUNK, a.cachedBytes());
        other.release();
        assertEquals(2L * CHUNK, a.cachedBytes());
    }

    @Test
    void otherSizesGoToTheDelegateAndAreNotCached() {
        RecyclingReadAllocator a = allocator(4);
        List<ByteBuf> bufs = List.of(a.ioBuffer(CHUNK / 2), a.directBuffer(CHUNK * 2), a.buffer(CHUNK / 2),
                a.heapBuffer(CHUNK), a.directBuffer(CHUNK / 4, CHUNK), a.compositeBuffer());
        for (ByteBuf b : bufs) {
            b.release();
        }
        assertEquals(0, a.cachedBytes());
    }

    @Test
    void atMostTheCapIsKept() {
        RecyclingReadAllocator a = allocator(3);
        List<ByteBuf> bufs = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            bufs.add(a.ioBuffer(CHUNK));
        }
        bufs.forEach(ByteBuf::release);
        assertEquals(3L * CHUNK, a.cachedBytes());
    }

    @Test
    void idleMemoryIsFreedOnlyAfterTheIdleTime() {
        RecyclingReadAllocator a = allocator(4);
        a.ioBuffer(CHUNK).release();
        long afterUse = System.nanoTime();
        a.trimIdle(afterUse);
        assertEquals(CHUNK, a.cachedBytes(), "used just now: kept");
        a.trimIdle(afterUse + IDLE + 1);
        assertEquals(0, a.cachedBytes(), "idle longer than the idle time: freed");
    }

    @Test
    void cachedMemoryIsFreedWithoutAskingOnceIdle() throws InterruptedException {
        RecyclingReadAllocator a = new RecyclingReadAllocator(new UnpooledByteBufAllocator(true), CHUNK,
                4L * CHUNK, 50_000_000L); // 50 ms
        a.ioBuffer(CHUNK).release();
        assertEquals(CHUNK, a.cachedBytes());
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (a.cachedBytes() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, a.cachedBytes(), "no large read for 50 ms: the cache frees itself");
    }

    @Test
    void aChannelReadsThroughItAndGivesTheMemoryBack() {
        RecyclingReadAllocator a = allocator(4);
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setOption(ChannelOption.ALLOCATOR, a);
        ByteBuf read = ch.alloc().ioBuffer(CHUNK);
        read.writeBytes(new byte[CHUNK]);
        ch.writeInbound(read);
        ByteBuf got = ch.readInbound();
        got.release();
        assertEquals(CHUNK, a.cachedBytes());
        ch.finishAndReleaseAll();
    }

    @Test
    void recycledBuffersAreWatchedByNettysLeakDetector() {
        ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        try {
            RecyclingReadAllocator a = allocator(4);
            ByteBuf b = a.ioBuffer(CHUNK);
            assertTrue(b.getClass().getSimpleName().contains("LeakAware"), b.getClass().getName());
            b.release();
            assertEquals(CHUNK, a.cachedBytes(), "released through the wrapper, the memory comes back");
        } finally {
            ResourceLeakDetector.setLevel(before);
        }
    }

    @Test
    void badSettingsAreRefused() {
        ByteBufAllocator d = UnpooledByteBufAllocator.DEFAULT;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RecyclingReadAllocator(d, 0, 1, 1));
        assertTrue(e.getMessage().contains("chunkSize: 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RecyclingReadAllocator(d, 1, -1, 1));
    }
}
