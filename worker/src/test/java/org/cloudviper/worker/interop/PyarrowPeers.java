package org.cloudviper.worker.interop;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a {@link JavaWorkerInterop} class: its Python peers (scheduler, workers, client scripts) run
 * with {@link DaskPeers#pyarrowPython()}, Dask 2022.12.1 plus pyarrow; its tests are skipped, saying
 * why, where that interpreter is missing.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@interface PyarrowPeers {
}
