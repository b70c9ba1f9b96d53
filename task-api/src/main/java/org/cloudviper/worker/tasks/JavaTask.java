package org.cloudviper.worker.tasks;

import java.util.List;
import java.util.Map;

/**
 * A task implemented in Java, run by the cloudviper worker when a Dask client submits the Python
 * function it is registered for (see {@link TaskRegistry}).
 *
 * <p>Arguments arrive as plain Java values: Python {@code int} as {@code Long} (or
 * {@code BigInteger}), {@code float} as {@code Double}, {@code str} as {@code String},
 * {@code bytes} as {@code byte[]}, {@code bool} as {@code Boolean}, {@code None} as null, tuples and
 * lists as {@code List}, dicts as {@code Map}, numpy arrays as {@link NdArray}, pyarrow Tables and
 * RecordBatches as {@link ArrowTable} (a pandas DataFrame is refused: send it as a pyarrow Table). Results from other
 * tasks (futures passed as arguments) are already replaced by their values. Arguments must not be
 * modified.
 *
 * <p>Return the same kinds of values; an {@link NdArray} reaches Python as a numpy array, an
 * {@link ArrowTable} as a pyarrow Table or RecordBatch, the rest
 * via msgpack (lists come back as tuples). A thrown exception reaches the client as a
 * {@code RuntimeError} carrying its message. Runs on one of the worker's compute threads.
 */
@FunctionalInterface
public interface JavaTask {
    Object call(List<Object> args, Map<String, Object> kwargs) throws Exception;
}
