package org.cloudviper.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.util.AbstractReferenceCounted;
import io.netty.util.ReferenceCounted;

import java.util.List;

/**
 * A Dask sub-object ({@code {"__Serialized__": i}} or {@code {"__Pickled__": i}} in frame 0) kept
 * opaque: its sub-header frame and its data frames travel on byte for byte, never decoded.
 *
 * <p>The scheduler never deserializes task results, exceptions or pickled arguments; it only
 * forwards them (distributed's scheduler runs with {@code deserialize=False} for the same reason).
 * The object owns one reference to each frame; {@link #release()} frees them all.
 */
public final class SubObject extends AbstractReferenceCounted {
    /** Which placeholder key stood in frame 0. */
    public enum Kind {
        SERIALIZED("__Serialized__"), PICKLED("__Pickled__");

        final String marker;

        Kind(String marker) {
            this.marker = marker;
        }

        public String marker() {
            return marker;
        }
    }

    private final Kind kind;
    private final ByteBuf header;
    private final List<ByteBuf> frames;

    /** Takes ownership of {@code header} and every frame of {@code frames}. */
    public SubObject(Kind kind, ByteBuf header, List<ByteBuf> frames) {
        this.kind = kind;
        this.header = header;
        this.frames = List.copyOf(frames);
    }

    public Kind kind() {
        return kind;
    }

    /** The msgpack sub-header frame (read-only view; do not release). */
    public ByteBuf header() {
        return header;
    }

    /** The data frames (read-only views; do not release). */
    public List<ByteBuf> frames() {
        return frames;
    }

    /** Total bytes of the data frames, as Dask reports for {@code nbytes} of relayed values. */
    public long dataBytes() {
        long n = 0;
        for (ByteBuf f : frames) {
            n += f.readableBytes();
        }
        return n;
    }

    @Override
    protected void deallocate() {
        header.release();
        for (ByteBuf f : frames) {
            f.release();
        }
    }

    @Override
    public ReferenceCounted touch(Object hint) {
        header.touch(hint);
        for (ByteBuf f : frames) {
            f.touch(hint);
        }
        return this;
    }

    @Override
    public String toString() {
        return kind.marker + "(" + frames.size() + " frames, " + dataBytes() + " bytes)";
    }
}
