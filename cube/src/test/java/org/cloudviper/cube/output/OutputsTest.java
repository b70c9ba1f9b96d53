package org.cloudviper.cube.output;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import nom.tam.fits.Fits;
import nom.tam.fits.Header;
import nom.tam.fits.ImageHDU;
import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.S3Server;
import org.cloudviper.cube.StoreOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputsTest {
    private static final double ARCSEC = Math.PI / 180 / 3600;

    @TempDir
    Path dir;

    private static final double RA0 = Math.toRadians(150.1);
    private static final double DEC0 = Math.toRadians(-30.2);

    private static CubeWcs wcs(int npix, int nchan) {
        double[] freq = new double[nchan];
        for (int c = 0; c < nchan; c++) {
            freq[c] = 100e9 + c * 15.625e6;
        }
        return new CubeWcs(npix, 0.5 * ARCSEC, new double[] {RA0, DEC0}, freq);
    }

    private static float[][] planes(int npix, int nchan) {
        float[][] p = new float[nchan][npix * npix];
        for (int c = 0; c < nchan; c++) {
            for (int k = 0; k < npix * npix; k++) {
                p[c][k] = c * 1000 + k * 0.5f;
            }
        }
        return p;
    }

    @Test
    void fitsHeaderAndPixelsReadBack() throws Exception {
        int npix = 64;
        try (ObjectStore store = ObjectStore.open(dir.toString(), StoreOptions.defaults())) {
            FitsCube.write(store, "cube.fits", wcs(npix, 3), "Jy/beam", planes(npix, 3));
        }
        Path file = dir.resolve("cube.fits");
        assertEquals(0, Files.size(file) % 2880, "whole FITS blocks");
        try (Fits fits = new Fits(file.toFile())) {
            ImageHDU hdu = (ImageHDU) fits.readHDU();
            Header h = hdu.getHeader();
            assertEquals(-32, h.getIntValue("BITPIX"));
            assertEquals(3, h.getIntValue("NAXIS"));
            assertEquals(npix, h.getIntValue("NAXIS1"));
            assertEquals(npix, h.getIntValue("NAXIS2"));
            assertEquals(3, h.getIntValue("NAXIS3"));
            assertEquals("RA---SIN", h.getStringValue("CTYPE1"));
            assertEquals("DEC--SIN", h.getStringValue("CTYPE2"));
            assertEquals("FREQ", h.getStringValue("CTYPE3"));
            assertEquals(150.1, h.getDoubleValue("CRVAL1"), 1e-12);
            assertEquals(-30.2, h.getDoubleValue("CRVAL2"), 1e-12);
            assertEquals(0.5 / 3600, h.getDoubleValue("CDELT1"), 1e-15);
            assertEquals(0.5 / 3600, h.getDoubleValue("CDELT2"), 1e-15);
            assertEquals(33.0, h.getDoubleValue("CRPIX1"));
            assertEquals(33.0, h.getDoubleValue("CRPIX2"));
            assertEquals(100e9, h.getDoubleValue("CRVAL3"));
            assertEquals(15.625e6, h.getDoubleValue("CDELT3"), 1e-3);
            assertEquals(1.0, h.getDoubleValue("CRPIX3"));
            assertEquals("Hz", h.getStringValue("CUNIT3"));
            assertEquals("Jy/beam", h.getStringValue("BUNIT"));
            float[][][] data = (float[][][]) hdu.getKernel();
            float[][] expected = planes(npix, 3);
            for (int c = 0; c < 3; c++) {
                for (int j = 0; j < npix; j++) {
                    for (int i = 0; i < npix; i++) {
                        assertEquals(expected[c][j * npix + i], data[c][j][i]);
                    }
                }
            }
        }
    }

    @Test
    void aPixelAtKnownLmMapsToItsRaDec() throws Exception {
        int npix = 256;
        CubeWcs wcs = wcs(npix, 1);
        try (ObjectStore store = ObjectStore.open(dir.toString(), StoreOptions.defaults())) {
            FitsCube.write(store, "one.fits", wcs, "Jy/beam", new float[1][npix * npix]);
        }
        Header h;
        try (Fits fits = new Fits(dir.resolve("one.fits").toFile())) {
            h = fits.readHDU().getHeader();
        }
        // a sky position 30" east and 20" north of the phase centre, through the SIN projection
        double ra = RA0 + 30 * ARCSEC / Math.cos(DEC0);
        double dec = DEC0 + 20 * ARCSEC;
        double l = Math.cos(dec) * Math.sin(ra - RA0);
        double m = Math.sin(dec) * Math.cos(DEC0) - Math.cos(dec) * Math.sin(DEC0) * Math.cos(ra - RA0);
        // the image convention: l = (i - npix/2) cell, m = (j - npix/2) cell (0-based i, j)
        double i = l / wcs.cellRad() + npix / 2;
        double j = m / wcs.cellRad() + npix / 2;
        double[] radec = sinPixelToWorld(h, i + 1, j + 1);
        assertEquals(Math.toDegrees(ra), radec[0], 1e-9);
        assertEquals(Math.toDegrees(dec), radec[1], 1e-9);
        // and the centre pixel is the phase centre
        double[] centre = sinPixelToWorld(h, npix / 2 + 1, npix / 2 + 1);
        assertEquals(150.1, centre[0], 1e-12);
        assertEquals(-30.2, centre[1], 1e-12);
    }

    /**
     * FITS WCS Paper II (Calabretta and Greisen 2002) for a SIN projection, from the header alone:
     * pixel (1-based) to intermediate (x, y), to native (phi, theta), to celestial with LONPOLE 180.
     */
    private static double[] sinPixelToWorld(Header h, double p1, double p2) {
        double x = Math.toRadians(h.getDoubleValue("CDELT1") * (p1 - h.getDoubleValue("CRPIX1")));
        double y = Math.toRadians(h.getDoubleValue("CDELT2") * (p2 - h.getDoubleValue("CRPIX2")));
        double phi = Math.atan2(x, -y);
        double theta = Math.acos(Math.hypot(x, y));
        double a0 = Math.toRadians(h.getDoubleValue("CRVAL1"));
        double d0 = Math.toRadians(h.getDoubleValue("CRVAL2"));
        double phiP = Math.toRadians(h.getDoubleValue("LONPOLE"));
        double alpha = a0 + Math.atan2(-Math.cos(theta) * Math.sin(phi - phiP),
                Math.sin(theta) * Math.cos(d0) - Math.cos(theta) * Math.sin(d0) * Math.cos(phi - phiP));
        double delta = Math.asin(Math.sin(theta) * Math.sin(d0) + Math.cos(theta) * Math.cos(d0) * Math.cos(phi - phiP));
        return new double[] {Math.toDegrees(alpha), Math.toDegrees(delta)};
    }

    @Test
    void aCubeClosedEarlyLeavesNothing() throws Exception {
        try (ObjectStore store = ObjectStore.open(dir.toString(), StoreOptions.defaults())) {
            FitsCube cube = FitsCube.create(store, "half.fits", wcs(16, 4), "Jy/beam");
            cube.writeChannel(new float[256]);
            assertThrows(IllegalStateException.class, cube::close);
        }
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no cube, no partial file");
        }
    }

    @Test
    void unevenChannelsAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> new CubeWcs(16, ARCSEC, new double[] {0, 0}, new double[] {1e9, 2e9, 4e9}));
    }

    @Test
    void pngShowsTheSkyNorthUpEastLeftWithAColourBar() throws Exception {
        int npix = 64;
        float[] plane = new float[npix * npix];
        // the brightest pixel east (i > npix/2) and north (j > npix/2) of the centre
        int bi = 40;
        int bj = 50;
        plane[bj * npix + bi] = 5f;
        plane[0] = -1f;
        BufferedImage img = ChannelPng.render(plane, npix, "channel 3", "Jy/beam");
        int zoom = 512 / npix;
        assertTrue(img.getWidth() > npix * zoom && img.getHeight() > npix * zoom);
        int x = 10 + (npix - 1 - bi) * zoom + zoom / 2;
        int y = 34 + (npix - 1 - bj) * zoom + zoom / 2;
        assertEquals(ChannelPng.colour(1).getRGB(), img.getRGB(x, y), "the maximum in the map's top colour");
        assertTrue(x < 10 + npix * zoom / 2 && y < 34 + npix * zoom / 2, "east is left, north is up");
        int barX = 10 + npix * zoom + 14 + 9;
        int side = npix * zoom;
        // the bar runs from the top colour at the top to the bottom colour at the bottom (inside its frame)
        assertEquals(ChannelPng.colour(1 - 2 / (double) (side - 1)).getRGB(), img.getRGB(barX, 34 + 2));
        assertEquals(ChannelPng.colour(2 / (double) (side - 1)).getRGB(), img.getRGB(barX, 34 + side - 3));
        assertFalse(new Color(img.getRGB(barX + 30, 40)).equals(Color.BLACK) && new Color(img.getRGB(barX + 31, 41))
                .equals(Color.BLACK) && new Color(img.getRGB(barX + 32, 42)).equals(Color.BLACK), "labels drawn");
    }

    @Test
    void fitsAndPngGoToS3() throws Exception {
        try (S3Server server = S3Server.inMemory()) {
            server.createBucket("out");
            StoreOptions options = StoreOptions.builder().endpoint(server.endpoint()).region("us-east-1")
                    .staticCredentials(S3Server.ACCESS_KEY, S3Server.SECRET_KEY).pathStyle(true)
                    .partSizeBytes(5 << 20).build();
            int npix = 512;
            int nchan = 6;
            float[][] planes = planes(npix, nchan);
            try (ObjectStore store = ObjectStore.open("s3://out/run1", options)) {
                // 6 MiB of pixels: a multipart upload of two parts
                FitsCube.write(store, "cube.fits", wcs(npix, nchan), "Jy/beam", planes);
                ChannelPng.write(store, "chan0.png", planes[0], npix, "channel 0", "Jy/beam");
                assertEquals(2880 + ((4L * npix * npix * nchan + 2879) / 2880) * 2880, store.size("cube.fits"));
                Path local = dir.resolve("cube.fits");
                try (var in = store.read("cube.fits")) {
                    Files.copy(in, local);
                }
                try (Fits fits = new Fits(local.toFile())) {
                    float[][][] data = (float[][][]) ((ImageHDU) fits.readHDU()).getKernel();
                    assertEquals(planes[5][7 * npix + 9], data[5][7][9]);
                }
                BufferedImage png = ImageIO.read(new ByteArrayInputStream(store.readAll("chan0.png", 10 << 20)));
                assertEquals(10 + npix + 110, png.getWidth());
            }
        }
    }

    @Test
    void failedUploadIsNamed() throws Exception {
        try (S3Server server = S3Server.inMemory(); ObjectStore store = ObjectStore.open("s3://missing-bucket/x",
                server.options())) {
            DatasetException e = assertThrows(DatasetException.class,
                    () -> FitsCube.write(store, "cube.fits", wcs(16, 1), "Jy/beam", new float[1][256]));
            assertTrue(e.getMessage().startsWith("s3://missing-bucket/x/cube.fits: "), e.getMessage());
        }
        assertArrayEquals(new byte[0], new byte[0]);
    }
}
