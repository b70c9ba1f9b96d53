package org.cloudviper.cube;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;

import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.cloudviper.cube.synth.Source;
import org.cloudviper.cube.synth.SyntheticDataset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Chunks written in Java, in each compression, read by pyarrow (src/test/python/read_chunks.py) as Java reads them. */
class JavaChunksInPyarrowTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Compression.class)
    void pyarrowReadsWhatJavaWrote(Compression compression) throws Exception {
        PyarrowPython.require();
        SyntheticDataset synth = SyntheticDataset.builder().track(6, 60, 0).channels(5, 90e9, 1e8)
                .source(Source.point(1, 1e-5, 2e-5)).noiseJy(0.1).flagFraction(0.1).flaggedAntenna(0)
                .chunking(4, 3, 1000).compression(compression).build();
        try (BufferAllocator root = new RootAllocator(); ObjectStore store = ObjectStore.open(dir.toString(),
                StoreOptions.defaults())) {
            synth.write(store, root);
        }
        JsonNode py = new ObjectMapper().readTree(PyarrowPython.run("read_chunks.py", dir.toString()));
        try (BufferAllocator root = new RootAllocator(); Dataset ds = Dataset.open(dir.toString(), StoreOptions.defaults())) {
            assertEquals(List.of("t000_c0000.arrows", "t000_c0003.arrows", "t001_c0000.arrows", "t001_c0003.arrows"),
                    ds.info().chunks());
            for (String name : ds.info().chunks()) {
                JsonNode p = py.get(name);
                double uSum = 0;
                double reSum = 0;
                double imSum = 0;
                double weightSum = 0;
                long flags = 0;
                try (ChunkReader chunk = ds.chunk(name, root)) {
                    while (chunk.next()) {
                        VectorSchemaRoot b = chunk.batch();
                        Float8Vector u = (Float8Vector) b.getVector("u");
                        Float4Vector vis = (Float4Vector) ((FixedSizeListVector) b.getVector("vis")).getDataVector();
                        Float4Vector wt = (Float4Vector) ((FixedSizeListVector) b.getVector("weight")).getDataVector();
                        BitVector flag = (BitVector) ((FixedSizeListVector) b.getVector("flag")).getDataVector();
                        for (int r = 0; r < b.getRowCount(); r++) {
                            uSum += u.get(r);
                        }
                        for (int i = 0; i < vis.getValueCount(); i += 2) {
                            reSum += vis.get(i);
                            imSum += vis.get(i + 1);
                        }
                        for (int i = 0; i < wt.getValueCount(); i++) {
                            weightSum += wt.get(i);
                        }
                        for (int i = 0; i < flag.getValueCount(); i++) {
                            flags += flag.get(i);
                        }
                    }
                    assertEquals(chunk.rows(), p.get("rows").asLong(), name);
                    assertEquals(chunk.batches(), p.get("batches").asLong(), name);
                    assertEquals(chunk.chanStart(), p.get("chan_start").asInt(), name);
                }
                assertEquals("XX,YY", p.get("pols").asText());
                // the six columns as pyarrow sees them (the writer declares them not null)
                int nch = name.endsWith("c0003.arrows") ? 2 : 3;
                assertEquals("[\"double\",\"double\",\"double\",\"fixed_size_list<item: float not null>[" + nch * 4
                        + "]\",\"fixed_size_list<item: float not null>[2]\",\"fixed_size_list<item: bool not null>["
                        + nch * 2 + "]\"]", p.get("types").toString(), name);
                assertEquals(uSum, p.get("u_sum").asDouble(), 1e-9 * Math.abs(uSum) + 1e-9, name);
                assertEquals(reSum, p.get("vis_re_sum").asDouble(), 1e-6 * Math.abs(reSum) + 1e-6, name);
                assertEquals(imSum, p.get("vis_im_sum").asDouble(), 1e-6 * Math.abs(imSum) + 1e-6, name);
                assertEquals(weightSum, p.get("weight_sum").asDouble(), 1e-9 * weightSum, name);
                assertEquals(flags, p.get("flags").asLong(), name);
            }
            assertEquals(0, root.getAllocatedMemory());
        }
    }
}
