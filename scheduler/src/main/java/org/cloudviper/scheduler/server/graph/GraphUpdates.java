package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.SubObject;
import org.cloudviper.scheduler.state.GraphUpdate;
import org.cloudviper.protocol.message.RunSpec;

/**
 * A {@link GraphUpdate} read from a client's graph owns one reference to each sub-object of its
 * run specs; the state machine retains what it keeps, so the reader's references are released once
 * the state has taken the update (or the update is refused).
 */
public final class GraphUpdates {
    private GraphUpdates() {
    }

    public static void release(GraphUpdate u) {
        for (GraphUpdate.NewTask t : u.tasks()) {
            releaseSpec(t.spec());
        }
    }

    /** The sub-objects of a {@link GraphUpdate.NewTask#spec()}. */
    static void releaseSpec(Object spec) {
        if (!(spec instanceof RunSpec s)) {
            release(spec);
            return;
        }
        release(s.function());
        release(s.args());
        release(s.kwargs());
        release(s.runSpec());
    }

    private static void release(Object o) {
        if (o instanceof SubObject s && s.refCnt() > 0) {
            s.release();
        }
    }
}
