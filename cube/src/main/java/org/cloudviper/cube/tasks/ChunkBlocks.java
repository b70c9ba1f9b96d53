package org.cloudviper.cube.tasks;

import org.apache.arrow.memory.BufferAllocator;
import org.cloudviper.cube.ChunkReader;
import org.cloudviper.cube.Dataset;
import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.StokesIBlock;
import org.cloudviper.imaging.VisBlock;
import org.cloudviper.worker.tasks.ArrowTable;

/**
 * A chunk read as Stokes I blocks, one per record batch, for one task. Its Arrow memory comes from
 * an allocator of its own, limited to {@code -Dcloudviper.imaging.readMemory} bytes (default 512
 * MiB: a record batch must fit) and released on close, whatever happened; the heap arrays of the
 * Stokes I block are kept per thread and reused from task to task.
 */
final class ChunkBlocks implements AutoCloseable {
    static final String READ_MEMORY = "cloudviper.imaging.readMemory";
    private static final ThreadLocal<StokesIBlock> BLOCKS = ThreadLocal.withInitial(StokesIBlock::new);

    private final BufferAllocator allocator;
    private final ChunkReader reader;
    private final StokesIBlock block = BLOCKS.get();

    private ChunkBlocks(BufferAllocator allocator, ChunkReader reader) {
        this.allocator = allocator;
        this.reader = reader;
    }

    /** Opens chunk {@code key} of {@code dataset} (its schema checked against the description). */
    static ChunkBlocks open(Dataset dataset, String key) throws DatasetException {
        BufferAllocator allocator = ArrowTable.newAllocator("imaging " + key);
        try {
            allocator.setLimit(Long.getLong(READ_MEMORY, 512L << 20));
            return new ChunkBlocks(allocator, dataset.chunk(key, allocator));
        } catch (DatasetException | RuntimeException e) {
            allocator.close();
            throw e;
        }
    }

    /** The dataset channel of the chunk's first channel. */
    int chanStart() {
        return reader.chanStart();
    }

    int nchan() {
        return reader.nchan();
    }

    /** The object's name, for messages. */
    String object() {
        return reader.object();
    }

    /**
     * The next record batch's Stokes I, or null at the end; valid until the next call. Its weights may
     * be overwritten (with the imaging weights).
     */
    VisBlock next() throws DatasetException {
        if (!reader.next()) {
            return null;
        }
        reader.stokesI(block);
        return VisBlock.of(block.rows(), block.nchan(), block.u(), block.v(), block.w(), reader.freqHz(), block.vis(),
                block.weight());
    }

    /** Rows read so far. */
    long rows() {
        return reader.rows();
    }

    @Override
    public void close() {
        try {
            reader.close();
        } finally {
            allocator.close();
        }
    }
}
