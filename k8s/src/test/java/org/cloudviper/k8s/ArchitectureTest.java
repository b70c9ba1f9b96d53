package org.cloudviper.k8s;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/** The k8s module's walls (see {@link Walls}). */
@AnalyzeClasses(packages = "org.cloudviper.k8s", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    /** The scaling policy decides from what it is shown: no Kubernetes client, no scheduler, no clock. */
    @ArchTest
    static final ArchRule policyIsPure = Walls.stateIsPure("org.cloudviper.k8s.policy");

    @ArchTest
    static final ArchRule policyKnowsNoKubernetesNorScheduler = Walls.dependsOnNone("org.cloudviper.k8s.policy",
            "io.fabric8", "org.cloudviper.scheduler");

    /** The scheduler is reached through its facade and the summary it hands out, never its server. */
    @ArchTest
    static final ArchRule schedulerThroughItsFacade = Walls.dependsOnNone("org.cloudviper.k8s",
            "org.cloudviper.scheduler.server", "org.cloudviper.worker", "org.cloudviper.embedded");

    @ArchTest
    static final ArchRule noCycles = Walls.subPackagesFreeOfCycles("org.cloudviper.k8s");
}
