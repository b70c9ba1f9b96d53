package org.cloudviper.k8s.policy;

import java.util.Set;

/**
 * A node as the policy sees it.
 *
 * @param name          the node's name
 * @param taintKeys     keys of its taints (any effect)
 * @param unschedulable cordoned ({@code spec.unschedulable}), as a drain or a termination handler does first
 * @param deleting      it has a deletion timestamp
 */
public record NodeView(String name, Set<String> taintKeys, boolean unschedulable, boolean deleting) {
}
