package org.cloudviper.bench;

import org.cloudviper.scheduler.state.GraphUpdate;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The scheduler state machine driving a 1,000,000-task graph through its whole lifecycle (graph
 * ingest, queuing, assignment, completion, release, forgetting) with simulated instant workers.
 * Score is tasks per second (ops = tasks). The graph objects are built per invocation, outside
 * the measured region.
 *
 * <pre>java -jar bench/target/benchmarks.jar StateMachineBenchmark</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = {"-Xmx4g", "-XX:+UseParallelGC"})
public class StateMachineBenchmark {
    static final int TASKS = 1_000_000;

    @Param({"map", "tree"})
    public String shape;

    @Param({"2", "8"})
    public int workers;

    private GraphUpdate graph;
    private InstantWorkers sim;

    @Setup(Level.Invocation)
    public void build() {
        sim = new InstantWorkers(workers, 2, 1.1);
        graph = shape.equals("map") ? Graphs.map("client", TASKS, "inc") : Graphs.tree("client", TASKS / 2, "sum");
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    public long lifecycle() {
        return sim.run(graph);
    }
}
