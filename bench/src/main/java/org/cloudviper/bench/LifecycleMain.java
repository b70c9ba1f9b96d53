package org.cloudviper.bench;

import org.cloudviper.scheduler.state.GraphUpdate;

/**
 * The StateMachineBenchmark workload as a plain loop, for profilers (JFR, async-profiler) and for a
 * quick look at the phases: graph ingest (onUpdateGraph) vs completions vs release.
 *
 * <pre>java -Xmx4g -XX:+UseParallelGC -XX:StartFlightRecording=filename=lifecycle.jfr \
 *     -cp bench/target/benchmarks.jar org.cloudviper.bench.LifecycleMain map 2 5 [tasks]</pre>
 */
public final class LifecycleMain {
    private LifecycleMain() {
    }

    public static void main(String[] args) {
        String shape = args.length > 0 ? args[0] : "map";
        int workers = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int tasks = args.length > 3 ? Integer.parseInt(args[3].replace("_", "")) : StateMachineBenchmark.TASKS;
        for (int r = 0; r < rounds; r++) {
            InstantWorkers sim = new InstantWorkers(workers, 2, 1.1);
            GraphUpdate g = shape.equals("map") ? Graphs.map("client", tasks, "inc")
                    : Graphs.tree("client", tasks / 2, "sum");
            System.gc();
            long t0 = System.nanoTime();
            long[] phases = new long[3];
            long done = sim.run(g, phases);
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%s workers=%d round %d: %,d tasks in %.2f s = %,.0f tasks/s"
                            + " (ingest %.0f ns/task, completions %.0f, release %.0f)%n", shape, workers, r,
                    done, s, done / s, phases[0] / (double) done, phases[1] / (double) done, phases[2] / (double) done);
        }
    }
}
