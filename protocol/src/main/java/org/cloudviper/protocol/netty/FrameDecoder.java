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
 * <p>Emits {@link Frames} whose buffers are retained slices of the input (no copy), or, for a frame 0
 * above the threshold given, the {@link StreamedMessage} parts of the message as it arrives. Limits
 * are checked as soon as the prelude is read, before any frame is buffered; a violation raises
 * {@link ProtocolException} and the decoder stops reading from that peer.
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    /** The most frame lengths whose prelude still fits one buffer. */
    private static final long MAX_FRAMES_IN_BUFFER = (Integer.MAX_VALUE - 16) / 8;

    private final FrameLimits limits;
    /** A frame 0 of at least this many bytes is handed on as it arrives ({@link StreamedMessage}). */
    private final long streamFrame0From;
    private boolean failed;
    /** While a message is streamed: bytes of its frame 0 still to come, then -1 once all were handed on. */
    private long frame0Left = -1;
    /** While a message is streamed: the lengths of its frames after frame 0. */
    private long[] restLengths;

    public FrameDecoder(FrameLimits limits) {
        this(limits, Long.MAX_VALUE);
    }

    /**
     * @param streamFrame0From messages whose frame 0 has at least this many bytes are emitted as
     *                         {@link StreamedMessage} parts while they arrive; the others (and every
     *                         message with {@code Long.MAX_VALUE}) as whole {@link Frames}
     */
    public FrameDecoder(FrameLimits limits, long streamFrame0From) {
        if (streamFrame0From < 1) {
            throw new IllegalArgumentException("streamFrame0From: " + streamFrame0From + " (expected: >= 1)");
        }
        this.limits = limits;
        this.streamFrame0From = streamFrame0From;
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
            if (restLengths != null) {
                continueStream(in, out);
                return;
            }
            Prelude p = prelude(in, limits);
            if (p == null) {
                return;
            }
            if (p.count > 0 && p.frame0 >= streamFrame0From) {
                int start = in.readerIndex();
                restLengths = new long[p.count - 1];
                for (int i = 1; i < p.count; i++) {
                    restLengths[i - 1] = in.getLongLE(start + 16 + 8 * i);
                }
                in.skipBytes((int) p.end);
                frame0Left = p.frame0;
                out.add(new StreamedMessage.Start(frame0Left, p.count));
                continueStream(in, out);
                return;
            }
            Frames f = frames(in, p);
            if (f != null) {
                out.add(f);
            }
        } catch (ProtocolException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /** Hands on what has arrived of the streamed frame 0, then the other frames once all are there. */
    private void continueStream(ByteBuf in, List<Object> out) {
        if (frame0Left > 0) {
            int n = (int) Math.min(in.readableBytes(), frame0Left);
            if (n == 0) {
                return;
            }
            out.add(new StreamedMessage.Piece(in.readRetainedSlice(n)));
            frame0Left -= n;
            if (frame0Left > 0) {
                return;
            }
        }
        long sum = 0;
        for (long len : restLengths) {
            sum += len;
        }
        if (in.readableBytes() < sum) {
            return;
        }
        List<ByteBuf> rest = new ArrayList<>(restLengths.length);
        for (long len : restLengths) {
            rest.add(in.readRetainedSlice((int) len));
        }
        restLengths = null;
        frame0Left = -1;
        out.add(new StreamedMessage.End(new Frames(rest)));
    }

    /** A message's prelude: the frame lengths (checked against the limits) and where the frames start. */
    private record Prelude(int count, long frame0, long end, long sum) {
    }

    /**
     * Reads one whole message from {@code in} if it is all there, else leaves {@code in} untouched and
     * returns null. Shared with blocking readers of the same format.
     *
     * <p>A message is held in one int-indexed buffer until it is complete, so on top of
     * {@code limits} its prelude and frames together may not exceed {@link Integer#MAX_VALUE} bytes.
     */
    public static Frames tryRead(ByteBuf in, FrameLimits limits) {
        Prelude p = prelude(in, limits);
        return p == null ? null : frames(in, p);
    }

    /** The prelude at {@code in}'s reader index if all of it is there (nothing consumed), else null. */
    private static Prelude prelude(ByteBuf in, FrameLimits limits) {
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
        return new Prelude((int) n, n == 0 ? 0 : in.getLongLE(start + 16), preludeEnd, sum);
    }

    private static Frames frames(ByteBuf in, Prelude p) {
        if (in.readableBytes() < p.end + p.sum) {
            return null;
        }
        int start = in.readerIndex();
        List<ByteBuf> frames = new ArrayList<>(p.count);
        in.readerIndex(start + (int) p.end);
        for (int i = 0; i < p.count; i++) {
            frames.add(in.readRetainedSlice((int) in.getLongLE(start + 16 + 8 * i)));
        }
        return new Frames(frames);
    }
}
