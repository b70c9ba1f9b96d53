package org.cloudviper.embedded.interop;

import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.worker.interop.SpillInteropTest;

/** {@link SpillInteropTest} under cloudviper's scheduler, in this JVM. */
class CloudviperSpillInteropTest extends SpillInteropTest {
    @Override
    protected String startScheduler(PythonPeers peers) throws InterruptedException {
        return CloudviperScheduler.start(peers);
    }
}
