package org.cloudviper.scheduler.interop;

import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.testkit.Peer;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.PythonScheduler;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * The scheduler an interop test runs against: ours, in-process, or the stock {@code dask scheduler}
 * of the run's generation as a reference, chosen with {@code -Dinterop.scheduler=cloudviper|python}
 * (default cloudviper). Running the suite against the reference proves the tests themselves right,
 * independently of the state of cloudviper. Stopped by the test's {@link PythonPeers}.
 */
sealed interface InteropScheduler {

    /** The system property that selects the implementation. */
    String PROPERTY = "interop.scheduler";

    enum Kind {
        CLOUDVIPER, PYTHON;

        static Kind selected() {
            String value = System.getProperty(PROPERTY, "cloudviper").trim().toLowerCase(Locale.ROOT);
            return switch (value) {
                case "", "cloudviper" -> CLOUDVIPER;
                case "python", "dask" -> PYTHON;
                default -> throw new IllegalArgumentException(
                        PROPERTY + ": " + value + " (expected: cloudviper or python)");
            };
        }
    }

    /** The selected scheduler on 127.0.0.1, port 0. */
    static InteropScheduler start(PythonPeers peers) throws IOException, InterruptedException {
        return start(peers, SchedulerConfig.defaults().withHost("127.0.0.1").withPort(0));
    }

    /**
     * The selected scheduler; {@code config} applies to cloudviper only (the reference scheduler
     * always runs with Dask's defaults on 127.0.0.1, port 0).
     */
    static InteropScheduler start(PythonPeers peers, SchedulerConfig config) throws IOException, InterruptedException {
        Kind kind = Kind.selected();
        peers.note("scheduler under test: " + kind.name().toLowerCase(Locale.ROOT) + " (-D" + PROPERTY + ")");
        if (kind == Kind.CLOUDVIPER) {
            return new Cloudviper(peers.inProcessScheduler(Scheduler.start(config)));
        }
        return new Python(peers.startScheduler());
    }

    Kind kind();

    /** {@code tcp://127.0.0.1:PORT}, as Dask peers spell it. */
    String address();

    int port();

    /** Workers the scheduler has registered, if it can be asked from Java (cloudviper only). */
    OptionalInt workerCount();

    default boolean isCloudviper() {
        return kind() == Kind.CLOUDVIPER;
    }

    /**
     * Starts {@code count} stock workers (see {@link PythonPeers#startWorkers}) and, for cloudviper,
     * waits until the scheduler counts at least as many workers as the fixture has running.
     */
    default List<Peer> startWorkers(PythonPeers peers, int count, int nthreads, boolean nanny)
            throws IOException, InterruptedException {
        List<Peer> started = peers.startWorkers(address(), count, nthreads, nanny);
        if (workerCount().isEmpty()) {
            return started;
        }
        long expected = peers.runningWorkers();
        long deadline = System.nanoTime() + PythonPeers.READY_TIMEOUT.toNanos();
        while (workerCount().orElseThrow() < expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the scheduler counts " + workerCount().orElseThrow() + " workers after "
                        + PythonPeers.READY_TIMEOUT.toSeconds() + " s (expected: >= " + expected + ")");
            }
            Thread.sleep(50);
        }
        return started;
    }

    /** Ours, in this JVM: its log lines go to the surefire output of the test class. */
    record Cloudviper(Scheduler scheduler) implements InteropScheduler {
        @Override
        public Kind kind() {
            return Kind.CLOUDVIPER;
        }

        @Override
        public String address() {
            return scheduler.address();
        }

        @Override
        public int port() {
            return scheduler.port();
        }

        @Override
        public OptionalInt workerCount() {
            return OptionalInt.of(scheduler.workerCount());
        }
    }

    /** {@code python3 -m distributed.cli.dask_scheduler} of the run's generation. */
    record Python(PythonScheduler process) implements InteropScheduler {
        @Override
        public Kind kind() {
            return Kind.PYTHON;
        }

        @Override
        public String address() {
            return process.address();
        }

        @Override
        public int port() {
            return process.port();
        }

        @Override
        public OptionalInt workerCount() {
            return OptionalInt.empty();
        }
    }
}
