package org.cloudviper.scheduler;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/** The scheduler's walls (see {@link Walls}); a crossing fails the build with the classes and lines. */
@AnalyzeClasses(packages = "org.cloudviper.scheduler", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule stateIsPure = Walls.stateIsPure("org.cloudviper.scheduler.state");

    @ArchTest
    static final ArchRule knowsNoWorker = Walls.dependsOnNone("org.cloudviper.scheduler", "org.cloudviper.worker",
            "org.cloudviper.embedded");

    @ArchTest
    static final ArchRule noCyclesBelowTheFacade = Walls.subPackagesFreeOfCycles("org.cloudviper.scheduler");

    /**
     * The one cycle between packages: the facade ({@code Scheduler}) starts {@code server.SchedulerServer},
     * which reads the {@code SchedulerConfig} beside the facade. Nothing else of the root package is used
     * below it.
     */
    @ArchTest
    static final ArchRule rootSeenFromBelowOnlyAsConfig = Walls.rootSeenFromBelowOnlyAs("org.cloudviper.scheduler",
            SchedulerConfig.class);
}
