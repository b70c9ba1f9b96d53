package org.cloudviper.worker.tasks;

import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which Python function names the worker runs, and with which Java code. A client refers to a task by
 * the qualified name of a Python function ({@code module.name}, pickled by reference); the package
 * {@code cloudviper.tasks} in {@code worker/python} defines the built-in names for clients.
 */
public final class TaskRegistry {
    private final Map<String, JavaTask> tasks = new ConcurrentHashMap<>();

    /** An empty registry. */
    public TaskRegistry() {
    }

    /**
     * A registry holding the {@link BuiltinTasks} and the tasks of every {@link TaskProvider} on the
     * class path of this class (a provider's name clashing with a built-in one replaces it). A provider
     * that cannot be loaded fails this call with the reason: a worker that silently lacked its
     * libraries' tasks would only fail later, task by task.
     */
    public static TaskRegistry withBuiltins() {
        TaskRegistry r = new TaskRegistry();
        BuiltinTasks.registerAll(r);
        for (TaskProvider p : ServiceLoader.load(TaskProvider.class, TaskRegistry.class.getClassLoader())) {
            p.registerTasks(r);
        }
        return r;
    }

    /** Maps {@code qualifiedName} (e.g. {@code "cloudviper.tasks.sum"}) to {@code task}; returns this. */
    public TaskRegistry register(String qualifiedName, JavaTask task) {
        Objects.requireNonNull(task, "task");
        if (qualifiedName == null || !qualifiedName.contains(".")) {
            throw new IllegalArgumentException("qualifiedName: " + qualifiedName + " (expected: module.name)");
        }
        tasks.put(qualifiedName, task);
        return this;
    }

    /** The task registered under {@code qualifiedName}, or null. */
    public JavaTask lookup(String qualifiedName) {
        return tasks.get(qualifiedName);
    }

    public Set<String> names() {
        return Set.copyOf(tasks.keySet());
    }
}
