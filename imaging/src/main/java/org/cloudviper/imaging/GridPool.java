package org.cloudviper.imaging;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A bounded pool of {@link ChannelGrids} of one shape: what bounds a worker's grid memory to
 * {@code maxGrids} times {@link ChannelGrids#bytes()}. Grids are allocated on first demand and kept;
 * {@link #acquire} blocks while all are out, {@link #release} clears a grid and hands it back.
 */
public final class GridPool {
    private final Imager imager;
    private final int nchan;
    private final int maxGrids;
    private final Deque<ChannelGrids> free = new ArrayDeque<>();
    private int allocated;

    public GridPool(Imager imager, int nchan, int maxGrids) {
        if (maxGrids < 1) {
            throw new IllegalArgumentException("maxGrids: " + maxGrids + " (expected: >= 1)");
        }
        this.imager = imager;
        this.nchan = nchan;
        this.maxGrids = maxGrids;
    }

    /** A cleared grid; waits while {@code maxGrids} are out. */
    public ChannelGrids acquire() throws InterruptedException {
        synchronized (this) {
            while (free.isEmpty() && allocated == maxGrids) {
                wait();
            }
            if (!free.isEmpty()) {
                return free.pop();
            }
            allocated++;
        }
        try {
            return imager.newGrids(nchan);
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                allocated--;
                notifyAll();
            }
            throw e;
        }
    }

    /** Clears {@code grids} and returns it to the pool. */
    public void release(ChannelGrids grids) {
        if (grids.nchan() != nchan || grids.gridSize() != imager.kernel().gridSize()) {
            throw new IllegalArgumentException("grids of another shape");
        }
        grids.clear();
        synchronized (this) {
            free.push(grids);
            notifyAll();
        }
    }

    /** Grids allocated so far (out or free). */
    public synchronized int allocated() {
        return allocated;
    }
}
