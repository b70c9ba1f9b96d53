package org.cloudviper.worker.tasks;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Tasks of a library on the class path reach {@link TaskRegistry#withBuiltins()} through its provider. */
class TaskProviderTest {

    /** Listed in this module's test resources, META-INF/services. */
    public static final class ExampleProvider implements TaskProvider {
        @Override
        public void registerTasks(TaskRegistry registry) {
            registry.register("example_library.twice", (args, kwargs) -> 2 * (Long) args.get(0));
        }
    }

    @Test
    void installedProvidersJoinTheBuiltins() throws Exception {
        TaskRegistry r = TaskRegistry.withBuiltins();

        assertNotNull(r.lookup("cloudviper.tasks.sum"), "built-ins first");
        JavaTask twice = r.lookup("example_library.twice");
        assertNotNull(twice, "the provider's task: " + r.names());
        assertEquals(42L, twice.call(List.of(21L), Map.of()));
    }

    @Test
    void anEmptyRegistryHoldsNothing() {
        assertNull(new TaskRegistry().lookup("example_library.twice"));
    }
}
