package org.cloudviper.embedded.interop;

import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.worker.interop.SigtermInteropTest;

/** {@link SigtermInteropTest} under cloudviper's scheduler, in this JVM. */
class CloudviperSigtermInteropTest extends SigtermInteropTest {
    @Override
    protected String startScheduler(PythonPeers peers) throws InterruptedException {
        return CloudviperScheduler.start(peers);
    }
}
