package org.cloudviper.k8s.policy;

import java.util.Set;

/**
 * Which nodes are about to go away. A spot interruption shows up as a taint the termination handler
 * puts on the node (the AWS node termination handler's {@code aws-node-termination-handler/spot-itn}
 * by default; any configured key), as cordoning, or as a deletion timestamp (the cluster autoscaler or
 * the cloud controller removing the node). Workers there are retired at once, before the node drains.
 *
 * @param taintKeys the taint keys that announce an interruption
 */
public record Interruptions(Set<String> taintKeys) {
    /** The taint the AWS node termination handler sets on a spot interruption notice (queue processor mode). */
    public static final String AWS_SPOT_ITN = "aws-node-termination-handler/spot-itn";
    /** ... and on other terminations it handles (rebalance recommendations, scheduled events). */
    public static final String AWS_REBALANCE = "aws-node-termination-handler/rebalance-recommendation";

    public Interruptions {
        taintKeys = Set.copyOf(taintKeys);
    }

    public static Interruptions defaults() {
        return new Interruptions(Set.of(AWS_SPOT_ITN, AWS_REBALANCE));
    }

    public boolean interrupted(NodeView n) {
        if (n.unschedulable() || n.deleting()) {
            return true;
        }
        for (String k : n.taintKeys()) {
            if (taintKeys.contains(k)) {
                return true;
            }
        }
        return false;
    }
}
