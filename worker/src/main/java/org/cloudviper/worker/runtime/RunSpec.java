package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.message.SchedulerToWorker;

import java.util.List;
import java.util.Map;

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

    /** The task of a compute-task, copied out of the message (which is released after it is handled). */
    static RunSpec of(SchedulerToWorker.ComputeTask c) {
        if (c.actor()) {
            return refused("cloudviper Java worker does not host actors");
        }
        Object spec = c.spec().runSpec();
        if (c.spec().function() instanceof byte[] f) {
            return new RunSpec(f, c.spec().args() instanceof byte[] a ? a : null,
                    c.spec().kwargs() instanceof byte[] k ? k : null, null, null);
        }
        if (spec instanceof SubObject s && s.kind() == SubObject.Kind.PICKLED) {
            // distributed >= 2023.4: ToPickle(Task); the pickle is the sub-header's "pickled-obj",
            // the sub-frames are its out-of-band buffers (distributed/protocol/core.py).
            Object h = MessageCodec.decodeValue(s.header());
            if (!(h instanceof Map<?, ?> hm) || !(hm.get("pickled-obj") instanceof byte[] pickle)) {
                return refused("cloudviper Java worker cannot read this task (pickled run_spec without pickled-obj)");
            }
            return taskSpec(pickle, s.frames().size());
        }
        if (spec instanceof SubObject s) {
            Object h = MessageCodec.decodeValue(s.header());
            if (!(h instanceof Map<?, ?> hm) || !"pickle".equals(hm.get("serializer")) || s.frames().size() != 1
                    || hm.get("compression") instanceof List<?> codecs && codecs.stream().anyMatch(x -> x != null)) {
                return refused("cloudviper Java worker cannot read this task (run_spec " + h + ")");
            }
            ByteBuf f = s.frames().get(0);
            byte[] b = new byte[f.readableBytes()];
            f.getBytes(f.readerIndex(), b);
            return new RunSpec(null, null, null, b, null);
        }
        return refused("compute-task without function or run_spec");
    }
}
