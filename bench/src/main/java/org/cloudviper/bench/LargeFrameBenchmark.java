package org.cloudviper.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A gather-reply-shaped message carrying one 64 MiB result: frame 0
 * {@code {"status": "OK", "data": {key: {"__Serialized__": 1}}}}, a sub-header frame and one
 * 64 MiB data frame (Dask shards frames at 64 MiB, so this is the largest frame a 2022.12.1 peer
 * normally sends). Score is messages per second; MiB/s = score x 64.
 *
 * <ul>
 *   <li>{@code decode}: FrameDecoder.tryRead + MessageCodec.decode of the whole message already in
 *       one buffer (slices, no copy of the 64 MiB);</li>
 *   <li>{@code encode}: MessageCodec.encode + FrameEncoder.toBuffer (a composite of the prelude and
 *       retained duplicates of the frames, no copy);</li>
 *   <li>{@code relay}: decode, put the sub-object into a new reply, encode: what the scheduler does
 *       to relay a gathered result to a client;</li>
 *   <li>{@code channelFragmented}: the message written into an EmbeddedChannel running
 *       {@link FrameDecoder} in 64 KiB pieces, as socket reads deliver it (Netty's read buffers are
 *       at most 64 KiB). This includes ByteToMessageDecoder's cumulation, which copies the pieces
 *       into one growing buffer;</li>
 *   <li>{@code copyBaseline}: one plain copy of 64 MiB between direct buffers, for scale.</li>
 * </ul>
 *
 * <pre>java -jar bench/target/benchmarks.jar LargeFrameBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {"-Xmx2g"})
public class LargeFrameBenchmark {
    static final int FRAME = 64 << 20;
    static final int PIECE = 64 << 10;
    static final String KEY = "make-0123456789abcdef0123456789abcdef";

    private SubObject result;
    private Map<String, Object> message;
    /** The message as it arrives: prelude and frames in one direct buffer. */
    private ByteBuf wire;
    private ByteBuf copyTarget;
    private EmbeddedChannel channel;

    @Setup(Level.Trial)
    public void build() {
        ByteBuf data = ByteBufAllocator.DEFAULT.directBuffer(FRAME, FRAME);
        byte[] chunk = new byte[1 << 20];
        for (int i = 0; i < FRAME / chunk.length; i++) {
            ThreadLocalRandom.current().nextBytes(chunk);
            data.writeBytes(chunk);
        }
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("serializer", "dask");
        header.put("compression", java.util.Collections.singletonList(null));
        header.put("num-sub-frames", 1L);
        result = new SubObject(SubObject.Kind.SERIALIZED, Unpooled.wrappedBuffer(MessageCodec.pack(header)),
                List.of(data));
        message = reply(result);

        ByteBuf composite = FrameEncoder.toBuffer(ByteBufAllocator.DEFAULT, MessageCodec.encode(message));
        wire = ByteBufAllocator.DEFAULT.directBuffer(composite.readableBytes());
        wire.writeBytes(composite);
        composite.release();
        copyTarget = ByteBufAllocator.DEFAULT.directBuffer(FRAME, FRAME);
        channel = new EmbeddedChannel(new FrameDecoder(FrameLimits.DEFAULT));
        checkZeroCopy();
    }

    /** Fails the run if decode or encode copied the 64 MiB frame instead of slicing it. */
    private void checkZeroCopy() {
        ByteBuf in = wire.retainedDuplicate();
        Frames f = FrameDecoder.tryRead(in, FrameLimits.DEFAULT);
        in.release();
        Object v = MessageCodec.decode(f);
        f.release();
        SubObject s = (SubObject) ((Map<?, ?>) ((Map<?, ?>) v).get("data")).get(KEY);
        ByteBuf decoded = s.frames().get(0);
        long inAddress = wire.memoryAddress() + wire.readableBytes() - FRAME;
        if (decoded.readableBytes() != FRAME || decoded.memoryAddress() != inAddress) {
            throw new IllegalStateException("decode copied the data frame");
        }
        CompositeByteBuf out = (CompositeByteBuf) FrameEncoder.toBuffer(ByteBufAllocator.DEFAULT,
                MessageCodec.encode(reply(s)));
        boolean shared = false;
        for (int i = 0; i < out.numComponents(); i++) {
            ByteBuf c = out.internalComponent(i);
            shared |= c.readableBytes() == FRAME && c.memoryAddress() == inAddress;
        }
        out.release();
        s.release();
        if (!shared) {
            throw new IllegalStateException("encode copied the data frame");
        }
    }

    private static Map<String, Object> reply(SubObject value) {
        Map<Object, Object> data = new LinkedHashMap<>();
        data.put(KEY, value);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", "OK");
        m.put("data", data);
        return m;
    }

    @TearDown(Level.Trial)
    public void release() {
        result.release();
        wire.release();
        copyTarget.release();
        if (channel.finish()) {
            throw new IllegalStateException("bytes left in the channel");
        }
    }

    @Benchmark
    public Object decode() {
        ByteBuf in = wire.retainedDuplicate();
        Frames f = FrameDecoder.tryRead(in, FrameLimits.DEFAULT);
        in.release();
        try {
            Object v = MessageCodec.decode(f);
            Captures.releaseTree(v);
            return v;
        } finally {
            f.release();
        }
    }

    @Benchmark
    public int encode() {
        ByteBuf out = FrameEncoder.toBuffer(ByteBufAllocator.DEFAULT, MessageCodec.encode(message));
        int n = out.readableBytes();
        out.release();
        return n;
    }

    @Benchmark
    public int relay() {
        ByteBuf in = wire.retainedDuplicate();
        Frames f = FrameDecoder.tryRead(in, FrameLimits.DEFAULT);
        in.release();
        Object v;
        try {
            v = MessageCodec.decode(f);
        } finally {
            f.release();
        }
        SubObject s = (SubObject) ((Map<?, ?>) ((Map<?, ?>) v).get("data")).get(KEY);
        ByteBuf out = FrameEncoder.toBuffer(ByteBufAllocator.DEFAULT, MessageCodec.encode(reply(s)));
        s.release();
        int n = out.readableBytes();
        out.release();
        return n;
    }

    @Benchmark
    public long channelFragmented() {
        int n = wire.readableBytes();
        for (int off = 0; off < n; off += PIECE) {
            channel.writeInbound(wire.retainedSlice(off, Math.min(PIECE, n - off)));
        }
        Frames f = channel.readInbound();
        if (f == null) {
            throw new IllegalStateException("no message decoded");
        }
        long total = f.totalBytes();
        f.release();
        return total;
    }

    @Benchmark
    public int copyBaseline() {
        copyTarget.clear();
        copyTarget.writeBytes(wire, wire.readableBytes() - FRAME, FRAME);
        return copyTarget.writerIndex();
    }
}
