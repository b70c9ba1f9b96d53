package org.cloudviper.scheduler.state;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * One task transition, shaped like an entry of Dask's scheduler transition log
 * ({@code distributed.scheduler.Transition}: key, start, finish, recommendations, stimulus_id,
 * timestamp), which {@code Scheduler.story} / the {@code get_story} RPC return and msgpack turns
 * into a plain list.
 *
 * @param key             the task's key
 * @param start           Dask's name of the state before ("released", "waiting", ...)
 * @param finish          Dask's name of the state after
 * @param recommendations always empty: Dask's transition functions return recommendations that
 *                        later transitions carry out, while cloudviper applies a move's
 *                        consequences at once (each appears as its own entry with the same
 *                        stimulus id)
 * @param stimulusId      the event that caused the move
 * @param timestamp       seconds since the epoch, the latest time an event brought into the state
 *                        (see {@link SchedulerState#story})
 */
public record StoryEntry(Object key, String start, String finish, Map<Object, String> recommendations,
                         String stimulusId, double timestamp) {

    /** The entry as Dask sends it: {@code [key, start, finish, recommendations, stimulus_id, timestamp]}. */
    public List<Object> toList() {
        return Arrays.asList(key, start, finish, recommendations, stimulusId, timestamp);
    }

    @Override
    public String toString() {
        return key + ": " + start + " -> " + finish + " (" + stimulusId + " @ " + timestamp + ")";
    }
}
