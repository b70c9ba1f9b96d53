package org.cloudviper.imaging.grid;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.cloudviper.imaging.kernel.KernelPlan;

/**
 * Makes gridders: on the Vector API when the JVM has the incubating module
 * ({@code --add-modules jdk.incubator.vector}) and the system property
 * {@code cloudviper.imaging.simd} is not {@code false}, else the plain-Java ones. The vector classes
 * are reached by name only, so that they are never linked in a JVM without the module.
 */
public final class Gridders {
    private static final MethodHandle VECTOR_FLOAT;
    private static final MethodHandle VECTOR_DOUBLE;
    private static final String WHY;

    static {
        MethodHandle f = null;
        MethodHandle d = null;
        String why;
        if ("false".equals(System.getProperty("cloudviper.imaging.simd"))) {
            why = "switched off by -Dcloudviper.imaging.simd=false";
        } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            why = "the JVM lacks --add-modules jdk.incubator.vector";
        } else {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                MethodType type = MethodType.methodType(void.class, KernelPlan.class);
                f = lookup.findConstructor(Class.forName(Gridders.class.getPackageName() + ".VectorFloatGridder"), type);
                d = lookup.findConstructor(Class.forName(Gridders.class.getPackageName() + ".VectorDoubleGridder"), type);
                why = "jdk.incubator.vector";
            } catch (ReflectiveOperationException | LinkageError e) {
                f = null;
                d = null;
                why = "the Vector API failed to load: " + e;
            }
        }
        VECTOR_FLOAT = f;
        VECTOR_DOUBLE = d;
        WHY = why;
    }

    private Gridders() {
    }

    /** Whether the vector gridders can be had in this JVM. */
    public static boolean simdAvailable() {
        return VECTOR_FLOAT != null;
    }

    /** Which gridders {@code simd = true} gives and why, for a log line. */
    public static String describe() {
        return (simdAvailable() ? "SIMD gridder (" : "plain-Java gridder (") + WHY + ")";
    }

    /** A float gridder; SIMD if asked for and available. */
    public static FloatGridder floats(KernelPlan kp, boolean simd) {
        if (simd && VECTOR_FLOAT != null) {
            return (FloatGridder) construct(VECTOR_FLOAT, kp);
        }
        return new ScalarFloatGridder(kp);
    }

    /** A double gridder; SIMD if asked for and available. */
    public static DoubleGridder doubles(KernelPlan kp, boolean simd) {
        if (simd && VECTOR_DOUBLE != null) {
            return (DoubleGridder) construct(VECTOR_DOUBLE, kp);
        }
        return new ScalarDoubleGridder(kp);
    }

    private static Object construct(MethodHandle constructor, KernelPlan kp) {
        try {
            return constructor.invoke(kp);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
