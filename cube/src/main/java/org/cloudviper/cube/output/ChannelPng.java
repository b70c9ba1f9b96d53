package org.cloudviper.cube.output;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Locale;

import javax.imageio.ImageIO;

import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.UploadStream;

/**
 * One channel of a cube as a PNG for people: the plane in the viridis colour map, linear from its
 * lowest to its highest finite value, drawn as the sky is seen (north up, east left: pixel (i, j)
 * of the image convention goes to column npix-1-i, row npix-1-j), enlarged to at least 512 pixels
 * on a side, with a title and a colour bar labelled with its scale. Non-finite pixels are grey.
 */
public final class ChannelPng {
    /** viridis (matplotlib's default map) at nine evenly spaced points, linearly interpolated between. */
    private static final int[][] VIRIDIS = {
        {68, 1, 84}, {71, 44, 122}, {59, 81, 139}, {44, 113, 142}, {33, 144, 141},
        {39, 173, 129}, {92, 200, 99}, {170, 220, 50}, {253, 231, 37},
    };
    private static final int TOP = 34;
    private static final int BAR = 18;
    private static final int RIGHT = 110;
    private static final int MARGIN = 10;

    private ChannelPng() {
    }

    /** The colour of {@code t} in [0, 1] (clamped) on the map. */
    static Color colour(double t) {
        double x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
        int k = Math.min(VIRIDIS.length - 2, (int) x);
        double f = x - k;
        int[] a = VIRIDIS[k];
        int[] b = VIRIDIS[k + 1];
        return new Color((int) Math.round(a[0] + f * (b[0] - a[0])), (int) Math.round(a[1] + f * (b[1] - a[1])),
                (int) Math.round(a[2] + f * (b[2] - a[2])));
    }

    /** The picture of {@code plane} (npix x npix as [j][i]). */
    public static BufferedImage render(float[] plane, int npix, String title, String unit) {
        if (plane.length != npix * npix) {
            throw new IllegalArgumentException("plane of " + plane.length + " pixels (expected: " + npix * npix + ")");
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (float v : plane) {
            if (Float.isFinite(v)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (lo > hi) {
            lo = 0;
            hi = 1;
        }
        double span = hi > lo ? hi - lo : 1;
        int zoom = Math.max(1, 512 / npix);
        int side = npix * zoom;
        BufferedImage img = new BufferedImage(MARGIN + side + RIGHT, TOP + side + MARGIN, BufferedImage.TYPE_INT_RGB);
        int[] lut = new int[256];
        for (int k = 0; k < 256; k++) {
            lut[k] = colour(k / 255.0).getRGB();
        }
        int grey = new Color(128, 128, 128).getRGB();
        for (int j = 0; j < npix; j++) {
            for (int i = 0; i < npix; i++) {
                float v = plane[j * npix + i];
                int rgb = Float.isFinite(v) ? lut[(int) Math.round(255 * (v - lo) / span)] : grey;
                int x0 = MARGIN + (npix - 1 - i) * zoom;
                int y0 = TOP + (npix - 1 - j) * zoom;
                for (int y = y0; y < y0 + zoom; y++) {
                    for (int x = x0; x < x0 + zoom; x++) {
                        img.setRGB(x, y, rgb);
                    }
                }
            }
        }
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            int barX = MARGIN + side + 14;
            for (int y = 0; y < side; y++) {
                g.setColor(colour(1 - y / (double) (side - 1)));
                g.drawLine(barX, TOP + y, barX + BAR, TOP + y);
            }
            g.setColor(Color.WHITE);
            g.setStroke(new BasicStroke(1));
            g.drawRect(barX, TOP, BAR, side - 1);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            int textX = barX + BAR + 5;
            g.drawString(label(hi), textX, TOP + 10);
            g.drawString(label((lo + hi) / 2), textX, TOP + side / 2 + 5);
            g.drawString(label(lo), textX, TOP + side - 2);
            if (unit != null && !unit.isEmpty()) {
                g.drawString(unit, barX, TOP - 6);
            }
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            g.drawString(title == null ? "" : title, MARGIN, TOP - 12);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            g.drawString("N", MARGIN + side / 2 - 4, TOP + 12);
            g.drawString("E", MARGIN + 3, TOP + side / 2 + 4);
        } finally {
            g.dispose();
        }
        return img;
    }

    private static String label(double v) {
        return String.format(Locale.ROOT, "%.3g", v);
    }

    /** Renders {@code plane} and writes it as PNG object {@code key} of {@code store}. */
    public static void write(ObjectStore store, String key, float[] plane, int npix, String title, String unit)
            throws DatasetException {
        BufferedImage img = render(plane, npix, title, unit);
        UploadStream out = store.write(key);
        try {
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer in this Java");
            }
            out.close();
        } catch (IOException e) {
            out.abort();
            throw e instanceof DatasetException d ? d
                    : new DatasetException(DatasetException.Kind.IO, store.uri(key), "cannot write the PNG: " + e, e);
        }
    }
}
