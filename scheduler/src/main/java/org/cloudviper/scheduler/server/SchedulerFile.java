package org.cloudviper.scheduler.server;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The file {@code --scheduler-file} names: the scheduler's identity as JSON, which {@code dask worker
 * --scheduler-file} and {@code Client(scheduler_file=...)} read its address from. Laid out as Dask's
 * scheduler writes it ({@code json.dump(self.identity(), f, indent=2)} in distributed/scheduler.py).
 */
final class SchedulerFile {
    private static final DefaultIndenter PYTHON_INDENT = new DefaultIndenter("  ", "\n");
    private static final ObjectWriter WRITER = new ObjectMapper().writer(new DefaultPrettyPrinter(
            Separators.createDefaultInstance()
                    .withObjectFieldValueSpacing(Separators.Spacing.AFTER)
                    .withObjectEmptySeparator("")
                    .withArrayEmptySeparator(""))
            .withObjectIndenter(PYTHON_INDENT)
            .withArrayIndenter(PYTHON_INDENT));

    private SchedulerFile() {
    }

    static void write(Path file, Map<String, Object> identity) throws IOException {
        WRITER.writeValue(file.toFile(), identity);
    }
}
