package org.cloudviper.scheduler.server.graph;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.Generation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The update-graph-hlg messages {@code layers/make_layers22.py} captured from a 2022.12.1 client
 * (test resources {@code layers/dask-2022/<case>-<n>.bin}, framed as they crossed the socket).
 */
final class LayerCaptures {
    private LayerCaptures() {
    }

    static Path dir() {
        try {
            return Path.of(LayerCaptures.class.getResource("/layers/dask-2022").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The capture names ({@code <case>-<n>}), sorted. */
    static List<String> names() {
        try (Stream<Path> s = Files.list(dir())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".bin"))
                    .map(n -> n.substring(0, n.length() - 4)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] raw(String name) {
        try {
            return Files.readAllBytes(dir().resolve(name + ".bin"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** u64 total | u64 count | count x u64 length | frames, little-endian. */
    static Frames frames(byte[] raw) {
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        b.getLong();
        int n = (int) b.getLong();
        long[] lengths = new long[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = b.getLong();
        }
        List<ByteBuf> out = new ArrayList<>();
        for (long length : lengths) {
            byte[] f = new byte[(int) length];
            b.get(f);
            out.add(Unpooled.wrappedBuffer(f));
        }
        return new Frames(out);
    }

    /** The framing of {@link #frames}. */
    static byte[] framed(List<byte[]> frames) {
        long body = 8 + 8L * frames.size();
        for (byte[] f : frames) {
            body += f.length;
        }
        ByteBuffer b = ByteBuffer.allocate((int) (8 + body)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(body).putLong(frames.size());
        for (byte[] f : frames) {
            b.putLong(f.length);
        }
        for (byte[] f : frames) {
            b.put(f);
        }
        return b.array();
    }

    /** A decoded capture: its update-graph-hlg record and the tree that owns its sub-objects. */
    record Capture(ClientToScheduler.UpdateGraphHlg message, Object tree) implements AutoCloseable {
        @Override
        public void close() {
            MessageCodec.release(tree);
        }
    }

    static Capture decode(String name) {
        Frames frames = frames(raw(name));
        Object tree;
        try {
            tree = MessageCodec.decode(frames);
        } finally {
            frames.release();
        }
        List<?> batch = tree instanceof List<?> l ? l : List.of(tree);
        for (Object m : batch) {
            if (m instanceof Map<?, ?> map && "update-graph-hlg".equals(map.get("op"))) {
                return new Capture((ClientToScheduler.UpdateGraphHlg) ClientToScheduler.decode(map, Generation.DASK_2022),
                        tree);
            }
        }
        MessageCodec.release(tree);
        throw new IllegalArgumentException(name + " holds no update-graph-hlg");
    }
}
