package org.cloudviper.cube.output;

import java.io.IOException;

import nom.tam.fits.FitsException;
import nom.tam.fits.FitsUtil;
import nom.tam.fits.Header;
import nom.tam.util.FitsOutputStream;
import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.UploadStream;

/**
 * A FITS image cube written a channel at a time, straight to a folder or S3: the primary HDU holds
 * float32 pixels [chan][j][i] (NAXIS1 = i, the l axis; NAXIS2 = j, the m axis; NAXIS3 = channel),
 * with a celestial SIN-projection WCS about the phase centre and a linear FREQ axis:
 *
 * <ul>
 * <li>{@code CTYPE1 = 'RA---SIN'}, {@code CRVAL1} = the phase centre's RA (deg), {@code CDELT1 =
 *     +cell} (deg): l grows eastwards with i, so RA grows with i (viewers draw i to the right, so
 *     they show these images with east on the right, and read the right coordinates from the WCS);
 *     {@code CRPIX1 = npix/2 + 1}, the 1-based pixel of l = 0;</li>
 * <li>{@code CTYPE2 = 'DEC--SIN'}, {@code CRVAL2} = the phase centre's Dec, {@code CDELT2 = +cell},
 *     {@code CRPIX2 = npix/2 + 1};</li>
 * <li>{@code CTYPE3 = 'FREQ'} (Hz, {@code SPECSYS = 'TOPOCENT'}), {@code CRPIX3 = 1},
 *     {@code CRVAL3} the first channel, {@code CDELT3} the spacing;</li>
 * <li>{@code RADESYS = 'ICRS'}, {@code BUNIT} as given.</li>
 * </ul>
 *
 * Memory is one channel, whatever the cube's size. The object appears when the last channel is
 * written and the cube closed; a cube closed early is dropped.
 */
public final class FitsCube implements AutoCloseable {
    private final CubeWcs wcs;
    private final UploadStream upload;
    private final FitsOutputStream out;
    private final String object;
    private int written;
    private boolean closed;

    private FitsCube(CubeWcs wcs, UploadStream upload, String object) {
        this.wcs = wcs;
        this.upload = upload;
        this.out = new FitsOutputStream(upload, 1 << 16);
        this.object = object;
    }

    /**
     * Starts the cube {@code key} of {@code store} and writes its header. {@code bunit} is the
     * pixel unit ({@code Jy/beam} for a dirty image; empty for a PSF).
     */
    public static FitsCube create(ObjectStore store, String key, CubeWcs wcs, String bunit) throws DatasetException {
        UploadStream upload = store.write(key);
        FitsCube cube = new FitsCube(wcs, upload, store.uri(key));
        try {
            header(wcs, bunit).write(cube.out);
        } catch (RuntimeException e) {
            upload.abort();
            throw new DatasetException(DatasetException.Kind.IO, store.uri(key), "cannot write the FITS header: " + e, e);
        }
        return cube;
    }

    /** Writes a whole cube: {@code planes[c]} is channel c, npix x npix as [j][i]. */
    public static void write(ObjectStore store, String key, CubeWcs wcs, String bunit, float[][] planes)
            throws DatasetException {
        try (FitsCube cube = create(store, key, wcs, bunit)) {
            for (float[] plane : planes) {
                cube.writeChannel(plane);
            }
        }
    }

    /** The header of a cube of {@code wcs}. */
    public static Header header(CubeWcs wcs, String bunit) {
        try {
            Header h = new Header();
            h.setSimple(true);
            h.setBitpix(-32);
            h.setNaxes(3);
            h.setNaxis(1, wcs.npix());
            h.setNaxis(2, wcs.npix());
            h.setNaxis(3, wcs.nchan());
            h.addValue("EXTEND", true, "");
            h.addValue("BUNIT", bunit, "pixel unit");
            h.addValue("BTYPE", "Intensity", "");
            h.addValue("RADESYS", "ICRS", "");
            h.addValue("LONPOLE", 180.0, "native longitude of the celestial pole (zenithal default)");
            double cellDeg = Math.toDegrees(wcs.cellRad());
            double[] centre = wcs.phaseCentreRad();
            double ra = Math.toDegrees(centre[0]);
            ra = ra < 0 ? ra + 360 : ra;
            h.addValue("CTYPE1", "RA---SIN", "l east: RA grows with the pixel index");
            h.addValue("CRVAL1", ra, "deg, phase centre");
            h.addValue("CDELT1", cellDeg, "deg per pixel");
            h.addValue("CRPIX1", wcs.crpix(), "the pixel of l = 0 (0-based index npix/2)");
            h.addValue("CUNIT1", "deg", "");
            h.addValue("CTYPE2", "DEC--SIN", "m north");
            h.addValue("CRVAL2", Math.toDegrees(centre[1]), "deg, phase centre");
            h.addValue("CDELT2", cellDeg, "deg per pixel");
            h.addValue("CRPIX2", wcs.crpix(), "the pixel of m = 0 (0-based index npix/2)");
            h.addValue("CUNIT2", "deg", "");
            h.addValue("CTYPE3", "FREQ", "");
            h.addValue("CRVAL3", wcs.freqHz()[0], "Hz, first channel");
            h.addValue("CDELT3", wcs.channelWidthHz(), "Hz per channel");
            h.addValue("CRPIX3", 1.0, "");
            h.addValue("CUNIT3", "Hz", "");
            h.addValue("SPECSYS", "TOPOCENT", "frequencies as observed");
            h.addValue("ORIGIN", "cloudviper", "");
            return h;
        } catch (FitsException e) {
            throw new IllegalStateException("cannot build the header of " + wcs, e);
        }
    }

    /** Writes the next channel, npix x npix as [j][i]. */
    public void writeChannel(float[] plane) throws DatasetException {
        if (closed) {
            throw new IllegalStateException(object + ": cube closed");
        }
        int n = wcs.npix() * wcs.npix();
        if (plane.length != n) {
            throw new IllegalArgumentException("plane of " + plane.length + " pixels (expected: " + n + ")");
        }
        if (written == wcs.nchan()) {
            throw new IllegalStateException(object + ": all " + written + " channels already written");
        }
        try {
            out.write(plane, 0, n);
        } catch (IOException e) {
            abort();
            throw e instanceof DatasetException d ? d
                    : new DatasetException(DatasetException.Kind.IO, object, "cannot write channel " + written + ": " + e, e);
        }
        written++;
    }

    /** Channels written so far. */
    public int channelsWritten() {
        return written;
    }

    /** Pads the data to whole FITS blocks and completes the object; drops it if channels are missing. */
    @Override
    public void close() throws DatasetException {
        if (closed) {
            return;
        }
        if (written < wcs.nchan()) {
            abort();
            throw new IllegalStateException(object + ": closed after " + written + " of " + wcs.nchan()
                    + " channels; the cube was dropped");
        }
        closed = true;
        try {
            FitsUtil.pad(out, 4L * wcs.npix() * wcs.npix() * wcs.nchan());
            out.flush();
            upload.close();
        } catch (IOException | RuntimeException e) {
            upload.abort();
            throw e instanceof DatasetException d ? d
                    : new DatasetException(DatasetException.Kind.IO, object, "cannot complete the cube: " + e, e);
        }
    }

    /** Drops the cube: no object is created. */
    public void abort() {
        closed = true;
        upload.abort();
    }
}
