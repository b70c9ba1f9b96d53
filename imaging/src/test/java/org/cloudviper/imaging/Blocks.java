package org.cloudviper.imaging;

import java.util.Arrays;

/** Slices of blocks, as the tasks of a distributed run see them. */
final class Blocks {
    private Blocks() {
    }

    /** Rows [from, to) of a block, copied. */
    static VisBlock rows(VisBlock b, int from, int to) {
        int nchan = b.nchan();
        return new VisBlock(to - from, Arrays.copyOfRange(b.u(), from, to), Arrays.copyOfRange(b.v(), from, to),
                Arrays.copyOfRange(b.w(), from, to), b.freqHz(),
                b.vis() == null ? null : Arrays.copyOfRange(b.vis(), 2 * from * nchan, 2 * to * nchan),
                Arrays.copyOfRange(b.weight(), from * nchan, to * nchan));
    }
}
