package org.cloudviper.job;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The brightest sources of an image: local maxima (higher than their 8 neighbours) above a fraction
 * of the image's peak, brightest first. A dirty image's sidelobes are local maxima too: the fraction
 * keeps those of the brightest source out as long as they are lower than it.
 */
public final class Peaks {
    /** A local maximum at pixel (i, j): value in the image's unit (Jy/beam), l and m in radians. */
    public record Peak(int i, int j, double value, double l, double m) {
    }

    private Peaks() {
    }

    /** At most {@code max} maxima of {@code image} (npix x npix, [j][i]) above {@code fraction} of its peak. */
    public static List<Peak> find(float[] image, int npix, double cellRad, double fraction, int max) {
        float top = Float.NEGATIVE_INFINITY;
        for (float v : image) {
            top = Math.max(top, v);
        }
        List<Peak> found = new ArrayList<>();
        for (int j = 1; j < npix - 1; j++) {
            for (int i = 1; i < npix - 1; i++) {
                float v = image[j * npix + i];
                if (v < fraction * top || v <= 0) {
                    continue;
                }
                boolean highest = true;
                for (int dj = -1; dj <= 1 && highest; dj++) {
                    for (int di = -1; di <= 1; di++) {
                        if ((di != 0 || dj != 0) && image[(j + dj) * npix + i + di] >= v) {
                            highest = false;
                            break;
                        }
                    }
                }
                if (highest) {
                    found.add(new Peak(i, j, v, (i - npix / 2) * cellRad, (j - npix / 2) * cellRad));
                }
            }
        }
        found.sort(Comparator.comparingDouble(Peak::value).reversed());
        return found.size() > max ? List.copyOf(found.subList(0, max)) : found;
    }

    /** The mean of the channels' images. */
    public static float[] mean(float[][] channels) {
        float[] m = new float[channels[0].length];
        for (float[] c : channels) {
            for (int p = 0; p < m.length; p++) {
                m[p] += c[p];
            }
        }
        for (int p = 0; p < m.length; p++) {
            m[p] /= channels.length;
        }
        return m;
    }
}
