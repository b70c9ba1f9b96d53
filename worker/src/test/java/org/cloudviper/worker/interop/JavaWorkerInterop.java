package org.cloudviper.worker.interop;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.TimeUnit;

/**
 * A test class that runs the Java worker with real Python Dask 2022.12.1 peers. Test methods may take
 * a {@link DaskPeers} parameter; it is stopped after each test, pass or fail. A hung test fails
 * after 90 s (in its own thread, so blocking I/O cannot keep it alive).
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("interop")
@ExtendWith(DaskPeersExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@interface JavaWorkerInterop {
}
