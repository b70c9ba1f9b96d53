package org.cloudviper.testkit;

import org.junit.jupiter.api.TestTemplate;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * An interop test method of a {@link DaskInterop} class, used instead of {@code @Test}: it runs once
 * per {@link DaskGeneration} ({@code [1]} Dask 2022.12.1, {@code [2]} Dask 2024.12.1; one of them is
 * skipped with {@code -Dinterop.dask=2022|2024}), each time with a fresh {@link PythonPeers} of that
 * generation as its parameter. See {@link InteropExtension}.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@TestTemplate
public @interface InteropTest {
}
