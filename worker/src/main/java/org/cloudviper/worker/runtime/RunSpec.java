package org.cloudviper.worker.runtime;

/**
 * What compute-task says to run, kept as the client's pickles until a compute thread reads them.
 * Either {@code function}/{@code args}/{@code kwargs} (2022's flattened form), or {@code task}: the
 * pickle of a whole legacy task tuple (2022's {@code run_spec}), or {@code taskSpec}: the pickle of a
 * {@code dask._task_spec.Task} (distributed >= 2023.4, sent as {@code ToPickle}) followed by
 * {@code buffers} out-of-band frames this worker does not keep, or a {@code refusal} saying why this
 * worker cannot run it (it then errs when executed, so the client sees the reason).
 */
record RunSpec(byte[] function, byte[] args, byte[] kwargs, byte[] task, String refusal, byte[] taskSpec,
               int buffers) {
    RunSpec(byte[] function, byte[] args, byte[] kwargs, byte[] task, String refusal) {
        this(function, args, kwargs, task, refusal, null, 0);
    }

    static RunSpec refused(String why) {
        return new RunSpec(null, null, null, null, why);
    }

    static RunSpec taskSpec(byte[] pickle, int buffers) {
        return new RunSpec(null, null, null, null, null, pickle, buffers);
    }
}
