package org.cloudviper.job;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.cloudviper.embedded.JavaCluster;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;
import org.cloudviper.worker.tasks.TaskRegistry;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cloudviper.imaging.image_cube} from a stock Python Dask client, run as Java tasks on two
 * cloudviper Java workers under cloudviper's scheduler, reading pyarrow-written chunks from a real S3
 * server on 127.0.0.1: the cube and the PSF match the direct Fourier sums within the requested
 * accuracy (1e-4 of the peak), Briggs weighting runs its density pass, and a dataset that is not
 * there raises in Python with the object's name.
 */
@DaskInterop
public class ImageCubeInteropTest {

    @InteropTest
    public void imageCubeFromAStockClientMatchesTheDirectFourierSum(PythonPeers peers) throws Exception {
        Path data = peers.scratchDir("sky");
        SkyData.write(data);
        try (LocalS3 s3 = new LocalS3();
             JavaCluster cluster = JavaCluster.start(2, 1, TaskRegistry.withBuiltins())) {
            s3.createBucket("vis");
            Map<String, Object> so = Map.of("endpoint_url", s3.endpoint().toString(), "key", LocalS3.ACCESS_KEY,
                    "secret", LocalS3.SECRET_KEY, "region", "us-east-1");
            SkyData.upload(data, "s3://vis/sky", so);
            double cellArcsec = SkyData.CELL_RAD * 180 / Math.PI * 3600;

            ScriptResult r = peers.runClient("image_cube_client.py", cluster.schedulerAddress(), "s3://vis/sky",
                    peers.inPython(data), Integer.toString(SkyData.NPIX), Double.toString(cellArcsec),
                    "{\"endpoint_url\": \"" + s3.endpoint() + "\", \"key\": \"" + LocalS3.ACCESS_KEY
                            + "\", \"secret\": \"" + LocalS3.SECRET_KEY + "\", \"region\": \"us-east-1\"}");

            Map<String, Object> natural = r.partMap("natural");
            Map<String, Object> briggs = r.partMap("briggs");
            Map<String, Object> missing = r.partMap("missing");
            List<Object> shape = List.of((long) SkyData.NCHAN, (long) SkyData.NPIX, (long) SkyData.NPIX);
            assertAll(
                    () -> assertEquals(shape, natural.get("shape"), natural.toString()),
                    () -> assertEquals("float32", natural.get("dtype"), natural.toString()),
                    () -> assertEquals(shape, natural.get("psf_shape"), natural.toString()),
                    () -> assertTrue(((Number) natural.get("dirty_error")).doubleValue() < 1e-4, natural.toString()),
                    () -> assertTrue(((Number) natural.get("psf_error")).doubleValue() < 1e-4, natural.toString()),
                    () -> assertEquals(1.0, ((Number) natural.get("psf_peak")).doubleValue(), 1e-4, natural.toString()),
                    () -> assertEquals(shape, briggs.get("shape"), briggs.toString()),
                    () -> assertEquals(true, briggs.get("finite"), briggs.toString()),
                    () -> assertTrue(((Number) briggs.get("peak")).doubleValue() > 0.5, briggs.toString()),
                    () -> assertTrue(String.valueOf(missing.get("text")).contains("s3://vis/sky-nothing-here/_dataset.json"),
                            missing.toString()));
        }
    }
}
