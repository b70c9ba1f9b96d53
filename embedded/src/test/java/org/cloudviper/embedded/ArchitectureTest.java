package org.cloudviper.embedded;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/**
 * The walls between modules, checked where all of them are on the class path: only this module
 * joins scheduler and worker, and no other module depends on it.
 */
@AnalyzeClasses(packages = "org.cloudviper", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule schedulerKnowsNoWorker = Walls.dependsOnNone("org.cloudviper.scheduler",
            "org.cloudviper.worker", "org.cloudviper.embedded");

    @ArchTest
    static final ArchRule workerKnowsNoScheduler = Walls.dependsOnNone("org.cloudviper.worker",
            "org.cloudviper.scheduler", "org.cloudviper.embedded");

    @ArchTest
    static final ArchRule noPackageCycles = Walls.packagesFreeOfCycles("org.cloudviper.embedded");
}
