package org.cloudviper.protocol.message;

/**
 * What a worker needs to run one task, as compute-task carries it; the scheduler never looks
 * inside. 2022.12.1 clients send either {@code function}/{@code args}/{@code kwargs} (pickle bytes
 * of dumps_task) or a Serialized legacy task in {@code runSpec}; 2024.12.1 clients' tasks become
 * one pickled {@code runSpec} each. Values are {@code byte[]}, {@code SubObject} or null.
 */
public record RunSpec(Object function, Object args, Object kwargs, Object runSpec) {
    public static RunSpec ofFunction(Object function, Object args, Object kwargs) {
        return new RunSpec(function, args, kwargs, null);
    }

    public static RunSpec of(Object runSpec) {
        return new RunSpec(null, null, null, runSpec);
    }
}
