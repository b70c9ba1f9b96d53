package org.cloudviper.embedded.interop;

import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.worker.interop.GracefulCloseInteropTest;

/** {@link GracefulCloseInteropTest} under cloudviper's scheduler, in this JVM. */
class CloudviperGracefulCloseInteropTest extends GracefulCloseInteropTest {
    @Override
    protected String startScheduler(PythonPeers peers) throws InterruptedException {
        return CloudviperScheduler.start(peers);
    }
}
