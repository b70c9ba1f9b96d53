package org.cloudviper.worker.tasks;

/**
 * Tasks that a library installs into every worker whose class path holds it: a
 * {@link java.util.ServiceLoader} service. A library implements this, lists its class in
 * {@code META-INF/services/org.cloudviper.worker.tasks.TaskProvider}, and
 * {@link TaskRegistry#withBuiltins()} (which the worker's command line and {@code Worker.start}
 * use) registers its tasks next to the built-in ones. This is how the worker's runnable jar runs
 * tasks of modules that its own code never names (the imaging tasks of {@code cloudviper-cube}).
 *
 * <p>An implementation has a public no-argument constructor and registers its tasks under the
 * qualified names of the Python functions that clients submit ({@code module.name}).
 */
public interface TaskProvider {
    /** Registers this library's tasks into {@code registry}. */
    void registerTasks(TaskRegistry registry);
}
