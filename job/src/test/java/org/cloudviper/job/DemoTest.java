package org.cloudviper.job;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import nom.tam.fits.Fits;
import nom.tam.fits.Header;
import org.cloudviper.worker.tasks.ArrowTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main job end to end on a small dataset, with the command line's own parsing: an S3 server, a
 * scheduler and two Java workers in this JVM; the summary finds the brightest sources where the
 * generator put them with their flux, and the FITS cube and the PNG are written.
 */
class DemoTest {
    @TempDir
    Path out;

    @Test
    void runsEndToEndAndFindsTheSources() throws Exception {
        DemoMain main = new DemoMain();
        new CommandLine(main).parseArgs("--antennas", "24", "--times", "40", "--channels", "8", "--times-per-chunk", "20",
                "--channels-per-chunk", "4", "--npix", "256", "--out", out.toString());
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Demo.Summary s;
        try (PrintStream ps = new PrintStream(text, true, StandardCharsets.UTF_8)) {
            s = Demo.run(main.settings(), ps, ps);
        }
        String printed = text.toString(StandardCharsets.UTF_8);

        assertEquals(8, s.channels(), printed);
        assertEquals(4, s.chunks(), printed);
        assertTrue(s.visibilities() > 8 * 40 * 200, printed);
        assertTrue(printed.contains("visibilities/s") && printed.contains("per core"), printed);
        // the two brightest point sources, found at their positions with their flux
        for (int k = 0; k < 2; k++) {
            Demo.Found f = s.found().get(k);
            assertNotNull(f.truth(), printed);
            assertTrue(f.truth().isPoint(), printed);
            assertEquals(f.truth().l(), f.peak().l(), 1e-12, printed);
            assertEquals(f.truth().m(), f.peak().m(), 1e-12, printed);
            assertEquals(f.trueFluxJy(), f.peak().value(), 0.1 * f.trueFluxJy(), printed);
        }
        try (Fits fits = new Fits(out.resolve("cube.fits").toFile())) {
            Header h = fits.getHDU(0).getHeader();
            assertEquals(256, h.getIntValue("NAXIS1"));
            assertEquals(8, h.getIntValue("NAXIS3"));
        }
        assertEquals(512, ImageIO.read(Files.newInputStream(s.png())).getWidth() >= 512 ? 512 : -1);
        assertEquals(0, ArrowTable.allocatedBytes(), "Arrow memory still allocated");
    }
}
