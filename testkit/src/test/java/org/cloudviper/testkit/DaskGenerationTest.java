package org.cloudviper.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where the 2024.1.1 referee is missing, its interop runs are skipped with a reason that says so and how to build it. */
class DaskGenerationTest {

    @Test
    void aMissingRefereeIsNamedWithTheScriptThatBuildsIt(@TempDir Path dir) {
        Path missing = dir.resolve("dask-2024.1").resolve("bin").resolve("python");
        String before = System.setProperty(DaskGeneration.DASK_2024_1_PYTHON_PROPERTY, missing.toString());
        try {
            assertEquals(List.of(missing.toString()), DaskGeneration.DASK_2024_1.python(false));
            assertEquals("the Dask 2024.1.1 referee is not built (" + missing + " is missing): scripts/dask-2024.1.sh"
                    + " ensure builds it from git repositories of dask and distributed (DASK_GIT_DIR,"
                    + " DISTRIBUTED_GIT_DIR), which this machine may not have",
                    DaskGeneration.DASK_2024_1.unavailableReason(false));
        } finally {
            if (before == null) {
                System.clearProperty(DaskGeneration.DASK_2024_1_PYTHON_PROPERTY);
            } else {
                System.setProperty(DaskGeneration.DASK_2024_1_PYTHON_PROPERTY, before);
            }
        }
    }

    @Test
    void theRefereeRunsOnlyWhereATestAsksForItUnlessNamed() {
        String before = System.getProperty(DaskGeneration.PROPERTY);
        try {
            System.clearProperty(DaskGeneration.PROPERTY);
            assertTrue(DaskGeneration.DASK_2024_1.optIn());
            assertFalse(DaskGeneration.DASK_2024_1.explicitlySelected());
            System.setProperty(DaskGeneration.PROPERTY, "2024.1");
            assertEquals(List.of(DaskGeneration.DASK_2024_1), DaskGeneration.selected());
            assertTrue(DaskGeneration.DASK_2024_1.explicitlySelected());
            System.setProperty(DaskGeneration.PROPERTY, "2024.1.1");
            assertEquals(List.of(DaskGeneration.DASK_2024_1), DaskGeneration.selected());
        } finally {
            if (before == null) {
                System.clearProperty(DaskGeneration.PROPERTY);
            } else {
                System.setProperty(DaskGeneration.PROPERTY, before);
            }
        }
    }
}
