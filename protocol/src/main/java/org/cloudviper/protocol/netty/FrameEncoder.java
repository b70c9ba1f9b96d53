package org.cloudviper.protocol.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import org.cloudviper.protocol.Frames;

import java.util.List;

/**
 * Writes {@link Frames} with the Dask prelude. L always covers every byte after itself, which both
 * distributed 2022 and 2024 readers accept. Frames are not copied: the prelude and the frames go out
 * as one composite buffer, whose release frees the frames.
 */
@ChannelHandler.Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frames> {
    public static final FrameEncoder INSTANCE = new FrameEncoder();

    private FrameEncoder() {
        super(Frames.class);
    }

    /**
     * The prelude and each frame go to the channel as separate buffers (one gathering write). A
     * composite of them would count as direct only if every frame were, and the channel copies a
     * non-direct buffer whole: relaying 1 GiB of socket-read (direct) frames behind a small heap
     * msgpack header then cost a 1 GiB copy and, past the direct-memory limit, a failed write.
     */
    @Override
    protected void encode(ChannelHandlerContext ctx, Frames msg, List<Object> out) {
        out.add(prelude(ctx.alloc(), msg.frames()));
        for (ByteBuf f : msg.frames()) {
            if (f.isDirect() || f.hasMemoryAddress() || f.readableBytes() <= HEAP_SLICE_BYTES) {
                out.add(f);
                continue;
            }
            for (int at = f.readerIndex(); at < f.writerIndex(); at += HEAP_SLICE_BYTES) {
                out.add(f.retainedSlice(at, Math.min(HEAP_SLICE_BYTES, f.writerIndex() - at)));
            }
            f.release();
        }
    }

    /**
     * A heap frame larger than this goes to the channel in slices of this size (views, not copies).
     * The epoll and NIO channels copy every heap buffer into direct memory before writing it; Netty's
     * adaptive allocator lends buffers of up to 1 MiB from chunks it reuses, and gives a larger one
     * fresh memory, whose first touch costs about 1.5 ms per MB on a VM (a 32 MiB numpy result:
     * some 50 ms of page faults on the event loop per send).
     */
    static final int HEAP_SLICE_BYTES = 1 << 20;

    private static ByteBuf prelude(ByteBufAllocator alloc, List<ByteBuf> frames) {
        int n = frames.size();
        ByteBuf prelude = alloc.buffer(16 + 8 * n);
        long total = 8 + 8L * n;
        for (ByteBuf f : frames) {
            total += f.readableBytes();
        }
        prelude.writeLongLE(total);
        prelude.writeLongLE(n);
        for (ByteBuf f : frames) {
            prelude.writeLongLE(f.readableBytes());
        }
        return prelude;
    }

    /** The whole message as one buffer; takes over the references of {@code msg}'s frames. */
    public static ByteBuf toBuffer(ByteBufAllocator alloc, Frames msg) {
        List<ByteBuf> frames = msg.frames();
        int n = frames.size();
        ByteBuf prelude = prelude(alloc, frames);
        CompositeByteBuf c = alloc.compositeBuffer(n + 1);
        c.addComponent(true, prelude);
        for (ByteBuf f : frames) {
            c.addComponent(true, f);
        }
        return c;
    }
}
