package org.cloudviper.worker.interop;

import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.worker.Worker;
import org.cloudviper.worker.WorkerConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the interop tests of the Java worker share: they run cloudviper Java workers in this JVM
 * with real Python Dask peers of the run's generation around them, under the scheduler
 * {@link #startScheduler} starts, a stock {@code dask scheduler} here. The worker module knows no
 * other scheduler; the embedded module runs the same tests again under cloudviper's by overriding
 * it.
 */
public abstract class JavaWorkerInterop {
    private static final AtomicInteger JAVA_WORKERS = new AtomicInteger();

    /** The scheduler the test's workers and clients join; returns its address. */
    protected String startScheduler(PythonPeers peers) throws IOException, InterruptedException {
        return peers.startScheduler().address();
    }

    /** A cloudviper Java worker with a 2 GiB memory limit, in this JVM; returns once registered. */
    public static Worker startJavaWorker(PythonPeers peers, String scheduler, int nthreads)
            throws IOException, InterruptedException {
        return startJavaWorker(peers, scheduler, nthreads, 2L << 30);
    }

    /** A Java worker with {@code memoryLimit} bytes (it spills above 0.6 of it, pauses above 0.8). */
    public static Worker startJavaWorker(PythonPeers peers, String scheduler, int nthreads, long memoryLimit)
            throws IOException, InterruptedException {
        return startJavaWorker(peers, scheduler, nthreads, memoryLimit, peers.logDir().resolve("java-worker-space"));
    }

    /** The same with its own {@code --local-directory}. */
    public static Worker startJavaWorker(PythonPeers peers, String scheduler, int nthreads, long memoryLimit,
            Path localDirectory) throws IOException, InterruptedException {
        return peers.inProcessWorker(Worker.start(WorkerConfig.defaults(scheduler).withHost("127.0.0.1").withPort(0)
                .withNthreads(nthreads).withMemoryLimit(memoryLimit).withName("java-" + JAVA_WORKERS.getAndIncrement())
                .withLocalDirectory(localDirectory)));
    }

    /**
     * A stock {@code dask worker} without nanny, one thread, with the resource {@code python=1} that
     * the scripts use to keep tasks off the Java workers; returns once registered.
     */
    public static Peer startPythonWorker(PythonPeers peers, String scheduler) throws IOException, InterruptedException {
        return peers.startWorkers(scheduler, 1, 1, false, "--resources", "python=1").get(0);
    }
}
