package org.cloudviper.worker.runtime;

/**
 * What compute-task says to run, kept as the client's pickles until a compute thread reads them.
 * Either {@code function}/{@code args}/{@code kwargs} (2022's flattened form), or {@code task}: the
 * pickle of a whole legacy task tuple (2022's {@code run_spec}), or a {@code refusal} saying why this
 * worker cannot run it (it then errs when executed, so the client sees the reason).
 */
record RunSpec(byte[] function, byte[] args, byte[] kwargs, byte[] task, String refusal) {
    static RunSpec refused(String why) {
        return new RunSpec(null, null, null, null, why);
    }
}
