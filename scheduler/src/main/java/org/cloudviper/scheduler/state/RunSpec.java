package org.cloudviper.scheduler.state;

/**
 * What a worker needs to run one task, kept opaque: the scheduler never looks inside. For 2022.12.1
 * clients either {@code function}/{@code args}/{@code kwargs} (pickle bytes from
 * {@code dumps_task}) or {@code runSpec} (a Serialized legacy task) is set; for 2024.12.1 clients
 * {@code runSpec} is the per-task pickle. Values are byte[] or
 * {@link org.cloudviper.protocol.SubObject}; sub-objects are owned by the task that holds the spec.
 */
public record RunSpec(Object function, Object args, Object kwargs, Object runSpec) {
}
