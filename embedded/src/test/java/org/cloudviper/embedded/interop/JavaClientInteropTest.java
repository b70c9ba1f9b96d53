package org.cloudviper.embedded.interop;

import org.cloudviper.embedded.JavaClient;
import org.cloudviper.testkit.DaskGeneration;
import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.worker.interop.JavaWorkerInterop;
import org.cloudviper.worker.tasks.NdArray;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The embedded Java client against a stock Python {@code dask scheduler} 2022.12.1: identity,
 * register-client, update-graph-hlg, key-in-memory / task-erred, gather and release as the Python
 * scheduler understands them (it unpacks our layer with dask's own code), with a cloudviper Java
 * worker running the tasks. Schedulers of later lines no longer accept update-graph-hlg: JavaClient
 * refuses them when it connects, naming their version.
 */
@DaskInterop
class JavaClientInteropTest {

    @InteropTest
    void javaClientUsesAStockPythonScheduler(PythonPeers peers) throws Exception {
        assumeTrue(peers.dask() == DaskGeneration.DASK_2022,
                "JavaClient speaks the 2022.12.1 client protocol; a 2024.12.1 scheduler refuses update-graph-hlg");
        String scheduler = peers.startScheduler().address();
        JavaWorkerInterop.startJavaWorker(peers, scheduler, 2);
        try (JavaClient client = JavaClient.connect(scheduler)) {
            JavaClient.Task a = client.task("cloudviper.tasks.arange_f64", 5L);
            JavaClient.Task b = client.task("cloudviper.tasks.scale", a, 2.0);
            List<Object> r = client.compute(List.of(client.task("cloudviper.tasks.sum", b), b));
            assertEquals(20.0, r.get(0));
            assertArrayEquals(new double[]{0, 2, 4, 6, 8}, ((NdArray) r.get(1)).toDoubleArray());

            JavaClient.TaskFailedException e = assertThrows(JavaClient.TaskFailedException.class,
                    () -> client.compute(client.task("cloudviper.tasks.sum", "not an array"), Double.class));
            assertTrue(e.remoteMessage().contains("sum: expected a numpy array"), e.remoteMessage());

            // A graph wider than one batch, and a reduction over results passed in a list.
            List<JavaClient.Task> leaves = new java.util.ArrayList<>();
            for (long i = 0; i < 500; i++) {
                leaves.add(client.task("cloudviper.tasks.echo", i));
            }
            assertEquals(124750.0, client.compute(client.task("cloudviper.tasks.sum", leaves), Double.class));
        }
    }

    @InteropTest(withDask2024_1 = true)
    void javaClientRefusesASchedulerOfAnotherLine(PythonPeers peers) throws Exception {
        assumeTrue(peers.dask() != DaskGeneration.DASK_2022, "a 2022.12.1 scheduler is JavaClient's own line");
        String scheduler = peers.startScheduler().address();
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> JavaClient.connect(scheduler).close());
        assertTrue(e.getMessage().contains("the scheduler at " + scheduler + " runs distributed " + peers.dask().version
                + ": JavaClient speaks the distributed 2022.11.0 to 2022.12.1 line"), e.getMessage());
    }
}
