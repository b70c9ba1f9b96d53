package org.cloudviper.imaging.grid;

/**
 * What has been gridded into one plane: the sum of the imaging weights (the image's normalisation),
 * the visibilities gridded and dropped, and the band of rows written (the FFT skips the others).
 * Partial planes are summed with {@link #add}.
 */
public final class PlaneStats {
    private double sumWeights;
    private long gridded;
    private long dropped;
    private int rowMin = Integer.MAX_VALUE;
    private int rowMax = -1;

    public double sumWeights() {
        return sumWeights;
    }

    public long gridded() {
        return gridded;
    }

    /** Visibilities with a non-zero weight whose kernel footprint left the grid. */
    public long dropped() {
        return dropped;
    }

    /** The first row written, or Integer.MAX_VALUE if none. */
    public int rowMin() {
        return rowMin;
    }

    /** The last row written, or -1 if none. */
    public int rowMax() {
        return rowMax;
    }

    public boolean isEmpty() {
        return rowMax < 0;
    }

    /** One visibility gridded on rows firstRow..lastRow; its weight added later with {@link #addWeights}. */
    void record(int firstRow, int lastRow) {
        gridded++;
        if (firstRow < rowMin) {
            rowMin = firstRow;
        }
        if (lastRow > rowMax) {
            rowMax = lastRow;
        }
    }

    void addWeights(double sum) {
        sumWeights += sum;
    }

    void drop() {
        dropped++;
    }

    /** {@link #drop()} on each of a dirty and a PSF plane's statistics that is not null. */
    static void drop(PlaneStats a, PlaneStats b) {
        if (a != null) {
            a.drop();
        }
        if (b != null) {
            b.drop();
        }
    }

    /** {@link #record(int, int)} on each that is not null. */
    static void record(PlaneStats a, PlaneStats b, int firstRow, int lastRow) {
        if (a != null) {
            a.record(firstRow, lastRow);
        }
        if (b != null) {
            b.record(firstRow, lastRow);
        }
    }

    /** {@link #addWeights(double)} on each that is not null. */
    static void addWeights(PlaneStats a, PlaneStats b, double sum) {
        if (a != null) {
            a.addWeights(sum);
        }
        if (b != null) {
            b.addWeights(sum);
        }
    }

    /** Adds another plane's statistics (its plane added to this one's). */
    public void add(PlaneStats other) {
        sumWeights += other.sumWeights;
        gridded += other.gridded;
        dropped += other.dropped;
        rowMin = Math.min(rowMin, other.rowMin);
        rowMax = Math.max(rowMax, other.rowMax);
    }

    /** Restores the state of an empty plane. */
    public void clear() {
        sumWeights = 0;
        gridded = 0;
        dropped = 0;
        rowMin = Integer.MAX_VALUE;
        rowMax = -1;
    }

    /** Sets all fields, for a plane whose statistics travelled with it (e.g. between workers). */
    public void set(double sumWeights, long gridded, long dropped, int rowMin, int rowMax) {
        this.sumWeights = sumWeights;
        this.gridded = gridded;
        this.dropped = dropped;
        this.rowMin = rowMin;
        this.rowMax = rowMax;
    }
}
