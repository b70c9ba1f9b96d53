package org.cloudviper.scheduler.state.coordination;

/**
 * What the primitives need of the task state. Futures kept in a Variable or a Queue keep their keys
 * alive as Dask's extensions do: the key is wanted by a made-up client ({@code variable-<name>},
 * {@code queue-<name>}) until the value is replaced, taken or deleted.
 */
public interface Keys {
    /** {@code holder} (a client id or a made-up one) wants {@code key}: it is computed and kept. */
    void want(String holder, Object key, String stimulusId);

    /** {@code holder} no longer wants {@code key}. */
    void release(String holder, Object key, String stimulusId);

    /** The made-up client {@code holder} goes, with every key it wanted. */
    void forget(String holder, String stimulusId);

    /** Dask's name of the key's state ("memory", "erred", ...), or "lost" if the scheduler does not know it. */
    String state(Object key);

    /** The exception and traceback of an erred key (what its clients got with task-erred); nulls otherwise. */
    Object[] error(Object key);
}
