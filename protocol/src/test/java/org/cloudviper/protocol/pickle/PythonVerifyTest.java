package org.cloudviper.protocol.pickle;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interop: the real Dask 2024.12.1 unpickler (trixie root) loads every slice, with its renumbered
 * out-of-band buffers, into the node Python's own scheduler holds for that key
 * ({@code verify_slices.py}: same keys, same dependencies, structurally equal nodes, equal results
 * when both graphs are executed). Skipped without the trixie root or with -Dinterop.skip=true.
 */
class PythonVerifyTest {
    private static final Pattern SUMMARY =
            Pattern.compile("SUMMARY cases=(\\d+) tasks=(\\d+) executed=(\\d+) failures=(\\d+)");

    @Test
    void everyCorpusSliceUnpicklesToPythonsNode() throws Exception {
        try (Trixie t = Trixie.open()) {
            String verify = t.resource("verify_slices.py");
            Path cases = t.work.resolve("cases");
            int expectedCases = 0;
            int expectedTasks = 0;
            for (Corpus.Case c : Corpus.cases()) {
                if (c.expectError() != null) {
                    continue;
                }
                Path d = cases.resolve(c.name());
                Trixie.copyTree(c.dir(), d);
                SlicedGraph g = new GraphSlicer().slice(c.graph(), c.buffers());
                writeSlices(d, g, 1);
                expectedCases++;
                expectedTasks += g.tasks().size();
            }
            Trixie.Result r = t.python(List.of(verify, t.inside + "/cases"), 600);
            System.out.println(r.output());
            assertEquals(0, r.exit(), r.output());
            Matcher m = SUMMARY.matcher(r.output());
            assertTrue(m.find(), r.output());
            assertEquals(expectedCases, Integer.parseInt(m.group(1)), r.output());
            assertEquals(expectedTasks, Integer.parseInt(m.group(2)), r.output());
            assertEquals(0, Integer.parseInt(m.group(4)), r.output());

            // Negative control: the checker does notice a wrong slice (two keys' slices swapped).
            Corpus.Case c = Corpus.get("map3");
            Path d = t.work.resolve("controls").resolve(c.name());
            Trixie.copyTree(c.dir(), d);
            SlicedGraph g = new GraphSlicer().slice(c.graph(), 0);
            List<TaskSlice> swapped = new ArrayList<>(g.tasks());
            TaskSlice a = swapped.get(0);
            TaskSlice b = swapped.get(1);
            swapped.set(0, new TaskSlice(a.key(), a.dependencies(), b.runSpec(), b.bufferFrames(), a.kind(), a.layer()));
            swapped.set(1, new TaskSlice(b.key(), b.dependencies(), a.runSpec(), a.bufferFrames(), b.kind(), b.layer()));
            writeSlices(d, new SlicedGraph(swapped, g.layers(), g.buffersUsed()), 1);
            Trixie.Result bad = t.python(List.of(verify, t.inside + "/controls"), 300);
            assertEquals(1, bad.exit(), bad.output());
            assertTrue(bad.output().contains("FAIL map3"), bad.output());
        }
    }

    /**
     * 100,000-task graphs from a real client (client.map; Task nodes with Alias dependencies; legacy
     * tuple tasks) are cut whole, and Python agrees on every key and dependency and on a sample of the
     * slices. {@code -Dpickle.large=N} changes the size. How fast they are cut is measured by the JMH
     * {@code SlicerBenchmark} (docs/benchmarks.md), not here.
     */
    @Test
    void largeGraphsSliceAsPythonWould() throws Exception {
        int n = Integer.getInteger("pickle.large", 100_000);
        try (Trixie t = Trixie.open()) {
            String gen = t.resource("make_corpus.py");
            String verify = t.resource("verify_slices.py");
            Trixie.Result made = t.python(List.of(gen, t.inside + "/large", "--large", Integer.toString(n)), 900);
            assertEquals(0, made.exit(), made.output());
            // the Java-written graphs of LargeGraphSliceTest too: Python must read them as described
            writeSynthetic(t.work.resolve("large"), "synthetic_tasks", SyntheticGraphs.taskChain(n), n);
            writeSynthetic(t.work.resolve("large"), "synthetic_map", SyntheticGraphs.map(n), n);
            writeSynthetic(t.work.resolve("large"), "synthetic_legacy", SyntheticGraphs.legacyChain(n), n);
            writeSynthetic(t.work.resolve("large"), "synthetic_legacy_nested", SyntheticGraphs.legacyNested(100), 2);
            List<Corpus.Case> cases = Corpus.cases(t.work.resolve("large"));
            assertEquals(7, cases.size(), made.output());
            for (Corpus.Case c : cases) {
                byte[] graph = c.graph();
                SlicedGraph g = new GraphSlicer().slice(graph, 0);
                assertEquals(c.taskCount(), g.tasks().size(), c.name());
                writeSlices(c.dir(), g, Math.max(1, n / 200));
            }
            Trixie.Result r = t.python(List.of(verify, t.inside + "/large"), 900);
            System.out.println(r.output());
            assertEquals(0, r.exit(), r.output());
        }
    }

    static void writeSynthetic(Path root, String name, byte[] graph, int tasks) throws IOException {
        Path d = root.resolve(name);
        Files.createDirectories(d);
        Files.write(d.resolve("graph.pkl"), graph);
        Files.writeString(d.resolve("meta.json"), "{\"name\": \"" + name + "\", \"buffers\": 0, \"writeable\": [],"
                + " \"keys\": [], \"layers\": [], \"tasks\": [], \"task_count\": " + tasks + ", \"expect_error\": null}\n");
    }

    /** manifest.pkl + slices/ as verify_slices.py reads them; every {@code every}-th slice is written. */
    static void writeSlices(Path dir, SlicedGraph g, int every) throws IOException {
        Path slices = dir.resolve("slices");
        Files.createDirectories(slices);
        List<Object> manifest = new ArrayList<>();
        for (int i = 0; i < g.tasks().size(); i++) {
            TaskSlice s = g.tasks().get(i);
            String file = null;
            if (i % every == 0 || i == g.tasks().size() - 1) {
                file = "slices/" + i + ".pkl";
                Files.write(dir.resolve(file), s.runSpec());
            }
            List<Object> frames = new ArrayList<>();
            Arrays.stream(s.bufferFrames()).forEach(f -> frames.add((long) f));
            manifest.add(Arrays.asList(s.key(), s.dependencies(), frames, s.kind().name(), file));
        }
        Files.write(dir.resolve("manifest.pkl"), PickleWriter.dumps(PickleWriter.pyList(manifest)));
    }
}
