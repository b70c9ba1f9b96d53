package org.cloudviper.testkit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.concurrent.TimeUnit;

/**
 * Marks a test class that drives real Python Dask peers. Its {@link InteropTest} methods run once
 * per Dask generation selected by {@code -Dinterop.dask} (2022.12.1 and 2024.12.1; see
 * {@link DaskGeneration}) and may take a {@link PythonPeers} parameter of that generation. A run
 * that hangs fails after 120 s: it runs in its own thread, so even a test stuck in blocking I/O is
 * abandoned, and its peers are then stopped, which unblocks it. Inherited: a subclass runs the same
 * tests, e.g. against another scheduler.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Tag("interop")
@ExtendWith(InteropExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
public @interface DaskInterop {

    /**
     * The Python peers need pyarrow: Dask 2022.12.1 then runs from the venv of
     * {@code scripts/setup-peers.sh} (its absence fails the test); the runs of a generation whose
     * set-up installs no pyarrow (2024.12.1) are skipped, saying so.
     */
    boolean pyarrow() default false;
}
