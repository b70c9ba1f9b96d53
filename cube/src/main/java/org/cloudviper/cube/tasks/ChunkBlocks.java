package org.cloudviper.cube.tasks;

import org.apache.arrow.memory.BufferAllocator;
import org.cloudviper.cube.ChunkReader;
import org.cloudviper.cube.Dataset;
import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.StokesIBlock;
import org.cloudviper.imaging.VisBlock;
import org.cloudviper.worker.tasks.ArrowTable;

/**
 * A chunk read as Stokes I blocks for one task, each gathering record batches until it holds {@code
 * -Dcloudviper.imaging.blockSamples} samples (default 2^21; a block is one batch or more, all of the
 * chunk when it is smaller), so that each gridding call sorts and spreads over the compute threads as
 * many samples as that bound allows rather than one batch's. Its Arrow memory comes from an allocator
 * of its own, limited to {@code -Dcloudviper.imaging.readMemory} bytes (default 512 MiB: the record
 * batches held at once must fit: the one being turned into Stokes I, those read ahead and decoded,
 * {@code -Dcloudviper.arrow.readAhead} (default 0), and the one being read) and released on close,
 * whatever happened. The heap
 * arrays of the Stokes I block (12 bytes per sample and 24 per row, as large as the largest block) are
 * kept per thread and reused from task to task.
 */
final class ChunkBlocks implements AutoCloseable {
    static final String READ_MEMORY = "cloudviper.imaging.readMemory";
    static final String BLOCK_SAMPLES = "cloudviper.imaging.blockSamples";
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
     * The Stokes I of the next record batches, as many as make up {@code blockSamples} samples (or
     * the rest of the chunk), or null at the end; valid until the next call. Its weights may be
     * overwritten (with the imaging weights).
     */
    VisBlock next() throws DatasetException {
        block.clear();
        long limit = Long.getLong(BLOCK_SAMPLES, 1L << 21);
        while (block.samples() < limit && reader.next()) {
            reader.appendStokesI(block);
        }
        if (block.rows() == 0) {
            return null;
        }
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
