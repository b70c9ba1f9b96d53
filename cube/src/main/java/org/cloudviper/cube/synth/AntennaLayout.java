package org.cloudviper.cube.synth;

import java.util.SplittableRandom;

/**
 * Antenna positions on the ground: east, north, up in metres from the array centre, and the site's
 * latitude. Baselines are ordered (0,1), (0,2), ..., (1,2), ...: baseline {@code b} joins
 * {@link #antenna1}[b] and {@link #antenna2}[b], with the vector antenna2 - antenna1.
 */
public final class AntennaLayout {
    /** The ALMA site on the Chajnantor plateau. */
    public static final double ALMA_LATITUDE_RAD = Math.toRadians(-23.0229);

    private final double[] east;
    private final double[] north;
    private final double[] up;
    private final double latitudeRad;
    private final int[] antenna1;
    private final int[] antenna2;

    public AntennaLayout(double[] east, double[] north, double[] up, double latitudeRad) {
        if (east.length != north.length || east.length != up.length || east.length < 2) {
            throw new IllegalArgumentException("antenna positions: " + east.length + ", " + north.length + ", "
                    + up.length + " (expected: the same count, >= 2)");
        }
        this.east = east.clone();
        this.north = north.clone();
        this.up = up.clone();
        this.latitudeRad = latitudeRad;
        int n = east.length;
        int nbl = n * (n - 1) / 2;
        antenna1 = new int[nbl];
        antenna2 = new int[nbl];
        int b = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                antenna1[b] = i;
                antenna2[b] = j;
                b++;
            }
        }
    }

    /**
     * A compact ALMA-like configuration (as C43-1: baselines from about 15 m to about 160 m) of
     * {@code n} 12 m antennas at the ALMA site, deterministic from {@code seed}: positions denser
     * towards the centre, none closer than 15 m to another (12 m dishes do not collide).
     */
    public static AntennaLayout compactAlma(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] e = new double[n];
        double[] no = new double[n];
        double[] u = new double[n];
        // the radius that leaves room for n antennas 15 m apart, plus a margin
        double radius = Math.max(40, 7.5 * Math.sqrt(n) * 2.0);
        int placed = 0;
        int tries = 0;
        while (placed < n) {
            if (++tries > 1_000_000) {
                throw new IllegalStateException("cannot place " + n + " antennas within " + radius + " m");
            }
            double r = radius * Math.pow(random.nextDouble(), 0.7);
            double phi = 2 * Math.PI * random.nextDouble();
            double x = r * Math.cos(phi);
            double y = r * Math.sin(phi);
            boolean clear = true;
            for (int k = 0; k < placed && clear; k++) {
                clear = Math.hypot(x - e[k], y - no[k]) >= 15;
            }
            if (clear) {
                e[placed] = x;
                no[placed] = y;
                u[placed] = random.nextDouble() * 2 - 1;
                placed++;
            }
        }
        return new AntennaLayout(e, no, u, ALMA_LATITUDE_RAD);
    }

    public int antennas() {
        return east.length;
    }

    public int baselines() {
        return antenna1.length;
    }

    public int antenna1(int baseline) {
        return antenna1[baseline];
    }

    public int antenna2(int baseline) {
        return antenna2[baseline];
    }

    public double latitudeRad() {
        return latitudeRad;
    }

    /** The longest baseline, metres. */
    public double maxBaseline() {
        double max = 0;
        for (int b = 0; b < baselines(); b++) {
            max = Math.max(max, length(b));
        }
        return max;
    }

    /** The shortest baseline, metres. */
    public double minBaseline() {
        double min = Double.MAX_VALUE;
        for (int b = 0; b < baselines(); b++) {
            min = Math.min(min, length(b));
        }
        return min;
    }

    private double length(int b) {
        int i = antenna1[b];
        int j = antenna2[b];
        return Math.sqrt(sq(east[j] - east[i]) + sq(north[j] - north[i]) + sq(up[j] - up[i]));
    }

    private static double sq(double x) {
        return x * x;
    }

    /**
     * Baseline {@code b}'s (u, v, w) in metres at hour angle {@code hourAngleRad} towards declination
     * {@code decRad}, into {@code out[0..2]}: the ground vector turned into the equatorial frame
     * (X to hour angle 0 on the equator, Y to hour angle -6 h, Z to the north pole), then projected
     * onto the plane of the sky (u east, v north) and the direction of the source (w).
     */
    public void uvw(int b, double hourAngleRad, double decRad, double[] out) {
        int i = antenna1[b];
        int j = antenna2[b];
        double de = east[j] - east[i];
        double dn = north[j] - north[i];
        double du = up[j] - up[i];
        double sinLat = Math.sin(latitudeRad);
        double cosLat = Math.cos(latitudeRad);
        double x = -sinLat * dn + cosLat * du;
        double y = de;
        double z = cosLat * dn + sinLat * du;
        double sinH = Math.sin(hourAngleRad);
        double cosH = Math.cos(hourAngleRad);
        double sinD = Math.sin(decRad);
        double cosD = Math.cos(decRad);
        out[0] = sinH * x + cosH * y;
        out[1] = -sinD * cosH * x + sinD * sinH * y + cosD * z;
        out[2] = cosD * cosH * x - cosD * sinH * y + sinD * z;
    }
}
