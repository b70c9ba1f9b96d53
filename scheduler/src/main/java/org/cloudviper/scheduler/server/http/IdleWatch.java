package org.cloudviper.scheduler.server.http;

import org.cloudviper.scheduler.state.ClusterSummary;

import java.util.function.Supplier;

/**
 * Dask 2024's {@code Scheduler.check_idle}, which Dask runs every 250 ms and the {@code check_idle}
 * route reads: idle since the first check that found no transition since the previous check, nothing
 * queued or unrunnable and nothing processing; any transition resets it. The summary (a walk over every
 * task) is taken at most once per quiet spell: while the transition count stands still, the answer
 * cannot change.
 */
public final class IdleWatch {
    private long lastTransitions = -1;
    private long evaluatedAt = -1;
    private Double idleSince;

    /** One check at {@code now} (seconds); returns the idle-since time or null, as Dask's check_idle. */
    public Double check(long transitions, Supplier<ClusterSummary> summary, double now) {
        if (transitions != lastTransitions) {
            lastTransitions = transitions;
            idleSince = null;
            return null;
        }
        if (idleSince == null && evaluatedAt != transitions) {
            evaluatedAt = transitions;
            ClusterSummary s = summary.get();
            boolean busy = s.tasks("queued") > 0 || s.tasks("no-worker") > 0
                    || s.workers().stream().anyMatch(w -> w.processing() > 0);
            if (!busy) {
                idleSince = now;
            }
        }
        return idleSince;
    }

    /** The answer of the last check, for the route. */
    Double idleSince() {
        return idleSince;
    }
}
