package org.cloudviper.protocol;

import io.netty.buffer.ByteBuf;

import java.util.List;

/**
 * The frames of one Dask message as they travel on the wire: frame 0 is msgpack, the rest belong to
 * sub-objects. Owns one reference to each frame.
 */
public record Frames(List<ByteBuf> frames) {
    public Frames {
        frames = List.copyOf(frames);
    }

    public int count() {
        return frames.size();
    }

    public long totalBytes() {
        long n = 0;
        for (ByteBuf f : frames) {
            n += f.readableBytes();
        }
        return n;
    }

    public void release() {
        for (ByteBuf f : frames) {
            if (f.refCnt() > 0) {
                f.release();
            }
        }
    }
}
