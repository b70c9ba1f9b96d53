package org.cloudviper.cube;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import org.cloudviper.testkit.Walls;

/**
 * The cube module's walls (see {@link Walls}): of cloudviper it knows only the imaging core and the
 * worker's task API, and those only in its tasks (package {@code tasks}); its packages form no cycle;
 * the format and store (the root package) know nothing of the generator, the outputs and the tasks
 * built on them.
 */
@AnalyzeClasses(packages = "org.cloudviper.cube", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

    @ArchTest
    static final ArchRule knowsNoOtherModule = Walls.dependsOnNone("org.cloudviper.cube", "org.cloudviper.protocol",
            "org.cloudviper.scheduler", "org.cloudviper.worker.runtime", "org.cloudviper.worker.state",
            "org.cloudviper.embedded");

    @ArchTest
    static final ArchRule onlyTasksUseImagingAndTaskApi = noClasses().that()
            .resideOutsideOfPackage("org.cloudviper.cube.tasks..")
            .should().dependOnClassesThat().resideInAnyPackage("org.cloudviper.imaging..", "org.cloudviper.worker..")
            .as("only the tasks use the imaging core and the worker's task API");

    @ArchTest
    static final ArchRule noPackageCycles = Walls.packagesFreeOfCycles("org.cloudviper.cube");

    @ArchTest
    static final ArchRule formatKnowsNotItsUsers = noClasses().that().resideInAPackage("org.cloudviper.cube")
            .should().dependOnClassesThat().resideInAnyPackage("org.cloudviper.cube.synth..", "org.cloudviper.cube.output..",
                    "org.cloudviper.cube.tasks..");

    @ArchTest
    static final ArchRule onlyOutputsDraw = noClasses().that().resideOutsideOfPackage("org.cloudviper.cube.output..")
            .should().dependOnClassesThat().resideInAnyPackage("java.awt..", "javax.imageio..")
            .as("only the outputs draw pictures");
}
