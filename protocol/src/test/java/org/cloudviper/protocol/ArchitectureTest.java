package org.cloudviper.protocol;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/** The protocol module's walls (see {@link Walls}); a crossing fails the build with the classes and lines. */
@AnalyzeClasses(packages = "org.cloudviper.protocol", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule knowsNoPeer = Walls.dependsOnNone("org.cloudviper.protocol", "org.cloudviper.scheduler",
            "org.cloudviper.worker", "org.cloudviper.embedded");

    @ArchTest
    static final ArchRule noPackageCycles = Walls.packagesFreeOfCycles("org.cloudviper.protocol");
}
