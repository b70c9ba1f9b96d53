package org.cloudviper.worker;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/** The worker's walls (see {@link Walls}); a crossing fails the build with the classes and lines. */
@AnalyzeClasses(packages = "org.cloudviper.worker", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule stateIsPure = Walls.stateIsPure("org.cloudviper.worker.state");

    @ArchTest
    static final ArchRule knowsNoScheduler = Walls.dependsOnNone("org.cloudviper.worker", "org.cloudviper.scheduler",
            "org.cloudviper.embedded");

    /**
     * The libraries of tasks that the runnable jar ships (cube's imaging tasks, the imaging core) are on
     * the class path at run time only, found through the task API's {@code TaskProvider} service: no
     * worker class names them (the compiler cannot see them either; this rule says why).
     */
    @ArchTest
    static final ArchRule namesNoLibraryOfTasks = Walls.dependsOnNone("org.cloudviper.worker", "org.cloudviper.cube",
            "org.cloudviper.imaging");

    @ArchTest
    static final ArchRule noCyclesBelowTheFacade = Walls.subPackagesFreeOfCycles("org.cloudviper.worker");

    /**
     * The one cycle between packages: the facade ({@code Worker}) starts {@code runtime.WorkerServer},
     * which reads the {@code WorkerConfig} beside the facade. Nothing else of the root package is used
     * below it.
     */
    @ArchTest
    static final ArchRule rootSeenFromBelowOnlyAsConfig = Walls.rootSeenFromBelowOnlyAs("org.cloudviper.worker",
            WorkerConfig.class);
}
