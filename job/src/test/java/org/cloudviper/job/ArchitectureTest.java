package org.cloudviper.job;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/**
 * The job's walls (see {@link Walls}): it drives the cluster as a client does, through the embedded
 * facade and the tasks' names, never through the scheduler's or the worker's insides.
 */
@AnalyzeClasses(packages = "org.cloudviper.job", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule onlyThroughFacades = Walls.dependsOnNone("org.cloudviper.job", "org.cloudviper.scheduler",
            "org.cloudviper.worker.runtime", "org.cloudviper.worker.state", "org.cloudviper.protocol",
            "org.cloudviper.k8s", "io.netty");
}
