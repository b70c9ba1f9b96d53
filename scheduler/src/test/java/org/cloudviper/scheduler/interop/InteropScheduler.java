package org.cloudviper.scheduler.interop;

import org.cloudviper.scheduler.Scheduler;

import java.util.Locale;
import java.util.OptionalInt;

/**
 * The scheduler an interop test runs against: ours, in-process, or the stock {@code dask scheduler}
 * as a reference, chosen with {@code -Dinterop.scheduler=cloudviper|python} (default cloudviper).
 * Running the suite against the reference proves the tests themselves right, independently of the
 * state of cloudviper. Started and stopped by {@link PythonPeers#startScheduler}.
 */
sealed interface InteropScheduler extends AutoCloseable {

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

    Kind kind();

    /** {@code tcp://127.0.0.1:PORT}, as Dask peers spell it. */
    String address();

    int port();

    /** Workers the scheduler has registered, if it can be asked from Java (cloudviper only). */
    OptionalInt workerCount();

    @Override
    void close();

    default boolean isCloudviper() {
        return kind() == Kind.CLOUDVIPER;
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

        @Override
        public void close() {
            scheduler.close();
        }
    }

    /** {@code python3 -m distributed.cli.dask_scheduler}; its process is owned by {@link PythonPeers}. */
    record Python(PythonPeers.Peer process, String address) implements InteropScheduler {
        @Override
        public Kind kind() {
            return Kind.PYTHON;
        }

        @Override
        public int port() {
            return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        }

        @Override
        public OptionalInt workerCount() {
            return OptionalInt.empty();
        }

        @Override
        public void close() {
            process.stop();
        }
    }
}
