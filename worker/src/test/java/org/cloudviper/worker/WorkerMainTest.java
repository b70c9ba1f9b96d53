package org.cloudviper.worker;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line, option by option, as {@code dask worker} spells it. */
class WorkerMainTest {
    static final long GB = 1_000_000_000L;

    @Test
    void optionsOfDaskWorker() throws Exception {
        WorkerConfig c = WorkerMain.parse(new String[]{"tcp://10.0.0.1:8786", "--nthreads", "3", "--memory-limit",
                "2GiB", "--name", "w1", "--resources", "GPU=2 java=4", "--local-directory", "/tmp/cv",
                "--host", "127.0.0.1", "--listen-port", "0", "--no-nanny", "--dashboard-address", ":0"}, 8 * GB);
        assertEquals("tcp://10.0.0.1:8786", c.scheduler());
        assertEquals(3, c.nthreads());
        assertEquals(2L << 30, c.memoryLimit());
        assertEquals("w1", c.name());
        assertEquals(Map.of("GPU", 2.0, "java", 4.0), c.effectiveResources());
        assertEquals(Path.of("/tmp/cv"), c.localDirectory());
        assertEquals("127.0.0.1", c.host());
        assertEquals(0, c.port());
    }

    @Test
    void javaResourceDefaultsToThreads() throws Exception {
        WorkerConfig c = WorkerMain.parse(new String[]{"10.0.0.1:8786", "--nthreads=2", "--resources", "GPU=1,FPGA=2"},
                8 * GB);
        assertEquals("tcp://10.0.0.1:8786", c.scheduler());
        assertEquals(Map.of("GPU", 1.0, "FPGA", 2.0, "java", 2.0), c.effectiveResources());
    }

    @Test
    void memoryLimits() {
        assertEquals(4 * GB, WorkerMain.parseMemoryLimit("4GB", 1, 8 * GB));
        assertEquals(4L << 30, WorkerMain.parseMemoryLimit("4 GiB", 1, 8 * GB));
        assertEquals(4 * GB, WorkerMain.parseMemoryLimit("0.5", 1, 8 * GB));
        assertEquals(0, WorkerMain.parseMemoryLimit("0", 1, 8 * GB));
        assertEquals(8 * GB, WorkerMain.parseMemoryLimit("1", 1, 8 * GB), "a plain 1 is all of it, as in Dask");
        assertEquals(500_000_000L, WorkerMain.parseMemoryLimit("500MB", 1, 8 * GB));
        assertEquals(2L << 30, WorkerMain.parseMemoryLimit("2GiB", 1, 8 * GB));
        assertEquals(8 * GB, WorkerMain.parseMemoryLimit("16GB", 1, 8 * GB), "capped at system memory");
        assertEquals(2_000_000_000L, WorkerMain.parseMemoryLimit("2e9", 1, 8 * GB));
        assertTrue(WorkerMain.parseMemoryLimit("auto", 1, 8 * GB) > 0);
        assertThrows(IllegalArgumentException.class, () -> WorkerMain.parseMemoryLimit("lots", 1, 8 * GB));
    }

    @Test
    void schedulerFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("scheduler.json");
        Files.writeString(f, "{\"type\": \"Scheduler\", \"id\": \"Scheduler-1\", \"address\": \"tcp://127.0.0.1:4321\","
                + " \"services\": {}}");
        assertEquals("tcp://127.0.0.1:4321", WorkerMain.parse(new String[]{"--scheduler-file", f.toString()}, GB)
                .scheduler());
    }

    @Test
    void mistakesAreReported() throws Exception {
        assertNull(WorkerMain.parse(new String[]{"--help"}, GB));
        assertThrows(IllegalArgumentException.class, () -> WorkerMain.parse(new String[]{}, GB));
        assertThrows(IllegalArgumentException.class, () -> WorkerMain.parse(new String[]{"tcp://a:1", "--bogus", "1"}, GB));
        assertThrows(IllegalArgumentException.class, () -> WorkerMain.parse(new String[]{"tcp://a:1", "--nthreads"}, GB));
        assertThrows(IllegalArgumentException.class, () -> WorkerMain.parse(new String[]{"tcp://a:1", "--nthreads", "x"}, GB));
        assertThrows(IllegalArgumentException.class, () -> WorkerMain.parse(new String[]{"tls://a:1"}, GB));
        assertThrows(IllegalArgumentException.class,
                () -> WorkerMain.parse(new String[]{"tcp://a:1", "--resources", "GPU"}, GB));
    }
}
