package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.DeferredSubObject;
import org.cloudviper.protocol.SubObject;

import java.util.function.Function;

/**
 * The pickle of one task's run spec, either written already or written each time it is asked for
 * from parts its layer keeps (a {@code client.map} layer: one function and its argument lists for a
 * million tasks, where a pickle per task would repeat the function a million times).
 */
public interface TaskPickle {
    /**
     * The pickle and the out-of-band buffers it consumes. Thread-safe; a deferred pickle is
     * written anew on each call (the caller keeps the result as long as it needs it).
     */
    Written write();

    /** Whether {@link #write()} writes the pickle anew (and so costs a slice's work) on each call. */
    default boolean deferred() {
        return true;
    }

    /**
     * This pickle as a sub-object written when a message carrying it is encoded: {@code asSubObject}
     * applied to {@link #write()}. One function serves every task of a graph; a task may return
     * itself (its layer keeping the function) rather than a new object.
     */
    default DeferredSubObject deferredSubObject(Function<Written, SubObject> asSubObject) {
        return () -> asSubObject.apply(write());
    }

    /**
     * @param bytes        a protocol-5 pickle
     * @param bufferFrames indexes into the update-graph {@code graph_frames} of the out-of-band
     *                     buffers {@code bytes} consumes, in order (>= 1: frame 0 is the graph)
     */
    record Written(byte[] bytes, int[] bufferFrames) implements TaskPickle {
        @Override
        public Written write() {
            return this;
        }

        @Override
        public boolean deferred() {
            return false;
        }
    }
}
