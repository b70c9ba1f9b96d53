package org.cloudviper.protocol.netty;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.ProtocolException;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits the byte stream into Dask messages: {@code u64 L | u64 n | u64 len[n] | frames}, all
 * little-endian (distributed/comm/tcp.py). L is not trusted: distributed 2024 sets it to cover only a
 * leading run of frames, so the frame lengths alone decide where a message ends.
 *
 * <p>Emits {@link Frames} whose buffers are retained slices of the input (no copy). Limits are
 * checked as soon as the prelude is read, before any frame is buffered; a violation raises
 * {@link ProtocolException} and the decoder stops reading from that peer.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /** The most frame lengths whose prelude still fits one buffer. */
    private static final long MAX_FRAMES_IN_BUFFER = (Integer.MAX_VALUE - 16) / 8;

    private final FrameLimits limits;
    private boolean failed;

    public FrameDecoder(FrameLimits limits) {
        this.limits = limits;
        // Socket reads are kept as components instead of being merged into one growing buffer: the
        // merging cumulator re-copies everything received so far each time it grows, which made a
        // 256 MiB message take 6.6 s to arrive (0.14 s composite; bench measurement, docs/benchmarks.md).
        setCumulator(COMPOSITE_CUMULATOR);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            Frames f = tryRead(in, limits);
            if (f != null) {
                out.add(f);
            }
        } catch (ProtocolException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /**
     * Reads one whole message from {@code in} if it is all there, else leaves {@code in} untouched and
     * returns null. Shared with blocking readers of the same format.
     *
     * <p>A message is held in one int-indexed buffer until it is complete, so on top of
     * {@code limits} its prelude and frames together may not exceed {@link Integer#MAX_VALUE} bytes.
     */
    public static Frames tryRead(ByteBuf in, FrameLimits limits) {
        int start = in.readerIndex();
        if (in.readableBytes() < 16) {
            return null;
        }
        long total = in.getLongLE(start);
        long n = in.getLongLE(start + 8);
        long maxFrames = Math.min(limits.maxFrames(), MAX_FRAMES_IN_BUFFER);
        if (n < 0 || n > maxFrames) {
            throw ProtocolException.limit("frame count", n, maxFrames);
        }
        // L is only checked for sanity: 2022 counts every byte after it, 2024 only the prelude and a
        // leading run of frames (distributed/comm/tcp.py _add_frames_header); the lengths decide.
        long preludeEnd = 16 + 8 * n;
        long maxSum = Math.min(limits.maxMessageSize(), Integer.MAX_VALUE - preludeEnd);
        if (total < 0 || total > preludeEnd - 8 + maxSum) {
            throw ProtocolException.limit("message length", total, preludeEnd - 8 + maxSum);
        }
        if (total < preludeEnd - 8) {
            throw new ProtocolException("message length: " + total + " (expected: >= " + (preludeEnd - 8) + ")");
        }
        if (in.readableBytes() < preludeEnd) {
            return null;
        }
        long sum = 0;
        for (int i = 0; i < n; i++) {
            long len = in.getLongLE(start + 16 + 8 * i);
            if (len < 0 || len > limits.maxFrameSize()) {
                throw ProtocolException.limit("frame size", len, limits.maxFrameSize());
            }
            sum += len;
            if (sum > maxSum) {
                throw ProtocolException.limit("message size", sum, maxSum);
            }
        }
        if (in.readableBytes() < preludeEnd + sum) {
            return null;
        }
        List<ByteBuf> frames = new ArrayList<>((int) n);
        in.readerIndex(start + (int) preludeEnd);
        for (int i = 0; i < n; i++) {
            int len = (int) in.getLongLE(start + 16 + 8 * i);
            frames.add(in.readRetainedSlice(len));
        }
        return new Frames(frames);
    }
}
