package org.cloudviper.bench.fleet;

import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.SchedulerRequest;
import org.cloudviper.protocol.message.StartStop;
import org.cloudviper.protocol.message.WorkerToScheduler;
import org.cloudviper.protocol.netty.FrameDecoder;
import org.cloudviper.testkit.Captures;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a real Python worker of one generation sends, taken from the wire captures of that generation
 * ({@code testkit/src/main/resources/captures}): its register-worker (versions, metrics, extra),
 * its heartbeat_worker (metrics, extensions) and its task-finished (the pickled {@code int} type,
 * nbytes, typename). A fake worker sends these records with its own address, name, clock and keys,
 * so the scheduler sees the fields, values and sizes a real worker of that generation sends.
 */
final class WorkerTemplate {
    final Generation generation;
    private final SchedulerRequest.RegisterWorker register;
    private final SchedulerRequest.HeartbeatWorker heartbeat;
    private final WorkerToScheduler.TaskFinished finished;

    private WorkerTemplate(Generation generation, SchedulerRequest.RegisterWorker register,
                           SchedulerRequest.HeartbeatWorker heartbeat, WorkerToScheduler.TaskFinished finished) {
        this.generation = generation;
        this.register = register;
        this.heartbeat = heartbeat;
        this.finished = finished;
    }

    /** The template of {@code generation}, decoded from its captures with the protocol's records. */
    static WorkerTemplate of(Generation generation) {
        String folder = generation == Generation.DASK_2024 ? Captures.DASK_2024 : Captures.DASK_2022;
        Map<?, ?> reg = (Map<?, ?>) decode(folder, "worker-to-scheduler.register-worker.bin");
        Map<?, ?> hb = (Map<?, ?>) decode(folder, "worker-to-scheduler.heartbeat_worker.bin");
        Object tf = decode(folder, "worker-to-scheduler.task-finished.bin");
        Map<?, ?> first = (Map<?, ?>) (tf instanceof List<?> l ? l.get(0) : tf);
        return new WorkerTemplate(generation,
                (SchedulerRequest.RegisterWorker) SchedulerRequest.decode(reg, generation),
                (SchedulerRequest.HeartbeatWorker) SchedulerRequest.decode(hb, generation),
                (WorkerToScheduler.TaskFinished) WorkerToScheduler.decode(first, generation));
    }

    private static Object decode(String folder, String name) {
        Frames f = FrameDecoder.tryRead(Unpooled.wrappedBuffer(Captures.raw(folder, name)), FrameLimits.DEFAULT);
        if (f == null) {
            throw new IllegalStateException(name + " is not one whole message");
        }
        Object[] plain = new Object[1];
        MessageCodec.withDecoded(f, m -> plain[0] = Fields.plain(m));
        return plain[0];
    }

    /**
     * register-worker as {@code address} with {@code nthreads}: the captured worker's versions,
     * metrics and extra; no services (a fake worker serves no dashboard).
     */
    SchedulerRequest.RegisterWorker register(String address, String name, int nthreads, long pid, String serverId,
                                             double now) {
        SchedulerRequest.RegisterWorker r = register;
        return new SchedulerRequest.RegisterWorker(address, name, nthreads, r.memoryLimit(), Map.of(),
                "/tmp/dask-worker-space/" + name, Map.of(), null, pid, r.versions(), metrics(r.metrics(), now),
                r.extra(), "worker-connect-" + now, serverId, now);
    }

    /** heartbeat_worker with the captured metrics and extensions at {@code now}. */
    SchedulerRequest.HeartbeatWorker heartbeat(String address, double now) {
        return new SchedulerRequest.HeartbeatWorker(address, now, metrics(heartbeat.metrics(), now), Map.of(),
                heartbeat.extensions());
    }

    /** task-finished for {@code key}, computed from {@code start} to {@code stop} on {@code thread}. */
    WorkerToScheduler.TaskFinished finished(Object key, long runId, long thread, double start, double stop) {
        WorkerToScheduler.TaskFinished t = finished;
        return new WorkerToScheduler.TaskFinished(key, t.nbytes(), t.type(), t.typename(), Map.of(), thread,
                List.of(new StartStop("compute", start, stop)), runId, "task-finished-" + stop);
    }

    private static Map<Object, Object> metrics(Map<?, ?> captured, double now) {
        Map<Object, Object> m = new LinkedHashMap<>(captured);
        m.put("time", now);
        return m;
    }
}
