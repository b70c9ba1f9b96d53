package org.cloudviper.imaging.grid;

import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * The order to grid a block's rows in: by 16 x 16-cell tile of the grid at a reference frequency
 * (counting sort, stable). Rows near each other on the grid then follow each other, so the lines of
 * the plane they touch stay in the L1 and L2 caches; and a block is gridded a few hundred rows at a
 * time for every channel before the next rows, so those rows' visibilities stay cached too. Channels
 * of a block differ in frequency by a few per cent at most, which moves a row by a few cells: the
 * order of the reference frequency serves them all.
 */
public final class RowOrder {
    static final int TILE_SHIFT = 4;

    private RowOrder() {
    }

    /**
     * Rows [0, nrow) sorted by the tile they fall in at {@code uvScale} (grid cells per metre, see
     * FloatGridder#grid); rows off the grid go last.
     */
    public static int[] byTile(KernelPlan kp, double uvScale, double[] u, double[] v, int nrow) {
        int n = kp.gridSize();
        int tiles = (n >> TILE_SHIFT) + 1;
        int outside = tiles * tiles;
        int[] key = new int[nrow];
        int[] count = new int[outside + 2];
        double centre = n / 2;
        for (int r = 0; r < nrow; r++) {
            double pu = u[r] * uvScale + centre;
            double pv = v[r] * uvScale + centre;
            int k = outside;
            if (pu >= 0 && pu < n && pv >= 0 && pv < n) {
                k = ((int) pv >> TILE_SHIFT) * tiles + ((int) pu >> TILE_SHIFT);
            }
            key[r] = k;
            count[k + 1]++;
        }
        for (int k = 1; k < count.length; k++) {
            count[k] += count[k - 1];
        }
        int[] order = new int[nrow];
        for (int r = 0; r < nrow; r++) {
            order[count[key[r]]++] = r;
        }
        return order;
    }
}
