package org.cloudviper.k8s.policy;

/**
 * A worker pod as the policy sees it.
 *
 * @param name     the pod's name, which is also its worker's name
 * @param node     the node it was scheduled to, or null while pending
 * @param finished its container ended (phase Succeeded or Failed): the worker is gone for good
 * @param deleting it has a deletion timestamp: it is going
 * @param created  creation order (the API server's timestamp in seconds, or any increasing number)
 */
public record PodView(String name, String node, boolean finished, boolean deleting, double created) {

    /** Counts toward the cluster's size: not finished and not being deleted. */
    public boolean live() {
        return !finished && !deleting;
    }
}
