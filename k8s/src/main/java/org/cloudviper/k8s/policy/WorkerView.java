package org.cloudviper.k8s.policy;

/**
 * A worker registered with the scheduler.
 *
 * @param name    the worker's name (the pod's name, for pods the scaler made)
 * @param address its contact address, {@code tcp://host:port}
 * @param idle    running with nothing to do
 */
public record WorkerView(String name, String address, boolean idle) {
}
