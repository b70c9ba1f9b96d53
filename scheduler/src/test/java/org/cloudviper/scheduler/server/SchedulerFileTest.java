package org.cloudviper.scheduler.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SchedulerFileTest {
    @Test
    void writesWhatDasksSchedulerWrites(@TempDir Path dir) throws Exception {
        Map<String, Object> identity = new LinkedHashMap<>();
        identity.put("type", "Scheduler");
        identity.put("id", "Scheduler-\"1\"\\");
        identity.put("address", "tcp://127.0.0.1:8786");
        identity.put("services", Map.of());
        identity.put("started", 1.5);
        identity.put("workers", Map.of());
        Path file = dir.resolve("scheduler.json");
        SchedulerFile.write(file, identity);
        // what Python's json.dump(identity, f, indent=2) writes for the same dict
        assertEquals("""
                {
                  "type": "Scheduler",
                  "id": "Scheduler-\\"1\\"\\\\",
                  "address": "tcp://127.0.0.1:8786",
                  "services": {},
                  "started": 1.5,
                  "workers": {}
                }""", Files.readString(file, StandardCharsets.UTF_8));
    }
}
