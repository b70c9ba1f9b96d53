package org.cloudviper.testkit;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaCall.Predicates.target;
import static com.tngtech.archunit.core.domain.properties.HasName.Predicates.name;
import static com.tngtech.archunit.core.domain.properties.HasOwner.Predicates.With.owner;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The walls between and inside modules, as ArchUnit rules for each module's architecture test (the
 * module brings ArchUnit itself, test scope). A rule names what it forbids; its failure lists every
 * class and line that crosses it.
 */
public final class Walls {
    private Walls() {
    }

    /**
     * A state machine is a function of its events: the classes of {@code statePackage} (and below)
     * use no Netty, no {@code java.util.concurrent}, no threads, and read no clock (time arrives
     * inside events).
     */
    public static ArchRule stateIsPure(String statePackage) {
        String pkg = statePackage + "..";
        return noClasses().that().resideInAPackage(pkg)
                .should().dependOnClassesThat().resideInAPackage("io.netty..")
                .orShould().dependOnClassesThat().resideInAPackage("java.util.concurrent..")
                .orShould().dependOnClassesThat().areAssignableTo(Thread.class)
                .orShould().dependOnClassesThat().areAssignableTo(java.time.InstantSource.class)
                .orShould().callMethod(System.class, "currentTimeMillis")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethodWhere(target(name("now")).and(target(owner(resideInAPackage("java.time..")))))
                .as("the classes of " + pkg + " use no Netty, java.util.concurrent or threads and read no clock");
    }

    /** The classes of {@code pkg} (and below) depend on none of {@code forbidden} (and below). */
    public static ArchRule dependsOnNone(String pkg, String... forbidden) {
        String[] below = new String[forbidden.length];
        for (int i = 0; i < forbidden.length; i++) {
            below[i] = forbidden[i] + "..";
        }
        return noClasses().that().resideInAPackage(pkg + "..")
                .should().dependOnClassesThat().resideInAnyPackage(below);
    }

    /**
     * No package cycles among the sub-packages of {@code root}, each sub-package taken with
     * everything below it. The root package itself is the module's facade (and its configuration),
     * which the sub-packages may see; see {@link #packagesFreeOfCycles} for the stricter rule.
     */
    public static ArchRule subPackagesFreeOfCycles(String root) {
        return slices().matching(root + ".(*)..").should().beFreeOfCycles();
    }

    /**
     * The classes below {@code root} use of the root package (the module's facade) only
     * {@code allowed}, such as the configuration the facade hands them: with
     * {@link #subPackagesFreeOfCycles} this allows one known kind of cycle, facade to sub-package and
     * back through those classes, and nothing more.
     */
    public static ArchRule rootSeenFromBelowOnlyAs(String root, Class<?>... allowed) {
        return noClasses().that().resideInAPackage(root + ".*..")
                .should().dependOnClassesThat(resideInAPackage(root).and(not(belongToAnyOf(allowed))))
                .as("the packages below " + root + " use of " + root + " only " + names(allowed));
    }

    private static String names(Class<?>... classes) {
        StringBuilder sb = new StringBuilder();
        for (Class<?> c : classes) {
            sb.append(sb.length() == 0 ? "" : ", ").append(c.getSimpleName());
        }
        return sb.toString();
    }

    /** No cycles among the packages at or under {@code root}, each package a slice of its own. */
    public static ArchRule packagesFreeOfCycles(String root) {
        return slices().assignedFrom(new SliceAssignment() {
            @Override
            public SliceIdentifier getIdentifierOf(JavaClass c) {
                String p = c.getPackageName();
                return p.equals(root) || p.startsWith(root + ".") ? SliceIdentifier.of(p) : SliceIdentifier.ignore();
            }

            @Override
            public String getDescription() {
                return "packages of " + root;
            }
        }).should().beFreeOfCycles();
    }
}
