package org.cloudviper.imaging.grid;

import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * Where one visibility lands on the grid: the first cell of its W x W footprint and the fractional
 * offsets the kernel table is read at. A visibility at u wavelengths lies at grid position
 * {@code p = u * gridSize * cell + gridSize / 2} (cells; the centre of the grid is u = 0).
 */
final class Footprint {
    private final int n;
    private final double halfSupport;
    private final int lastStart;
    int u0;
    int v0;
    double fu;
    double fv;

    Footprint(KernelPlan kp) {
        this.n = kp.gridSize();
        this.halfSupport = kp.support() / 2.0;
        // the padded lanes are written too, with zeros: past the row's end they spill into the next
        // row or into the plane's margin (KernelPlan.planeLength)
        this.lastStart = n - kp.support();
    }

    /**
     * Places the visibility at grid position (pu, pv) cells; false if its footprint leaves the grid,
     * which happens only within W/2 cells of the largest spatial frequency the image samples.
     */
    boolean place(double pu, double pv) {
        double su = Math.ceil(pu - halfSupport);
        double sv = Math.ceil(pv - halfSupport);
        if (!(su >= 0 && su <= lastStart && sv >= 0 && sv <= lastStart)) {
            return false;
        }
        u0 = (int) su;
        v0 = (int) sv;
        fu = su - pu + halfSupport;
        fv = sv - pv + halfSupport;
        // ceil(x) - x is in [0, 1); rounding can give exactly 1 for x just below an integer
        if (fu >= 1) {
            fu = Math.nextDown(1.0);
        }
        if (fv >= 1) {
            fv = Math.nextDown(1.0);
        }
        return true;
    }
}
