package org.cloudviper.embedded;

import org.cloudviper.worker.tasks.TaskRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue #4 test 6: the README's embedded example, verbatim, and the client's error path. */
@Timeout(120)
class EmbeddedExampleTest {
    private static final Path SELF = Path.of("src/test/java/org/cloudviper/embedded/EmbeddedExampleTest.java");

    @Test
    void readmeExampleRuns() throws Exception {
        // README:begin
        TaskRegistry tasks = TaskRegistry.withBuiltins()
                .register("example.square", (args, kwargs) -> (Long) args.get(0) * (Long) args.get(0));
        double total;
        try (JavaCluster cluster = JavaCluster.start(2, tasks);
             JavaClient client = cluster.client()) {
            List<JavaClient.Task> squares = new ArrayList<>();
            for (long i = 0; i < 10; i++) {
                squares.add(client.task("example.square", i));
            }
            total = client.compute(client.task("cloudviper.tasks.sum", squares), Double.class);
        }
        // README:end
        assertEquals(285.0, total);
    }

    /** The code block after "Embedded Java use" in README.md is the block above, line for line. */
    @Test
    void readmeShowsThisExample() throws Exception {
        String readme = Files.readString(Path.of("../README.md"));
        int section = readme.indexOf("## Embedded Java use");
        assertTrue(section >= 0, "README.md has no section \"Embedded Java use\"");
        int start = readme.indexOf("```java\n", section) + "```java\n".length();
        int end = readme.indexOf("```", start);
        String src = Files.readString(SELF);
        String block = src.substring(src.indexOf("// README:begin\n") + "// README:begin\n".length(),
                src.indexOf("        // README:end"));
        assertEquals(strip(block), strip(readme.substring(start, end)));
    }

    private static String strip(String code) {
        StringBuilder b = new StringBuilder();
        for (String line : code.split("\n")) {
            if (!line.isBlank()) {
                b.append(line.strip()).append('\n');
            }
        }
        return b.toString();
    }

    @Test
    void failuresCarryTheRemoteMessageAndDependentsFail() throws Exception {
        TaskRegistry tasks = TaskRegistry.withBuiltins().register("example.boom", (args, kwargs) -> {
            throw new IllegalStateException("boom: " + args.get(0));
        });
        try (JavaCluster cluster = JavaCluster.start(1, tasks);
             JavaClient client = cluster.client()) {
            JavaClient.Task bad = client.task("example.boom", "x1");
            JavaClient.TaskFailedException e = assertThrows(JavaClient.TaskFailedException.class,
                    () -> client.compute(client.task("cloudviper.tasks.echo", bad), Object.class));
            assertTrue(e.remoteMessage().contains("boom: x1"), e.remoteMessage());
            assertTrue(e.remoteMessage().contains("IllegalStateException"), e.remoteMessage());
            // An unknown name errs on the worker, with the worker's reason.
            JavaClient.TaskFailedException u = assertThrows(JavaClient.TaskFailedException.class,
                    () -> client.compute(client.task("example.nosuch", 1L), Object.class));
            assertTrue(u.remoteMessage().contains("not a registered Java task"), u.remoteMessage());
            // The client keeps working after failures; literals and nested results come back typed.
            JavaClient.Task a = client.task("cloudviper.tasks.echo", 7L);
            List<Object> r = client.compute(List.of(client.task("cloudviper.tasks.echo",
                    List.of(a, "s", Map.of("k", a))), client.task("cloudviper.tasks.noop", a)));
            assertEquals(List.of(7L, "s", Map.of("k", 7L)), r.get(0));
            assertNull(r.get(1));
        }
    }
}
