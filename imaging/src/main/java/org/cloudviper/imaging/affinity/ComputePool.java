package org.cloudviper.imaging.affinity;

import java.io.IOException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compute threads of the imaging core: a fixed pool whose threads pin themselves, one per physical
 * core of the CPUs this process may use by default (see {@link CorePlan}). The imaging code gets
 * this as an {@link Executor} and never sees a CPU id. Creating one logs a line saying what was
 * chosen; where the topology cannot be read or the kernel refuses to pin, the threads run unpinned
 * and the log says why.
 */
public final class ComputePool implements Executor, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ComputePool.class);

    /** How to place the threads. */
    public enum Placement {
        /** One thread per physical core, pinned; hyperthread siblings idle (the default). */
        PHYSICAL_CORES,
        /** One thread per allowed hardware thread, pinned. */
        ALL_THREADS,
        /** One thread per allowed CPU, not pinned: the scheduler places them. */
        UNPINNED
    }

    private final ExecutorService threads;
    private final CorePlan plan;
    private final boolean pinned;

    private ComputePool(ExecutorService threads, CorePlan plan, boolean pinned) {
        this.threads = threads;
        this.plan = plan;
        this.pinned = pinned;
    }

    /** A pool placed as asked, with at most {@code maxThreads} threads (0: as many as the placement gives). */
    public static ComputePool create(Placement placement, int maxThreads) {
        CorePlan plan;
        String fallback = null;
        try {
            CpuTopology topology = CpuTopology.read(Path.of("/sys/devices/system/cpu"));
            BitSet allowed = AllowedCpus.read();
            CorePlan.Mode mode = placement == Placement.PHYSICAL_CORES ? CorePlan.Mode.PHYSICAL_CORES
                    : CorePlan.Mode.ALL_THREADS;
            plan = CorePlan.choose(topology, allowed, mode, maxThreads);
            if (plan.cpus().isEmpty()) {
                fallback = "no allowed CPU in the topology";
            }
        } catch (IOException | RuntimeException e) {
            plan = null;
            fallback = "CPU topology unreadable (" + e + ")";
        }
        if (fallback == null && placement != Placement.UNPINNED && !Pinning.available()) {
            fallback = "pinning unavailable: " + Pinning.unavailableReason();
        }
        if (plan == null || fallback != null || placement == Placement.UNPINNED) {
            int n = plan != null && !plan.cpus().isEmpty() ? plan.cpus().size()
                    : Runtime.getRuntime().availableProcessors();
            if (maxThreads > 0) {
                n = Math.min(n, maxThreads);
            }
            String why = placement == Placement.UNPINNED ? "as asked" : fallback;
            CorePlan unpinned = new CorePlan(List.of(), n + " compute threads, not pinned (" + why + ")");
            LOG.info("imaging: {}", unpinned.description());
            return new ComputePool(Executors.newFixedThreadPool(n, new Named(null)), unpinned, false);
        }
        LOG.info("imaging: {}", plan.description());
        return new ComputePool(Executors.newFixedThreadPool(plan.cpus().size(), new Named(plan.cpus())), plan, true);
    }

    /** The default: one pinned thread per physical core. */
    public static ComputePool create() {
        return create(Placement.PHYSICAL_CORES, 0);
    }

    /** Threads in the pool: the parallelism to split work into. */
    public int parallelism() {
        return pinned ? plan.cpus().size() : ((java.util.concurrent.ThreadPoolExecutor) threads).getCorePoolSize();
    }

    public CorePlan plan() {
        return plan;
    }

    /** Whether the threads were asked to pin themselves. */
    public boolean pinned() {
        return pinned;
    }

    @Override
    public void execute(Runnable task) {
        threads.execute(task);
    }

    /** Stops the threads once their tasks are done (waits up to a minute). */
    @Override
    public void close() {
        threads.shutdown();
        try {
            if (!threads.awaitTermination(1, TimeUnit.MINUTES)) {
                threads.shutdownNow();
            }
        } catch (InterruptedException e) {
            threads.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    /** Names the threads and, with CPUs, has each pin itself to its CPU before its first task. */
    private static final class Named implements ThreadFactory {
        private static final AtomicBoolean REFUSAL_LOGGED = new AtomicBoolean();
        private final List<Integer> cpus;
        private final AtomicInteger count = new AtomicInteger();

        Named(List<Integer> cpus) {
            this.cpus = cpus;
        }

        @Override
        public Thread newThread(Runnable r) {
            int i = count.getAndIncrement();
            Integer cpu = cpus == null ? null : cpus.get(i % cpus.size());
            Runnable body = cpu == null ? r : () -> {
                try {
                    Pinning.pinCurrentThread(cpu);
                } catch (RuntimeException e) {
                    if (REFUSAL_LOGGED.compareAndSet(false, true)) {
                        LOG.warn("imaging: compute threads run unpinned: {}", e.getMessage());
                    }
                }
                r.run();
            };
            Thread t = new Thread(body, "imaging-compute-" + i + (cpu == null ? "" : "-cpu" + cpu));
            t.setDaemon(true);
            return t;
        }
    }
}
