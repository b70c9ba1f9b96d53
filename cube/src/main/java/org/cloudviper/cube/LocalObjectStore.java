package org.cloudviper.cube;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** {@link ObjectStore} over a local folder; a written file appears under its name only when complete. */
final class LocalObjectStore implements ObjectStore {
    private final Path root;

    LocalObjectStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    @Override
    public String location() {
        return root.toString();
    }

    @Override
    public String uri(String key) {
        return file(key).toString();
    }

    private Path file(String key) {
        Path p = root.resolve(key).normalize();
        if (!p.startsWith(root)) {
            throw new IllegalArgumentException("key " + key + " leaves the folder " + root);
        }
        return p;
    }

    @Override
    public InputStream read(String key) throws DatasetException {
        Path p = file(key);
        try {
            return new NamedInputStream(Files.newInputStream(p), p.toString());
        } catch (IOException e) {
            throw failure(p, "cannot open", e);
        }
    }

    @Override
    public byte[] readHead(String key, int maxBytes) throws DatasetException {
        Path p = file(key);
        try (InputStream in = Files.newInputStream(p)) {
            return in.readNBytes(maxBytes);
        } catch (IOException e) {
            throw failure(p, "cannot read", e);
        }
    }

    @Override
    public byte[] readAll(String key, int maxBytes) throws DatasetException {
        long size = size(key);
        if (size > maxBytes) {
            throw new DatasetException(DatasetException.Kind.FORMAT, uri(key), size + " bytes (expected: <= " + maxBytes + ")");
        }
        try {
            return Files.readAllBytes(file(key));
        } catch (IOException e) {
            throw failure(file(key), "cannot read", e);
        }
    }

    @Override
    public long size(String key) throws DatasetException {
        Path p = file(key);
        try {
            return Files.size(p);
        } catch (IOException e) {
            throw failure(p, "cannot stat", e);
        }
    }

    @Override
    public UploadStream write(String key) throws DatasetException {
        Path target = file(key);
        try {
            Files.createDirectories(target.getParent());
            Path partial = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".partial");
            return new PartialFile(partial, target);
        } catch (IOException e) {
            throw failure(target, "cannot create", e);
        }
    }

    /** Written beside the target under a hidden name, moved over it when complete. */
    private static final class PartialFile extends UploadStream {
        private final Path partial;
        private final Path target;
        private final OutputStream out;
        private boolean closed;

        PartialFile(Path partial, Path target) throws IOException {
            this.partial = partial;
            this.target = target;
            this.out = Files.newOutputStream(partial);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw failure(target, "cannot write", e);
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                out.close();
                Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                Files.deleteIfExists(partial);
                throw failure(target, "cannot write", e);
            }
        }

        @Override
        public void abort() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                out.close();
            } catch (IOException ignored) {
                // dropped anyway
            }
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // a hidden .partial file is all that can be left
            }
        }
    }

    @Override
    public void put(String key, byte[] bytes) throws DatasetException {
        try (OutputStream out = write(key)) {
            out.write(bytes);
        } catch (DatasetException e) {
            throw e;
        } catch (IOException e) {
            throw failure(file(key), "cannot write", e);
        }
    }

    static DatasetException failure(Path p, String doing, IOException e) {
        if (e instanceof DatasetException d) {
            return d;
        }
        if (e instanceof NoSuchFileException) {
            return new DatasetException(DatasetException.Kind.NOT_FOUND, p.toString(), "no such file", e);
        }
        if (e instanceof AccessDeniedException) {
            return new DatasetException(DatasetException.Kind.ACCESS_DENIED, p.toString(), "access denied", e);
        }
        if (e instanceof FileAlreadyExistsException) {
            return new DatasetException(DatasetException.Kind.IO, p.toString(), doing + ": a file is in the way", e);
        }
        return new DatasetException(DatasetException.Kind.IO, p.toString(), doing + ": " + e, e);
    }

    @Override
    public void close() {
        // nothing held
    }

    /** Read errors as {@link DatasetException}s naming the file. */
    private static final class NamedInputStream extends java.io.FilterInputStream {
        private final String name;

        NamedInputStream(InputStream in, String name) {
            super(in);
            this.name = name;
        }

        @Override
        public int read() throws IOException {
            try {
                return in.read();
            } catch (IOException e) {
                throw failure(Path.of(name), "cannot read", e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return in.read(b, off, len);
            } catch (IOException e) {
                throw failure(Path.of(name), "cannot read", e);
            }
        }
    }
}
