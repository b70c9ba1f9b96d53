package org.cloudviper.job;

import java.nio.file.Path;
import java.util.Map;

import org.cloudviper.cube.tasks.ImageParams;
import org.cloudviper.embedded.JavaClient;
import org.cloudviper.embedded.JavaCluster;
import org.cloudviper.imaging.Precision;
import org.cloudviper.worker.tasks.ArrowTable;
import org.cloudviper.worker.tasks.TaskRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end: chunks written by pyarrow from Python, uploaded to a real S3 server on 127.0.0.1, read
 * and imaged by the Java workers' tasks; the cube and the PSF match the direct Fourier sum that
 * Python computed from the same samples, within the requested accuracy.
 */
class PyarrowS3ImagingTest {
    @TempDir
    Path dir;

    @Test
    void pyarrowChunksFromS3MatchTheDirectFourierSum() throws Exception {
        SkyData.write(dir);
        try (LocalS3 s3 = new LocalS3();
             JavaCluster cluster = JavaCluster.start(2, 1, TaskRegistry.withBuiltins());
             JavaClient client = cluster.client()) {
            s3.createBucket("vis");
            Map<String, Object> so = Map.of("endpoint_url", s3.endpoint().toString(), "key", LocalS3.ACCESS_KEY,
                    "secret", LocalS3.SECRET_KEY, "region", "us-east-1");
            SkyData.upload(dir, "s3://vis/sky", so);
            ImageParams params = new ImageParams(SkyData.NPIX, SkyData.CELL_RAD, 1e-4, Precision.FLOAT32, "natural", 0,
                    true);

            CubeJob.Cube cube = CubeJob.run(client, "s3://vis/sky", so, params, CubeJob.Progress.NONE);

            assertEquals(SkyData.NCHAN, cube.dirty().length);
            double dirtyError = SkyData.peakRelativeError(cube.dirty(), SkyData.expected(dir, "expected_dirty.npy"));
            double psfError = SkyData.peakRelativeError(cube.psf(), SkyData.expected(dir, "expected_psf.npy"));
            assertTrue(dirtyError < 1e-4, "dirty image: peak-relative error " + dirtyError);
            assertTrue(psfError < 1e-4, "PSF: peak-relative error " + psfError);

            Map<String, Object> wrongKey = Map.of("endpoint_url", s3.endpoint().toString(), "key", "nobody",
                    "secret", "wrong", "region", "us-east-1");
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> CubeJob.run(client, "s3://vis/sky", wrongKey, params, CubeJob.Progress.NONE));
            assertTrue(e.getMessage().contains("s3://vis/sky/_dataset.json") && e.getMessage().contains("403"),
                    e.getMessage());
        }
        assertEquals(0, ArrowTable.allocatedBytes(), "Arrow memory still allocated");
    }
}
