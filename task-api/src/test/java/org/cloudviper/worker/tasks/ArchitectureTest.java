package org.cloudviper.worker.tasks;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/**
 * The task API's walls (see {@link Walls}): it knows nothing of the worker that runs the tasks, nor of
 * the libraries that provide them.
 */
@AnalyzeClasses(packages = "org.cloudviper.worker.tasks", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule knowsNoWorkerNorLibrary = Walls.dependsOnNone("org.cloudviper.worker.tasks",
            "org.cloudviper.worker.runtime", "org.cloudviper.worker.state", "org.cloudviper.protocol",
            "org.cloudviper.scheduler", "org.cloudviper.embedded", "org.cloudviper.cube", "org.cloudviper.imaging",
            "io.netty");
}
