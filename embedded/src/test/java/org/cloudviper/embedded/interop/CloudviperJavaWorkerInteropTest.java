package org.cloudviper.embedded.interop;

import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.worker.interop.JavaWorkerInteropTest;

/** {@link JavaWorkerInteropTest} under cloudviper's scheduler, in this JVM. */
class CloudviperJavaWorkerInteropTest extends JavaWorkerInteropTest {
    @Override
    protected String startScheduler(PythonPeers peers) throws InterruptedException {
        return CloudviperScheduler.start(peers);
    }
}
