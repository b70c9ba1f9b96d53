package org.cloudviper.imaging;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/** The imaging module's walls (see {@link Walls}): pure compute, knowing no other module, no cycles. */
@AnalyzeClasses(packages = "org.cloudviper.imaging", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule knowsNoPeer = Walls.dependsOnNone("org.cloudviper.imaging", "org.cloudviper.protocol",
            "org.cloudviper.scheduler", "org.cloudviper.worker", "org.cloudviper.embedded", "org.cloudviper.cube");

    @ArchTest
    static final ArchRule noPackageCycles = Walls.packagesFreeOfCycles("org.cloudviper.imaging");
}
