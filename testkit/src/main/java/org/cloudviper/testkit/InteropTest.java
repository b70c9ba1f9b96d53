package org.cloudviper.testkit;

import org.junit.jupiter.api.TestTemplate;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * An interop test method of a {@link DaskInterop} class, used instead of {@code @Test}: it runs once
 * per {@link DaskGeneration} ({@code [1]} Dask 2022.12.1, {@code [2]} Dask 2024.12.1, and {@code [3]}
 * Dask 2024.1.1 where it runs; a generation is skipped when {@code -Dinterop.dask} leaves it out),
 * each time with a fresh {@link PythonPeers} of that generation as its parameter. See
 * {@link InteropExtension}.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@TestTemplate
public @interface InteropTest {

    /**
     * Also run against Dask 2024.1.1 by default (where its referee is built; skipped with the reason
     * elsewhere). Without it, only {@code -Dinterop.dask=2024.1} (or {@code all}) runs the test with
     * 2024.1.1: the default suite runs the third generation only where it adds coverage.
     */
    boolean withDask2024_1() default false;
}
