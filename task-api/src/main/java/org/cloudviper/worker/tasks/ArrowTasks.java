package org.cloudviper.worker.tasks;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The built-in tasks on pyarrow Tables ({@link ArrowTable}): each takes its Arrow memory from an
 * allocator of its own, closed before it returns, so a task leaves no off-heap buffer behind.
 */
final class ArrowTasks {
    private ArrowTasks() {
    }

    /**
     * {@code arrow_range(n)}: a Table of n rows, columns {@code id} (int64, 0 .. n-1), {@code x}
     * (float64, id / 2) and {@code name} (string, "row" + id), in one batch.
     */
    static Object range(List<Object> args, Map<String, Object> kwargs) throws Exception {
        Object n = BuiltinTasks.single("arrow_range", "n", args, kwargs);
        if (!(n instanceof Long count) || count < 0 || count > Integer.MAX_VALUE / 16) {
            throw new IllegalArgumentException("arrow_range: n must be an int in 0 .. " + Integer.MAX_VALUE / 16
                    + ", got " + BuiltinTasks.describe(n));
        }
        int rows = count.intValue();
        try (BufferAllocator a = ArrowTable.newAllocator("arrow_range");
             BigIntVector id = new BigIntVector("id", a);
             Float8Vector x = new Float8Vector("x", a);
             VarCharVector name = new VarCharVector("name", a)) {
            id.allocateNew(rows);
            x.allocateNew(rows);
            name.allocateNew(rows);
            for (int i = 0; i < rows; i++) {
                id.set(i, i);
                x.set(i, i / 2.0);
                name.setSafe(i, ("row" + i).getBytes(StandardCharsets.UTF_8));
            }
            List<FieldVector> columns = List.of(id, x, name);
            for (FieldVector v : columns) {
                v.setValueCount(rows);
            }
            try (VectorSchemaRoot root = new VectorSchemaRoot(new ArrayList<>(columns))) {
                return ArrowTable.of(root);
            }
        }
    }

    /**
     * {@code arrow_scale(table, column, factor)}: the same Table (or RecordBatch) with the float64
     * or float32 column {@code column} multiplied by {@code factor} (nulls stay null; a float32
     * column stays float32: each value times {@code (float) factor}); every other column unchanged.
     */
    static Object scale(List<Object> args, Map<String, Object> kwargs) throws Exception {
        List<Object> all = BuiltinTasks.bind("arrow_scale", List.of("table", "column", "factor"), args, kwargs);
        if (!(all.get(0) instanceof ArrowTable table)) {
            throw new IllegalArgumentException("arrow_scale: table must be a pyarrow Table or RecordBatch, got "
                    + BuiltinTasks.describe(all.get(0)));
        }
        if (!(all.get(1) instanceof String column)) {
            throw new IllegalArgumentException("arrow_scale: column must be a str, got "
                    + BuiltinTasks.describe(all.get(1)));
        }
        if (!(all.get(2) instanceof Double || all.get(2) instanceof Long)) {
            throw new IllegalArgumentException("arrow_scale: factor must be a float or int, got "
                    + BuiltinTasks.describe(all.get(2)));
        }
        double factor = ((Number) all.get(2)).doubleValue();
        if (table.schema().getFields().stream().noneMatch(f -> f.getName().equals(column))) {
            throw new IllegalArgumentException("arrow_scale: no column '" + column + "' in " + table.schema());
        }
        // The reader's vectors are this task's own copies: scale them in place and write them out.
        try (BufferAllocator a = ArrowTable.newAllocator("arrow_scale");
             ArrowStreamReader r = table.reader(a)) {
            VectorSchemaRoot root = r.getVectorSchemaRoot();
            FieldVector v = root.getVector(column);
            if (!(v instanceof Float8Vector) && !(v instanceof Float4Vector)) {
                throw new IllegalArgumentException("arrow_scale: column '" + column + "' is "
                        + v.getField().getType() + ", not float64 or float32");
            }
            try (ArrowTable.Writer w = ArrowTable.writer(table.kind(), root, r)) {
                while (r.loadNextBatch()) {
                    FieldVector col = root.getVector(column);
                    int n = root.getRowCount();
                    if (col instanceof Float8Vector f8) {
                        for (int i = 0; i < n; i++) {
                            if (!f8.isNull(i)) {
                                f8.set(i, f8.get(i) * factor);
                            }
                        }
                    } else {
                        Float4Vector f4 = (Float4Vector) col;
                        for (int i = 0; i < n; i++) {
                            if (!f4.isNull(i)) {
                                f4.set(i, (float) (f4.get(i) * (double) (float) factor));
                            }
                        }
                    }
                    w.writeBatch();
                }
                return w.finish();
            }
        }
    }
}
