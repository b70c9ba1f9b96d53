package org.cloudviper.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.protocol.netty.FrameEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link MessageCodec} on the two messages the scheduler handles most: a compute-task it sends
 * (748 bytes on the wire, captured from distributed 2022.12.1) and the task-finished it receives
 * (283 bytes). Both are stream messages: frame 0 is a msgpack list holding one op map. Score is
 * messages per second.
 *
 * <ul>
 *   <li>{@code decode}: frame 0 -> Java value tree;</li>
 *   <li>{@code encode}: value tree -> frame 0;</li>
 *   <li>{@code encodeDecode}: both, the codec's round trip;</li>
 *   <li>{@code wire}: the whole per-message path of a connection: FrameDecoder.tryRead on the raw
 *       bytes, decode, encode, FrameEncoder.toBuffer, release.</li>
 * </ul>
 *
 * <pre>java -jar bench/target/benchmarks.jar CodecBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {"-Xmx1g"})
public class CodecBenchmark {
    @Param({"compute-task", "task-finished"})
    public String message;

    private Frames frames;
    private Object value;
    private ByteBuf raw;

    @Setup(Level.Trial)
    public void load() {
        String file = message.equals("compute-task")
                ? "scheduler-to-worker.compute-task.bin" : "worker-to-scheduler.task-finished.bin";
        frames = Captures.frames(file);
        value = MessageCodec.decode(frames);
        if (!(value instanceof List<?> l) || l.size() != 1) {
            throw new IllegalStateException(file + ": expected a one-message batch, got " + value);
        }
        raw = Unpooled.wrappedBuffer(Captures.raw(file));
    }

    @TearDown(Level.Trial)
    public void release() {
        frames.release();
        raw.release();
    }

    @Benchmark
    public Object decode() {
        return MessageCodec.decode(frames);
    }

    @Benchmark
    public long encode() {
        Frames f = MessageCodec.encode(value);
        long n = f.totalBytes();
        f.release();
        return n;
    }

    @Benchmark
    public long encodeDecode() {
        Frames f = MessageCodec.encode(value);
        try {
            return ((List<?>) MessageCodec.decode(f)).size();
        } finally {
            f.release();
        }
    }

    @Benchmark
    public int wire() {
        ByteBuf in = raw.retainedDuplicate();
        Frames f = FrameDecoder.tryRead(in, FrameLimits.DEFAULT);
        in.release();
        Object v;
        try {
            v = MessageCodec.decode(f);
        } finally {
            f.release();
        }
        ByteBuf out = FrameEncoder.toBuffer(ByteBufAllocator.DEFAULT, MessageCodec.encode(v));
        int n = out.readableBytes();
        out.release();
        return n;
    }
}
