package org.cloudviper.cube;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.apache.arrow.memory.BufferAllocator;

/**
 * Writes a dataset in the format of docs/data-format.md: chunks one after another
 * ({@link #chunk}), then {@link #finish()} writes {@code _dataset.json} listing those that were
 * completed. Until then a reader finds no dataset, so a half-written one is never read as whole.
 */
public final class DatasetWriter {
    private final ObjectStore store;
    private final DatasetInfo header;
    private final Compression compression;
    private final BufferAllocator allocator;
    private final List<String> chunks = new ArrayList<>();

    private DatasetWriter(ObjectStore store, DatasetInfo header, Compression compression, BufferAllocator allocator) {
        this.store = store;
        this.header = header;
        this.compression = compression;
        this.allocator = allocator;
    }

    /**
     * A writer into {@code store} of a dataset described by {@code header} (its chunk list is
     * ignored: the chunks written make it). Chunk buffers come from children of {@code allocator}.
     */
    public static DatasetWriter create(ObjectStore store, DatasetInfo header, Compression compression,
            BufferAllocator allocator) {
        return new DatasetWriter(store, header.withChunks(List.of()), compression, allocator);
    }

    /** The conventional chunk name: time block {@code timeIndex}, first channel {@code chanStart}. */
    public static String chunkName(int timeIndex, int chanStart) {
        return String.format(Locale.ROOT, "t%03d_c%04d.arrows", timeIndex, chanStart);
    }

    /** Starts chunk {@link #chunkName}({@code timeIndex}, {@code chanStart}) of {@code nchan} channels. */
    public ChunkWriter chunk(int timeIndex, int chanStart, int nchan) throws DatasetException {
        return chunk(chunkName(timeIndex, chanStart), chanStart, nchan);
    }

    /** Starts chunk {@code key} holding dataset channels [chanStart, chanStart + nchan). */
    public ChunkWriter chunk(String key, int chanStart, int nchan) throws DatasetException {
        if (chanStart < 0 || nchan < 1 || chanStart + nchan > header.nchan()) {
            throw new IllegalArgumentException("channels [" + chanStart + ", " + (chanStart + nchan)
                    + ") (expected: within [0, " + header.nchan() + "))");
        }
        double[] freq = Arrays.copyOfRange(header.freqHz(), chanStart, chanStart + nchan);
        ChunkSchema.Metadata meta = new ChunkSchema.Metadata(chanStart, freq, header.pols(), header.phaseCentreRad());
        return new ChunkWriter(store, key, meta, compression, allocator, () -> {
            synchronized (chunks) {
                chunks.add(key);
            }
        });
    }

    /**
     * Writes {@code _dataset.json} with the chunks completed so far, in name order (time-major for
     * the conventional names, whatever order they were completed in); returns what it says.
     */
    public DatasetInfo finish() throws DatasetException {
        DatasetInfo info;
        synchronized (chunks) {
            info = header.withChunks(chunks.stream().sorted().toList());
        }
        store.put(DatasetInfo.FILE_NAME, info.toJson());
        return info;
    }
}
