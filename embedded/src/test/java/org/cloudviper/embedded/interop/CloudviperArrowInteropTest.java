package org.cloudviper.embedded.interop;

import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.worker.interop.ArrowInteropTest;

/** {@link ArrowInteropTest} under cloudviper's scheduler, in this JVM. */
class CloudviperArrowInteropTest extends ArrowInteropTest {
    @Override
    protected String startScheduler(PythonPeers peers) throws InterruptedException {
        return CloudviperScheduler.start(peers);
    }
}
