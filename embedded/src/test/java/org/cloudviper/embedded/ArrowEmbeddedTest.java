package org.cloudviper.embedded;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.cloudviper.worker.tasks.ArrowTable;
import org.cloudviper.worker.tasks.TaskRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Arrow tables between Java tasks on two Java workers, and typed to the embedded Java client. */
@Timeout(120)
class ArrowEmbeddedTest {

    @AfterEach
    void noArrowMemoryLeft() {
        assertEquals(0, ArrowTable.allocatedBytes(), "Arrow memory still allocated after the test");
    }

    @Test
    void tablesFlowBetweenJavaTasksAndToTheJavaClient() throws Exception {
        List<ArrowTable> results = new ArrayList<>();
        try (JavaCluster cluster = JavaCluster.start(2, TaskRegistry.withBuiltins());
             JavaClient client = cluster.client()) {
            for (long n : new long[]{0, 1, 1000}) {
                JavaClient.Task range = client.task("cloudviper.tasks.arrow_range", n);
                JavaClient.Task scaled = client.task("cloudviper.tasks.arrow_scale", range, "x", 4.0);
                results.add(client.compute(scaled, ArrowTable.class));
            }
        }
        for (int k = 0; k < 3; k++) {
            ArrowTable t = results.get(k);
            int n = new int[]{0, 1, 1000}[k];
            assertEquals(ArrowTable.Kind.TABLE, t.kind());
            assertEquals(n, t.numRows());
            double sum = 0;
            try (BufferAllocator a = ArrowTable.newAllocator("test"); ArrowStreamReader r = t.reader(a)) {
                VectorSchemaRoot root = r.getVectorSchemaRoot();
                int row = 0;
                while (r.loadNextBatch()) {
                    Float8Vector x = (Float8Vector) root.getVector("x");
                    for (int i = 0; i < root.getRowCount(); i++, row++) {
                        assertEquals(row * 2.0, x.get(i));
                        sum += x.get(i);
                    }
                }
            }
            assertEquals((double) ((long) n * (n - 1)), sum); // sum of 2i for i < n
        }
    }
}
