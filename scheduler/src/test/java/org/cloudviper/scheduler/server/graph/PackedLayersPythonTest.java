package org.cloudviper.scheduler.server.graph;

import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.scheduler.state.GraphUpdate;
import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.testkit.DaskGeneration;
import org.cloudviper.testkit.PythonPeers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every captured 2022.12.1 layer, unpacked by cloudviper, gives the tasks the Python scheduler's own
 * {@code __dask_distributed_unpack__} gives: {@code verify_layers22.py} (run with the 2022.12.1
 * interpreter that has pyarrow) compares keys, dependencies and what each worker deserializes, and
 * runs both graphs. Skipped with {@code -Dinterop.skip=true}.
 */
class PackedLayersPythonTest {
    private static final Pattern SUMMARY =
            Pattern.compile("SUMMARY cases=(\\d+) tasks=(\\d+) failures=(\\d+) python_fails=(\\d+)");

    @Test
    void everyCapturedLayerUnpacksAsPythonsScheduler() throws Exception {
        Assumptions.assumeFalse(PythonPeers.skipRequested(), "-Dinterop.skip=true");
        Path work = fresh("layers22-verify");
        int expectedTasks = 0;
        List<String> names = LayerCaptures.names();
        for (String name : names) {
            expectedTasks += writeCase(work, name, false);
        }
        String out = verify(work);
        Matcher m = SUMMARY.matcher(out);
        assertTrue(m.find(), out);
        assertEquals(names.size(), Integer.parseInt(m.group(1)), out);
        assertEquals(expectedTasks, Integer.parseInt(m.group(2)), out);
        assertEquals(0, Integer.parseInt(m.group(3)), out);
        assertEquals(1, Integer.parseInt(m.group(4)), "the unoptimized map_overlap capture: " + out);

        // Negative control: the checker notices two tasks whose specs are swapped.
        Path controls = fresh("layers22-controls");
        writeCase(controls, "df_shuffle-0", true);
        String bad = verify(controls);
        assertTrue(bad.contains("FAIL df_shuffle-0"), bad);
    }

    /** The capture and cloudviper's unpacking of it; returns its task count. */
    private static int writeCase(Path dir, String name, boolean swapTwo) throws IOException {
        Files.write(dir.resolve(name + ".bin"), LayerCaptures.raw(name));
        try (LayerCaptures.Capture c = LayerCaptures.decode(name)) {
            GraphUpdate g = HlgGraph.read(c.message(), "client", 0, "test");
            try {
                List<Object> tasks = new ArrayList<>();
                for (GraphUpdate.NewTask t : g.tasks()) {
                    RunSpec s = t.runSpec();
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("key", t.key());
                    m.put("deps", t.dependencies());
                    m.put("function", s.function());
                    m.put("args", s.args());
                    m.put("kwargs", s.kwargs());
                    m.put("run_spec", s.runSpec());
                    tasks.add(m);
                }
                if (swapTwo) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> a = (Map<String, Object>) tasks.get(tasks.size() - 1);
                    @SuppressWarnings("unchecked")
                    Map<String, Object> b = (Map<String, Object>) tasks.get(tasks.size() - 2);
                    for (String f : List.of("function", "args", "kwargs", "run_spec")) {
                        Object x = a.get(f);
                        a.put(f, b.get(f));
                        b.put(f, x);
                    }
                }
                Frames frames = MessageCodec.encode(List.of(tasks));
                try {
                    List<byte[]> bytes = new ArrayList<>();
                    for (var f : frames.frames()) {
                        byte[] x = new byte[f.readableBytes()];
                        f.getBytes(f.readerIndex(), x);
                        bytes.add(x);
                    }
                    Files.write(dir.resolve(name + ".java.bin"), LayerCaptures.framed(bytes));
                } finally {
                    frames.release();
                }
                return g.tasks().size();
            } finally {
                GraphUpdates.release(g);
            }
        }
    }

    private static String verify(Path dir) throws IOException, InterruptedException {
        Path script = LayerCaptures.dir().getParent().resolve("verify_layers22.py");
        List<String> cmd = new ArrayList<>(DaskGeneration.DASK_2022.python(true));
        cmd.add(script.toString());
        cmd.add(dir.toString());
        Path log = dir.resolve("verify.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("verify_layers22.py did not finish in 600 s");
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println(out);
        return out;
    }

    private static Path fresh(String name) throws IOException {
        Path dir = Path.of("target", name).toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        return Files.createDirectories(dir);
    }
}
