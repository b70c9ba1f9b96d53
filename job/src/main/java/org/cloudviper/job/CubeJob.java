package org.cloudviper.job;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

import org.cloudviper.cube.tasks.ImageParams;
import org.cloudviper.embedded.JavaClient;
import org.cloudviper.worker.tasks.NdArray;

/**
 * Images a cube on a cluster of Java workers from Java: the same graph as {@code
 * cloudviper.imaging.image_cube} in Python (see {@code ImagingTasks} for the tasks). One {@code
 * plan} task reads the dataset's description and its chunks' channels; then per channel block, per
 * chunk a {@code grid} task (after {@code density} and {@code density_sum} for uniform and Briggs
 * weighting), partial grids summed {@value #FAN_IN} at a time ({@code grid_sum}), and one {@code
 * image_block} (FFT and correction per channel) and {@code grid_stats}.
 *
 * <pre>{@code
 * try (JavaCluster cluster = JavaCluster.start(2, 1, TaskRegistry.withBuiltins());
 *      JavaClient client = cluster.client()) {
 *     ImageParams image = new ImageParams(512, cellRad, 1e-4, Precision.FLOAT32, "natural", 0, false);
 *     CubeJob.Cube cube = CubeJob.run(client, "s3://bucket/prefix", storageOptions, image, CubeJob.Progress.NONE);
 *     float[] channel0 = cube.dirty()[0];   // npix * npix, [m][l]
 * }
 * }</pre>
 */
public final class CubeJob {
    /** Partial grids summed per {@code grid_sum} task: the tree that keeps a block's reduction narrow. */
    public static final int FAN_IN = 8;
    private static final String TASKS = "cloudviper.imaging.";

    private CubeJob() {
    }

    /** Told of the gridding tasks as they finish (they carry nearly all of the work). */
    public interface Progress {
        Progress NONE = (done, total) -> {
        };

        void update(int done, int total);
    }

    /**
     * The imaged cube: per dataset channel an npix x npix image ({@code [m][l]}, float32; zeros for
     * channels no chunk holds), the PSFs (or null), and per channel the visibilities gridded and the
     * sum of the imaging weights, and when each stage of the run ended.
     */
    public record Cube(int npix, double[] freqHz, double[] phaseCentreRad, float[][] dirty, float[][] psf,
            long[] gridded, long[] dropped, double[] sumWeights, int chunks, Stages stages) {

        Cube withStages(Stages s) {
            return new Cube(npix, freqHz, phaseCentreRad, dirty, psf, gridded, dropped, sumWeights, chunks, s);
        }

        /** Visibilities (Stokes I samples of non-zero weight) gridded, over all channels. */
        public long visibilities() {
            long n = 0;
            for (long g : gridded) {
                n += g;
            }
            return n;
        }
    }

    /**
     * Seconds from the start of {@link #run} until the plan came back, the last grid task finished,
     * the last images were gathered into this process (each block's as soon as they were made), and
     * the cube was assembled from them.
     */
    public record Stages(double planned, double gridded, double gathered, double assembled) {
        @Override
        public String toString() {
            return String.format("plan %.3f s, grid tasks %.3f s, last images %.3f s, assembly %.3f s", planned,
                    gridded - planned, gathered - gridded, assembled - gathered);
        }
    }

    /**
     * Images the dataset at {@code location} ({@code s3://bucket/prefix} or a folder the workers see),
     * reached with {@code storageOptions} (fsspec-style keys: endpoint_url, key, secret, region...).
     *
     * @throws JavaClient.TaskFailedException if a task fails (e.g. a chunk that cannot be read: the
     *     message names the object)
     */
    public static Cube run(JavaClient client, String location, Map<String, ?> storageOptions, ImageParams image,
            Progress progress) throws InterruptedException {
        long start = System.nanoTime();
        Map<String, Object> so = Map.copyOf(storageOptions);
        Map<String, Object> img = image.toMap();
        // the plan stays in the workers' memory while the job runs: the grid tasks take their
        // description from it instead of each reading _dataset.json
        JavaClient.Task planTask = client.task(TASKS + "plan", location, so);
        Map<?, ?> plan;
        try {
            client.persist(List.of(planTask));
            plan = (Map<?, ?>) client.gather(List.of(planTask)).get(0);
        } catch (RuntimeException e) {
            client.release(List.of(planTask));
            throw e;
        }
        long planned = System.nanoTime();
        int nchan = ((Number) plan.get("nchan")).intValue();
        List<?> blocks = (List<?>) plan.get("blocks");

        List<JavaClient.Task> grids = new ArrayList<>();
        List<JavaClient.Task> images = new ArrayList<>();
        List<JavaClient.Task> stats = new ArrayList<>();
        int chunks = 0;
        for (Object o : blocks) {
            Map<?, ?> block = (Map<?, ?>) o;
            List<?> names = (List<?>) block.get("chunks");
            chunks += names.size();
            Object density = null;
            if (image.weightingRule().needsDensity()) {
                List<JavaClient.Task> parts = new ArrayList<>();
                for (Object chunk : names) {
                    parts.add(client.task(TASKS + "density", location, so, chunk, img, planTask));
                }
                density = client.task(TASKS + "density_sum", parts, img);
            }
            List<JavaClient.Task> level = new ArrayList<>();
            for (Object chunk : names) {
                JavaClient.Task g = client.task(TASKS + "grid", location, so, chunk, img, density, planTask);
                level.add(g);
                grids.add(g);
            }
            while (level.size() > FAN_IN) {
                List<JavaClient.Task> next = new ArrayList<>();
                for (int i = 0; i < level.size(); i += FAN_IN) {
                    next.add(client.task(TASKS + "grid_sum", level.subList(i, Math.min(level.size(), i + FAN_IN)), img));
                }
                level = next;
            }
            images.add(client.task(TASKS + "image_block", level, img));
            stats.add(client.task(TASKS + "grid_stats", level, img));
        }

        List<JavaClient.Task> outputs = new ArrayList<>(grids);
        outputs.addAll(images);
        outputs.addAll(stats);
        List<CompletableFuture<Void>> done = client.submit(outputs);
        Object[] values = new Object[images.size() + stats.size()];
        long gridded;
        try {
            gridded = collect(client, outputs, grids.size(), done, values, planTask, progress);
        } catch (ExecutionException e) {
            client.release(outputs);
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } finally {
            client.release(List.of(planTask));
        }
        long gathered = System.nanoTime();
        Cube cube = assemble(plan, nchan, image, Arrays.asList(values), blocks.size(), chunks);
        long assembled = System.nanoTime();
        return cube.withStages(new Stages((planned - start) / 1e9, (gridded - start) / 1e9, (gathered - start) / 1e9,
                (assembled - start) / 1e9));
    }

    /**
     * Waits for every output (the grid tasks first in {@code outputs}, then the images and statistics of
     * each block): reports each grid task as it finishes and lets the client's hold on it go (its
     * dependents keep it), lets the plan go after the last one, and gathers each block's images and
     * statistics into {@code values} as soon as they are done, while later blocks are still being
     * gridded, so that the images travel while the workers compute. Returns when the last grid task
     * finished ({@link System#nanoTime}).
     */
    private static long collect(JavaClient client, List<JavaClient.Task> outputs, int ngrids,
            List<CompletableFuture<Void>> done, Object[] values, JavaClient.Task planTask, Progress progress)
            throws InterruptedException, ExecutionException {
        BlockingQueue<Integer> finished = new LinkedBlockingQueue<>();
        for (int i = 0; i < outputs.size(); i++) {
            int index = i;
            done.get(i).whenComplete((v, e) -> finished.add(index));
        }
        long gridded = System.nanoTime();
        int grids = 0;
        progress.update(0, ngrids);
        for (int n = 0; n < outputs.size(); n++) {
            int i = finished.take();
            done.get(i).get(); // a failed task fails the job here
            List<JavaClient.Task> one = List.of(outputs.get(i));
            if (i < ngrids) {
                client.release(one);
                progress.update(++grids, ngrids);
                if (grids == ngrids) {
                    gridded = System.nanoTime();
                    client.release(List.of(planTask));
                }
            } else {
                try {
                    values[i - ngrids] = client.gather(one).get(0);
                } finally {
                    client.release(one);
                }
            }
        }
        return gridded;
    }

    private static Cube assemble(Map<?, ?> plan, int nchan, ImageParams image, List<Object> values, int nblocks,
            int chunks) {
        int npix = image.npix();
        float[][] dirty = new float[nchan][npix * npix];
        float[][] psf = image.psf() ? new float[nchan][npix * npix] : null;
        long[] gridded = new long[nchan];
        long[] dropped = new long[nchan];
        double[] sums = new double[nchan];
        for (int b = 0; b < nblocks; b++) {
            NdArray cube = (NdArray) values.get(b);
            Map<?, ?> st = (Map<?, ?>) values.get(nblocks + b);
            int start = ((Number) st.get("chan_start")).intValue();
            List<?> g = (List<?>) st.get("gridded");
            FloatBuffer f = cube.data().asFloatBuffer();
            for (int c = 0; c < g.size(); c++) {
                f.get(dirty[start + c]);
                gridded[start + c] = ((Number) g.get(c)).longValue();
                dropped[start + c] = ((Number) ((List<?>) st.get("dropped")).get(c)).longValue();
                sums[start + c] = ((Number) ((List<?>) st.get("sum_weights")).get(c)).doubleValue();
            }
            if (psf != null) {
                for (int c = 0; c < g.size(); c++) {
                    f.get(psf[start + c]);
                }
            }
        }
        return new Cube(npix, doubles(plan.get("freq_hz")), doubles(plan.get("phase_centre_rad")), dirty, psf, gridded,
                dropped, sums, chunks, null);
    }

    private static double[] doubles(Object list) {
        List<?> l = (List<?>) list;
        double[] d = new double[l.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = ((Number) l.get(i)).doubleValue();
        }
        return d;
    }
}
