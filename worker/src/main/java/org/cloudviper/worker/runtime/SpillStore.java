package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.SubObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The worker's local-disk store for spilled values: one file per value holding its Dask-serialized
 * form exactly (kind, header frame, data frames), so a value read back is served byte for byte as it
 * was computed or received. The directory is the worker's own and is removed by {@link #close}.
 * Confined to the worker's event loop.
 *
 * <p>File layout: {@code u8 kind | u32 frames | u64 headerLength | u64 frameLength[frames] | header |
 * frames}, big-endian.
 */
final class SpillStore implements AutoCloseable {
    /** One spilled value: where it is and how many bytes it takes on disk. */
    record Spilled(Path file, long diskBytes) {
    }

    private final Path dir;
    private final AtomicLong seq = new AtomicLong();
    private long diskBytes;

    SpillStore(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
    }

    Path directory() {
        return dir;
    }

    /** Bytes of every file currently in the store (Dask's {@code spilled_bytes["disk"]}). */
    long diskBytes() {
        return diskBytes;
    }

    /** Writes {@code value} to a new file; {@code value} stays owned by the caller. */
    Spilled write(SubObject value) throws IOException {
        Path file = dir.resolve("value-" + seq.incrementAndGet());
        List<ByteBuf> frames = value.frames();
        ByteBuffer head = ByteBuffer.allocate(1 + 4 + 8 + 8 * frames.size());
        head.put((byte) value.kind().ordinal()).putInt(frames.size()).putLong(value.header().readableBytes());
        for (ByteBuf f : frames) {
            head.putLong(f.readableBytes());
        }
        head.flip();
        long total = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            total += writeFully(ch, head);
            total += writeFully(ch, value.header());
            for (ByteBuf f : frames) {
                total += writeFully(ch, f);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // nothing was written there, or the folder itself is gone
            }
            throw new IOException("could not spill to " + file + ": " + e, e);
        }
        diskBytes += total;
        return new Spilled(file, total);
    }

    /** Reads a spilled value back as a new sub-object (the caller owns its one reference). */
    SubObject read(Spilled s) throws IOException {
        try (FileChannel ch = FileChannel.open(s.file(), StandardOpenOption.READ)) {
            ByteBuffer fixed = readFully(ch, 1 + 4 + 8, s);
            SubObject.Kind[] kinds = SubObject.Kind.values();
            int kind = fixed.get();
            int n = fixed.getInt();
            long headerLength = fixed.getLong();
            if (kind < 0 || kind >= kinds.length || n < 0 || headerLength < 0) {
                throw new IOException("spill file " + s.file() + " is corrupt (kind " + kind + ", " + n + " frames)");
            }
            ByteBuffer lengths = readFully(ch, 8L * n, s);
            ByteBuf header = Unpooled.wrappedBuffer(readFully(ch, headerLength, s));
            List<ByteBuf> frames = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                frames.add(Unpooled.wrappedBuffer(readFully(ch, lengths.getLong(), s)));
            }
            return new SubObject(kinds[kind], header, frames);
        }
    }

    /** Removes a spilled value's file; a file already gone is not an error. */
    void delete(Spilled s) {
        try {
            if (Files.deleteIfExists(s.file())) {
                diskBytes -= s.diskBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete spill file " + s.file(), e);
        }
    }

    /** Deletes the directory and whatever is left in it. */
    @Override
    public void close() throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
        diskBytes = 0;
    }

    private static long writeFully(FileChannel ch, ByteBuf b) throws IOException {
        long n = 0;
        for (ByteBuffer nio : b.nioBuffers()) {
            n += writeFully(ch, nio);
        }
        return n;
    }

    private static long writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        long n = b.remaining();
        while (b.hasRemaining()) {
            ch.write(b);
        }
        return n;
    }

    private static ByteBuffer readFully(FileChannel ch, long length, Spilled s) throws IOException {
        if (length > Integer.MAX_VALUE - 8) {
            throw new IOException("spill file " + s.file() + " is corrupt (a part of " + length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.allocate((int) length);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new IOException("spill file " + s.file() + " ends early");
            }
        }
        return b.flip();
    }
}
