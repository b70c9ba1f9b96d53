package org.cloudviper.worker.runtime;

import org.cloudviper.worker.Worker;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.testing.StubScheduler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Java worker facing a scheduler of a distributed release outside every line cloudviper speaks
 * does not register (it would speak some other line's messages to it): starting it fails with a
 * message naming the scheduler's version and the supported ones, after the versions call alone.
 */
class SchedulerVersionTest {

    @ParameterizedTest
    @ValueSource(strings = {"2021.1.1", "2027.1.0", "2023.1.1"})
    void refusesToRegisterWithAnUnsupportedScheduler(String version) throws Exception {
        try (StubScheduler scheduler = StubScheduler.start(version)) {
            IOException e = assertThrows(IOException.class, () -> Worker.start(
                    WorkerConfig.defaults(scheduler.address()).withNthreads(1).withMemoryLimit(1L << 30)).close());
            String message = String.valueOf(e.getMessage()) + " " + e.getCause();
            assertTrue(message.contains("the scheduler at " + scheduler.address() + " runs distributed " + version
                    + ", which cloudviper does not speak: it speaks distributed 2022.11.0 to 2022.12.1"), message);
            assertEquals(List.of("versions"), scheduler.ops(), "no register-worker was sent");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"2022.12.1", "2024.1.1", "2024.12.1"})
    void registersWithASupportedOne(String version) throws Exception {
        try (StubScheduler scheduler = StubScheduler.start(version);
             Worker w = Worker.start(WorkerConfig.defaults(scheduler.address()).withNthreads(1)
                     .withMemoryLimit(1L << 30))) {
            assertTrue(scheduler.ops().contains("register-worker"), scheduler.ops().toString());
        }
    }
}
