package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.scheduler.state.SchedulerState;

import java.util.List;

/** {@link Keys} over the scheduler's state: made-up clients want keys as a client would. */
public final class StateKeys implements Keys {
    private final SchedulerState state;

    public StateKeys(SchedulerState state) {
        this.state = state;
    }

    @Override
    public void want(String holder, Object key, String stimulusId) {
        state.onClientDesiresKeys(holder, List.of(key), stimulusId);
    }

    @Override
    public void release(String holder, Object key, String stimulusId) {
        state.onClientReleasesKeys(holder, List.of(key), stimulusId);
    }

    @Override
    public void forget(String holder, String stimulusId) {
        state.onRemoveClient(holder, stimulusId);
    }

    @Override
    public String state(Object key) {
        String s = state.queries().taskStatus(key);
        return s == null ? "lost" : s;
    }

    @Override
    public Object[] error(Object key) {
        return state.queries().taskError(key);
    }
}
