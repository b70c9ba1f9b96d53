package org.cloudviper.cube.tasks;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.cloudviper.cube.ChunkReader;
import org.cloudviper.cube.Dataset;
import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.DatasetInfo;
import org.cloudviper.cube.ObjectStore;
import org.cloudviper.imaging.ChannelGrids;
import org.cloudviper.imaging.GridPool;
import org.cloudviper.imaging.ImageSpec;
import org.cloudviper.imaging.Imager;
import org.cloudviper.imaging.ImagingWeights;
import org.cloudviper.imaging.VisBlock;
import org.cloudviper.imaging.WeightDensity;
import org.cloudviper.imaging.Weighting;
import org.cloudviper.imaging.affinity.ComputePool;
import org.cloudviper.worker.tasks.JavaTask;
import org.cloudviper.worker.tasks.NdArray;
import org.cloudviper.worker.tasks.TaskProvider;
import org.cloudviper.worker.tasks.TaskRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tasks of distributed cube imaging, under the names of {@code worker/python/cloudviper/imaging.py}
 * ({@code cloudviper.imaging.*}); installed into every worker that has this module on its class path
 * (a {@link TaskProvider} service). A cube is imaged per channel block, a block being the channels of
 * the chunks that share a channel range:
 *
 * <ol>
 *   <li>{@code plan(location, storage_options)}: the description and the chunks of each block (each
 *       chunk's channels are read from its schema, from the first bytes of the objects, many at once);</li>
 *   <li>uniform or Briggs weighting only: {@code density(location, storage_options, chunk, image,
 *       plan)} per chunk, then {@code density_sum(densities, image)} per block;</li>
 *   <li>{@code grid(location, storage_options, chunk, image, density, plan)} per chunk: read, Stokes I
 *       (record batches gathered into blocks, {@link ChunkBlocks}), imaging weights, gridding into grids
 *       of the worker's pool, the written rows returned. With {@code plan} (the plan's result, kept on
 *       the workers while the cube is imaged) the chunk is checked against the description it carries;
 *       with None, {@code _dataset.json} is read again;</li>
 *   <li>{@code grid_sum(partials, image)}: partial grids of a block summed (a tree, for many time
 *       ranges);</li>
 *   <li>{@code image_block(partials, image)}: the last sum, then per channel the FFT and the grid
 *       correction on the compute threads: a float32 array (nchan, npix, npix), or (2, nchan, npix,
 *       npix) with the PSF; {@code grid_stats(partials, image)}: per channel what was gridded.</li>
 * </ol>
 *
 * <p>Partial grids and densities travel as flat uint8 arrays ({@link Partials}). Every gridding and
 * FFT runs on the process's {@link ComputePool}; the grids a task fills come from the bounded pools
 * of {@link ImagingRuntime}.
 */
public final class ImagingTasks implements TaskProvider {
    private static final Logger LOG = LoggerFactory.getLogger(ImagingTasks.class);
    public static final String MODULE = "cloudviper.imaging";

    @Override
    public void registerTasks(TaskRegistry registry) {
        register(registry, "plan", ImagingTasks::plan);
        register(registry, "density", ImagingTasks::density);
        register(registry, "density_sum", ImagingTasks::densitySum);
        register(registry, "grid", ImagingTasks::grid);
        register(registry, "grid_sum", ImagingTasks::gridSum);
        register(registry, "image_block", ImagingTasks::imageBlock);
        register(registry, "grid_stats", ImagingTasks::gridStats);
    }

    private static void register(TaskRegistry registry, String name, JavaTask task) {
        registry.register(MODULE + "." + name, task);
    }

    /** {@code plan(location, storage_options)}: see {@link CubePlan}. */
    static Object plan(List<Object> args, Map<String, Object> kwargs) throws Exception {
        Args a = new Args("plan", args, kwargs, "location", "storage_options");
        ImagingRuntime rt = ImagingRuntime.get();
        try (Dataset d = Dataset.open(rt.store(a.string(0), a.options(1)))) {
            DatasetInfo info = d.info();
            TreeMap<Integer, CubePlan.Block> blocks = new TreeMap<>();
            List<ChunkReader.ChannelRange> channels = d.channels(info.chunks());
            for (int i = 0; i < channels.size(); i++) {
                ChunkReader.ChannelRange c = channels.get(i);
                CubePlan.add(blocks, info.chunks().get(i), c.chanStart(), c.nchan(), c.object());
            }
            return CubePlan.toMap(info, blocks);
        }
    }

    /** {@code density(location, storage_options, chunk, image, plan=None)}: the chunk's weight density. */
    static Object density(List<Object> args, Map<String, Object> kwargs) throws Exception {
        Args a = new Args("density", args, kwargs, "location", "storage_options", "chunk", "image", "plan");
        ImageParams p = a.image(3);
        ImagingRuntime rt = ImagingRuntime.get();
        Imager imager = rt.geometry(p.spec()).imager;
        try (Dataset d = a.dataset(rt, 0, 1, 4);
             ChunkBlocks blocks = ChunkBlocks.open(d, a.string(2))) {
            WeightDensity density = imager.newDensity(blocks.nchan());
            for (VisBlock b = blocks.next(); b != null; b = blocks.next()) {
                density.accumulate(b);
            }
            return Partials.encodeDensity(p.spec(), blocks.chanStart(), density);
        }
    }

    /** {@code density_sum(densities, image)}: the sum of a block's densities. */
    static Object densitySum(List<Object> args, Map<String, Object> kwargs) {
        Args a = new Args("density_sum", args, kwargs, "densities", "image");
        ImageParams p = a.image(1);
        List<NdArray> parts = a.arrays(0);
        Imager imager = ImagingRuntime.get().geometry(p.spec()).imager;
        Partials.Header first = Partials.header(parts.get(0), p.spec());
        WeightDensity sum = imager.newDensity(first.nchan());
        for (NdArray part : parts) {
            sameChannels(first, Partials.addDensity(part, p.spec(), sum), "density_sum");
        }
        return Partials.encodeDensity(p.spec(), first.chanStart(), sum);
    }

    /**
     * {@code grid(location, storage_options, chunk, image, density, plan=None)}: the chunk's partial grids;
     * at debug level, a line per task with the time of each step.
     */
    static Object grid(List<Object> args, Map<String, Object> kwargs) throws Exception {
        Args a = new Args("grid", args, kwargs, "location", "storage_options", "chunk", "image", "density", "plan");
        ImageParams p = a.image(3);
        ImageSpec spec = p.spec();
        ImagingRuntime rt = ImagingRuntime.get();
        ImagingRuntime.Geometry g = rt.geometry(spec);
        long start = System.nanoTime();
        try (Dataset d = a.dataset(rt, 0, 1, 5);
             ChunkBlocks blocks = ChunkBlocks.open(d, a.string(2))) {
            long opened = System.nanoTime();
            ImagingWeights weights = weights(g.imager, p, a.arrayOrNull(4), blocks);
            ComputePool pool = rt.pool();
            return withGrids(g, blocks.nchan(), p.psf(), (dirty, psf) -> {
                long lent = System.nanoTime();
                long reading = 0;
                long gridding = 0;
                for (long t = lent; ; ) {
                    VisBlock b = blocks.next();
                    long read = System.nanoTime();
                    reading += read - t;
                    if (b == null) {
                        break;
                    }
                    weights.apply(b, b.weight());
                    g.imager.grid(b, b.weight(), dirty, psf, pool, pool.parallelism());
                    t = System.nanoTime();
                    gridding += t - read;
                }
                long encoding = System.nanoTime();
                NdArray out = Partials.encodeGrids(spec, blocks.chanStart(), dirty, psf);
                if (LOG.isDebugEnabled()) {
                    LOG.debug("grid {}: {} rows; ms: open {}, wait for grids {}, read and Stokes I {}, weigh and grid {},"
                            + " encode {}", blocks.object(), blocks.rows(), ms(opened - start), ms(lent - opened),
                            ms(reading), ms(gridding), ms(System.nanoTime() - encoding));
                }
                return out;
            });
        }
    }

    private static String ms(long nanos) {
        return String.format("%.1f", nanos / 1e6);
    }

    private static ImagingWeights weights(Imager imager, ImageParams p, NdArray density, ChunkBlocks blocks) {
        Weighting w = p.weightingRule();
        if (!w.needsDensity()) {
            return imager.weights(w, null);
        }
        if (density == null) {
            throw new IllegalArgumentException("grid: weighting " + p.weighting() + " needs the summed density of "
                    + blocks.object() + "'s channels (density_sum), got None");
        }
        WeightDensity sum = imager.newDensity(blocks.nchan());
        Partials.Header h = Partials.addDensity(density, p.spec(), sum);
        if (h.chanStart() != blocks.chanStart()) {
            throw new IllegalArgumentException("grid: the density is of channels " + h.chanStart() + ".. (expected: "
                    + blocks.chanStart() + ".., those of " + blocks.object() + ")");
        }
        return imager.weights(w, sum);
    }

    /** {@code grid_sum(partials, image)}: the sum of partial grids of one block. */
    static Object gridSum(List<Object> args, Map<String, Object> kwargs) throws Exception {
        Args a = new Args("grid_sum", args, kwargs, "partials", "image");
        ImageParams p = a.image(1);
        List<NdArray> parts = a.arrays(0);
        ImagingRuntime.Geometry g = ImagingRuntime.get().geometry(p.spec());
        Partials.Header first = Partials.header(parts.get(0), p.spec());
        return withGrids(g, first.nchan(), p.psf(), (dirty, psf) -> {
            addAll(parts, p.spec(), first, dirty, psf, "grid_sum");
            return Partials.encodeGrids(p.spec(), first.chanStart(), dirty, psf);
        });
    }

    /** {@code image_block(partials, image)}: the block's dirty images (and PSFs), float32. */
    static Object imageBlock(List<Object> args, Map<String, Object> kwargs) throws Exception {
        Args a = new Args("image_block", args, kwargs, "partials", "image");
        ImageParams p = a.image(1);
        List<NdArray> parts = a.arrays(0);
        ImagingRuntime rt = ImagingRuntime.get();
        ImagingRuntime.Geometry g = rt.geometry(p.spec());
        Partials.Header first = Partials.header(parts.get(0), p.spec());
        int nchan = first.nchan();
        int npix = p.npix();
        return withGrids(g, nchan, p.psf(), (dirty, psf) -> {
            addAll(parts, p.spec(), first, dirty, psf, "image_block");
            int sets = psf == null ? 1 : 2;
            ByteBuffer bytes = ByteBuffer.allocate(4 * sets * nchan * npix * npix).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer out = bytes.asFloatBuffer();
            float[][] planes = IMAGE_PLANES.get().planes(nchan, npix * npix);
            for (ChannelGrids grids : psf == null ? new ChannelGrids[] {dirty} : new ChannelGrids[] {dirty, psf}) {
                g.imager.images(grids, planes, rt.pool());
                for (float[] plane : planes) {
                    out.put(plane);
                }
            }
            long[] shape = psf == null ? new long[] {nchan, npix, npix} : new long[] {2, nchan, npix, npix};
            return NdArray.wrap(NdArray.DType.F4, shape, bytes);
        });
    }

    /**
     * {@code grid_stats(partials, image)}: per channel of the block what its partial grids hold, as a
     * dict of {@code chan_start} and lists {@code gridded}, {@code dropped}, {@code sum_weights}.
     */
    static Object gridStats(List<Object> args, Map<String, Object> kwargs) {
        Args a = new Args("grid_stats", args, kwargs, "partials", "image");
        ImageParams p = a.image(1);
        List<NdArray> parts = a.arrays(0);
        Partials.Header first = Partials.header(parts.get(0), p.spec());
        long[] gridded = new long[first.nchan()];
        long[] dropped = new long[first.nchan()];
        double[] sums = new double[first.nchan()];
        for (NdArray part : parts) {
            sameChannels(first, Partials.header(part, p.spec()), "grid_stats");
            List<Partials.ChannelStats> s = Partials.gridStats(part, p.spec());
            for (int c = 0; c < s.size(); c++) {
                gridded[c] += s.get(c).gridded();
                dropped[c] += s.get(c).dropped();
                sums[c] += s.get(c).sumWeights();
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("chan_start", (long) first.chanStart());
        List<Object> g = new ArrayList<>();
        List<Object> d = new ArrayList<>();
        List<Object> w = new ArrayList<>();
        for (int c = 0; c < first.nchan(); c++) {
            g.add(gridded[c]);
            d.add(dropped[c]);
            w.add(sums[c]);
        }
        m.put("gridded", g);
        m.put("dropped", d);
        m.put("sum_weights", w);
        return m;
    }

    private static void addAll(List<NdArray> parts, ImageSpec spec, Partials.Header first, ChannelGrids dirty,
            ChannelGrids psf, String task) {
        for (NdArray part : parts) {
            sameChannels(first, Partials.addGrids(part, spec, dirty, psf), task);
        }
    }

    private static void sameChannels(Partials.Header first, Partials.Header h, String task) {
        if (h.chanStart() != first.chanStart() || h.nchan() != first.nchan()) {
            throw new IllegalArgumentException(task + ": partials of channels " + h.chanStart() + ".."
                    + (h.chanStart() + h.nchan() - 1) + " and " + first.chanStart() + ".."
                    + (first.chanStart() + first.nchan() - 1) + " (expected: one block's)");
        }
    }

    /**
     * The image planes of one block, kept per task thread from block to block: a block's images are
     * nchan planes of npix^2 floats (4 MiB each at 1024^2), which the JVM would otherwise allocate
     * and zero afresh for every block, outside its young generation.
     */
    private static final ThreadLocal<ImagePlanes> IMAGE_PLANES = ThreadLocal.withInitial(ImagePlanes::new);

    private static final class ImagePlanes {
        private float[][] planes = new float[0][];

        float[][] planes(int n, int pixels) {
            if (planes.length != n || planes[0].length != pixels) {
                planes = new float[n][pixels];
            }
            return planes;
        }
    }

    /** What a task does with a dirty grid (and a PSF grid, or null) of the pool. */
    private interface GridWork {
        Object run(ChannelGrids dirty, ChannelGrids psf) throws Exception;
    }

    /** Runs {@code work} with grids from the pools, dirty first, and gives them back whatever happens. */
    private static Object withGrids(ImagingRuntime.Geometry g, int nchan, boolean withPsf, GridWork work)
            throws Exception {
        GridPool dirtyPool = g.pool(nchan, false);
        ChannelGrids dirty = dirtyPool.acquire();
        try {
            if (!withPsf) {
                return work.run(dirty, null);
            }
            GridPool psfPool = g.pool(nchan, true);
            ChannelGrids psf = psfPool.acquire();
            try {
                return work.run(dirty, psf);
            } finally {
                psfPool.release(psf);
            }
        } finally {
            dirtyPool.release(dirty);
        }
    }

    /** A task's arguments, positional or by keyword, refused by name when missing or mistyped. */
    private static final class Args {
        private final String task;
        private final Object[] values;
        private final String[] names;

        Args(String task, List<Object> args, Map<String, Object> kwargs, String... names) {
            this.task = task;
            this.names = names;
            this.values = new Object[names.length];
            if (args.size() > names.length) {
                throw new IllegalArgumentException(task + ": " + args.size() + " arguments (expected: " + names.length
                        + ": " + String.join(", ", names) + ")");
            }
            for (int i = 0; i < args.size(); i++) {
                values[i] = args.get(i);
            }
            for (Map.Entry<String, Object> e : kwargs.entrySet()) {
                int i = List.of(names).indexOf(e.getKey());
                if (i < 0) {
                    throw new IllegalArgumentException(task + ": unknown argument " + e.getKey() + " (expected: "
                            + String.join(", ", names) + ")");
                }
                values[i] = e.getValue();
            }
        }

        String string(int i) {
            if (values[i] instanceof String s) {
                return s;
            }
            throw wrong(i, "str");
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> options(int i) {
            if (values[i] == null) {
                return Map.of();
            }
            if (values[i] instanceof Map<?, ?> m) {
                return (Map<String, Object>) m;
            }
            throw wrong(i, "a dict of storage options or None");
        }

        /**
         * The dataset at the location and storage options of arguments {@code location} and {@code
         * options}, described by the plan in argument {@code plan} or, when that is None, by its
         * {@code _dataset.json}.
         */
        Dataset dataset(ImagingRuntime rt, int location, int options, int plan) throws DatasetException {
            ObjectStore store = rt.store(string(location), options(options));
            return values[plan] == null ? Dataset.open(store) : Dataset.of(store, CubePlan.info(values[plan], task));
        }

        ImageParams image(int i) {
            try {
                return ImageParams.fromMap(values[i]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(task + ": " + e.getMessage(), e);
            }
        }

        NdArray arrayOrNull(int i) {
            if (values[i] == null || values[i] instanceof NdArray) {
                return (NdArray) values[i];
            }
            throw wrong(i, "a partial from an imaging task or None");
        }

        List<NdArray> arrays(int i) {
            if (values[i] instanceof List<?> l && !l.isEmpty()) {
                List<NdArray> out = new ArrayList<>(l.size());
                for (Object o : l) {
                    if (!(o instanceof NdArray arr)) {
                        throw wrong(i, "a list of partials from imaging tasks");
                    }
                    out.add(arr);
                }
                return out;
            }
            throw wrong(i, "a non-empty list of partials from imaging tasks");
        }

        private IllegalArgumentException wrong(int i, String expected) {
            return new IllegalArgumentException(task + ": " + names[i] + " is " + ImageParams.describe(values[i])
                    + " (expected: " + expected + ")");
        }
    }
}
