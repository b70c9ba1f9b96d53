package org.cloudviper.bench;

import org.cloudviper.protocol.pickle.GraphSlicer;
import org.cloudviper.protocol.pickle.SlicedGraph;
import org.cloudviper.protocol.pickle.TaskSlice;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link GraphSlicer#slice} on real update-graph pickles of a Dask 2024.12.1 client: parse the
 * whole pickle, walk the HighLevelGraph and write every per-task pickle. Score is milliseconds per
 * graph (issue #3 target: under 1 s for 100,000 tasks).
 *
 * <p>The graphs are not in the repository (tens of MB); make them first with the trixie root's
 * Python ({@code make_corpus.py --large N}, i.e. the client's own pickling code path):
 * <pre>
 * bench/scripts/make_slicer_graphs.sh 100000      # -> bench/target/slicer-graphs/100000/
 * java -jar bench/target/benchmarks.jar SlicerBenchmark
 * java -jar bench/target/benchmarks.jar SlicerBenchmark -p graphs=/other/dir -p shape=large_tasks
 * </pre>
 * Shapes: {@code large_map} ({@code client.map(inc, range(N))}, a {@code _MapLayer}),
 * {@code large_delayed} (a chain of N legacy tuple tasks, as dask.delayed graphs arrive) and
 * {@code large_tasks} (N {@code dask._task_spec.Task} nodes, each with an {@code Alias} to the
 * previous key). The setup checks the task count against the graph's meta.json and prints the
 * pickle and slice sizes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgs = {"-Xmx2g"})
public class SlicerBenchmark {
    private static final Pattern TASK_COUNT = Pattern.compile("\"task_count\":\\s*(\\d+)");

    /** Output directory of make_slicer_graphs.sh, relative to the working directory or absolute. */
    @Param({"bench/target/slicer-graphs/100000"})
    public String graphs;

    @Param({"large_map", "large_delayed", "large_tasks"})
    public String shape;

    private byte[] graph;
    private final GraphSlicer slicer = new GraphSlicer();

    @Setup(Level.Trial)
    public void load() {
        Path dir = Path.of(graphs).resolve(shape);
        try {
            if (!Files.isRegularFile(dir.resolve("graph.pkl"))) {
                throw new IllegalStateException("no " + dir.resolve("graph.pkl").toAbsolutePath()
                        + ": run bench/scripts/make_slicer_graphs.sh first (from the repository root)");
            }
            graph = Files.readAllBytes(dir.resolve("graph.pkl"));
            Matcher m = TASK_COUNT.matcher(Files.readString(dir.resolve("meta.json")));
            if (!m.find()) {
                throw new IllegalStateException(dir.resolve("meta.json") + " has no task_count");
            }
            int expected = Integer.parseInt(m.group(1));
            SlicedGraph g = slicer.slice(graph, 0);
            if (g.tasks().size() != expected) {
                throw new IllegalStateException(shape + ": " + g.tasks().size() + " slices, meta.json says "
                        + expected + " tasks");
            }
            long bytes = 0;
            for (TaskSlice t : g.tasks()) {
                bytes += t.runSpec().length;
            }
            System.out.printf("%n%s: %d tasks, graph pickle %d bytes, slices %d bytes%n", shape, expected,
                    graph.length, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Benchmark
    public SlicedGraph slice() {
        return slicer.slice(graph, 0);
    }
}
