package org.cloudviper.cube.tasks;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import org.cloudviper.cube.ObjectStore;
import org.cloudviper.cube.DatasetException;
import org.cloudviper.cube.StoreOptions;
import org.cloudviper.imaging.GridPool;
import org.cloudviper.imaging.ImageSpec;
import org.cloudviper.imaging.Imager;
import org.cloudviper.imaging.Precision;
import org.cloudviper.imaging.affinity.ComputePool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the imaging tasks of one worker process share: the compute threads, pinned ({@link
 * ComputePool}), the {@link Imager} of each image geometry, the bounded pools of grids, and the open
 * stores (one S3 client per location and options).
 *
 * <p>Memory: the grids that tasks hold at once are bounded by {@code -Dcloudviper.imaging.gridMemory}
 * (bytes, default half the heap): each pool (one per geometry, channel count and kind, dirty or PSF)
 * holds at most max(1, budget / (2 x one grid's bytes)) grids, so a task that needs a grid while
 * that many are out waits for one. Only the Imagers of the last two geometries are kept (with their
 * pools): a new cube lets the grids of the one before last go.
 *
 * <p>{@code -Dcloudviper.imaging.placement=physical|all|unpinned} chooses the compute threads (one
 * pinned per physical core by default; see {@link ComputePool.Placement}).
 */
final class ImagingRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(ImagingRuntime.class);
    static final String GRID_MEMORY = "cloudviper.imaging.gridMemory";
    static final String PLACEMENT = "cloudviper.imaging.placement";
    private static final int GEOMETRIES_KEPT = 2;

    private static final ImagingRuntime INSTANCE = new ImagingRuntime();

    private ComputePool pool;
    private final Map<ImageSpec, Geometry> geometries = new LinkedHashMap<>(4, 0.75f, true);
    private final Map<String, ObjectStore> stores = new HashMap<>();

    /** An image geometry's Imager and its pools of grids, by channel count and kind. */
    static final class Geometry {
        final Imager imager;
        private final Map<String, GridPool> pools = new HashMap<>();

        Geometry(Imager imager) {
            this.imager = imager;
        }

        synchronized GridPool pool(int nchan, boolean psf) {
            return pools.computeIfAbsent(nchan + (psf ? "psf" : "dirty"), k -> {
                long one = (long) nchan * 2 * imager.kernel().gridSize() * imager.kernel().gridSize()
                        * (imager.spec().precision() == Precision.FLOAT32 ? 4 : 8);
                int max = (int) Math.max(1, Math.min(Integer.MAX_VALUE, gridMemory() / (2 * one)));
                LOG.info("imaging: at most {} {} grid(s) of {} channels x {}^2 cells ({} MiB each) at once", max,
                        psf ? "PSF" : "dirty", nchan, imager.kernel().gridSize(), one >> 20);
                return new GridPool(imager, nchan, max);
            });
        }
    }

    private ImagingRuntime() {
    }

    static ImagingRuntime get() {
        return INSTANCE;
    }

    /** The compute threads, created on first use and kept for the life of the process. */
    synchronized ComputePool pool() {
        if (pool == null) {
            String p = System.getProperty(PLACEMENT, "physical");
            pool = ComputePool.create(switch (p) {
                case "physical" -> ComputePool.Placement.PHYSICAL_CORES;
                case "all" -> ComputePool.Placement.ALL_THREADS;
                case "unpinned" -> ComputePool.Placement.UNPINNED;
                default -> throw new IllegalArgumentException("-D" + PLACEMENT + "=" + p
                        + " (expected: physical, all or unpinned)");
            }, 0);
        }
        return pool;
    }

    synchronized Geometry geometry(ImageSpec spec) {
        Geometry g = geometries.get(spec);
        if (g == null) {
            g = new Geometry(Imager.create(spec));
            geometries.put(spec, g);
            while (geometries.size() > GEOMETRIES_KEPT) {
                geometries.remove(geometries.keySet().iterator().next());
            }
        }
        return g;
    }

    /**
     * The store at {@code location} reached with {@code storageOptions} (fsspec-style keys, see
     * {@link StoreOptions#fromStorageOptions}): one per location and options in a process, kept open,
     * so that tasks share its S3 client and connections.
     */
    ObjectStore store(String location, Map<String, ?> storageOptions) throws DatasetException {
        String key = location + " " + new TreeMap<>(storageOptions);
        synchronized (stores) {
            ObjectStore s = stores.get(key);
            if (s == null) {
                s = ObjectStore.open(location, StoreOptions.fromStorageOptions(storageOptions));
                stores.put(key, s);
            }
            return s;
        }
    }

    static long gridMemory() {
        String v = System.getProperty(GRID_MEMORY);
        return v == null ? Runtime.getRuntime().maxMemory() / 2 : Long.parseLong(v);
    }
}
