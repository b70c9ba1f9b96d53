package org.cloudviper.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Messages captured from real Dask peers, one whole framed message per file exactly as it crossed
 * the socket (see {@code captures/dask-2022.12.1/README.md} in this module's resources for how).
 * Names are relative to a generation's folder, e.g. {@code scheduler-to-worker.compute-task.bin}.
 */
public final class Captures {
    /** The folder of the captures from distributed 2022.12.1 peers. */
    public static final String DASK_2022 = "dask-2022.12.1";
    /** The folder of the captures from distributed 2024.1.1 peers. */
    public static final String DASK_2024_1 = "dask-2024.1.1";
    /** The folder of the captures from distributed 2024.12.1 peers. */
    public static final String DASK_2024 = "dask-2024.12.1";

    private Captures() {
    }

    /** The {@code .bin} files of {@code generation}'s folder, sorted by name. */
    public static List<String> names(String generation) {
        URL url = Captures.class.getResource("/captures/" + generation);
        if (url == null) {
            throw new IllegalArgumentException("no captures of " + generation);
        }
        try {
            URI uri = url.toURI();
            if (!"jar".equals(uri.getScheme())) {
                return list(Path.of(uri));
            }
            String inJar = "/captures/" + generation;
            try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of())) {
                return list(jar.getPath(inJar));
            } catch (FileSystemAlreadyExistsException e) {
                return list(FileSystems.getFileSystem(uri).getPath(inJar));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".bin")).sorted().toList();
        }
    }

    /** The whole framed message, prelude included. */
    public static byte[] raw(String generation, String name) {
        String path = "/captures/" + generation + "/" + name;
        try (InputStream in = Captures.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalArgumentException("no capture " + path);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The message's frames, split by reading the prelude by hand ({@code u64 L | u64 n | n x u64
     * length}, little-endian, where 2022 peers count every byte after {@code L} and later ones may
     * count only a leading run of small frames): independent of the production decoder it is meant
     * to check.
     */
    public static List<byte[]> frames(String generation, String name) {
        byte[] raw = raw(generation, name);
        ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        long total = b.getLong();
        if (generation.equals(DASK_2022) ? total != raw.length - 8 : total > raw.length - 8) {
            throw new IllegalStateException(name + ": L = " + total + " (expected: " + (raw.length - 8) + ")");
        }
        int n = (int) b.getLong();
        long[] lengths = new long[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = b.getLong();
        }
        List<byte[]> out = new ArrayList<>();
        for (long length : lengths) {
            byte[] f = new byte[(int) length];
            b.get(f);
            out.add(f);
        }
        if (b.hasRemaining()) {
            throw new IllegalStateException(name + ": " + b.remaining() + " bytes after the last frame");
        }
        return out;
    }
}
