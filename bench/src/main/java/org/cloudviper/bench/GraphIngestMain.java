package org.cloudviper.bench;

import org.cloudviper.embedded.JavaClient;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One large graph sent by the {@link JavaClient} to a scheduler running in its own process, as it
 * is deployed (issue #13: a 10,000,000-task graph that Dask's scheduler cannot hold). The shapes are
 * {@link EmbeddedThroughputMain}'s: "map", N independent {@code cloudviper.tasks.noop(i)}, all
 * outputs; "tree", N/2 leaves reduced pairwise to one root, the root the only output.
 *
 * <p>Reported: the graph built (client side), the submit call (graph encoded and handed to the
 * socket), the graph accepted (the scheduler's {@code /metrics} first counts a task in memory or
 * processing: every task of the graph is in its state by then), every output in memory, and the
 * scheduler's VmRSS / VmHWM (peak) from {@code /proc/PID/status} at each step.
 *
 * <pre>java -Xmx14g -XX:+UseParallelGC -cp bench/target/benchmarks.jar org.cloudviper.bench.GraphIngestMain \
 *     tcp://127.0.0.1:8786 PID http://127.0.0.1:8787 tree 10000000</pre>
 *
 * <p>Arguments: scheduler address, scheduler pid, its dashboard address, shape (map|tree), tasks.
 */
public final class GraphIngestMain {
    private static final Pattern RUNNING = Pattern.compile(
            "^dask_scheduler_tasks\\{state=\"(memory|processing)\"} ([0-9.e+]+)$", Pattern.MULTILINE);

    private GraphIngestMain() {
    }

    public static void main(String[] args) throws Exception {
        String address = args[0];
        long pid = Long.parseLong(args[1]);
        URI metrics = URI.create(args[2] + "/metrics");
        String shape = args[3];
        int n = Integer.parseInt(args[4].replace("_", ""));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        try (JavaClient client = JavaClient.connect(address)) {
            report("connected", 0, pid);
            long t0 = System.nanoTime();
            List<JavaClient.Task> outputs = shape.equals("map") ? EmbeddedThroughputMain.map(client, n)
                    : EmbeddedThroughputMain.tree(client, n);
            long built = System.nanoTime();
            report("graph built", built - t0, pid);
            List<CompletableFuture<Void>> done = client.submit(outputs);
            long sent = System.nanoTime();
            report("submit call returned", sent - built, pid);
            while (running(http, metrics) == 0) {
                Thread.sleep(20);
            }
            long accepted = System.nanoTime();
            report("graph accepted (a task in memory or processing) after the submit call began", accepted - built, pid);
            CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get();
            long all = System.nanoTime();
            int tasks = shape.equals("map") ? n : 2 * (n / 2) - 1;
            report(String.format("all %,d tasks run (%,.0f tasks/s from acceptance)", tasks,
                    tasks / ((all - accepted) / 1e9)), all - built, pid);
            client.release(outputs);
        }
    }

    private static double running(HttpClient http, URI metrics) throws IOException, InterruptedException {
        String body;
        try {
            body = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (HttpTimeoutException e) {
            return 0; // the scheduler's loop is busy taking the graph in; ask again
        }
        double sum = 0;
        Matcher m = RUNNING.matcher(body);
        while (m.find()) {
            sum += Double.parseDouble(m.group(2));
        }
        return sum;
    }

    private static void report(String what, long nanos, long pid) throws IOException {
        String status = Files.readString(Path.of("/proc/" + pid + "/status"));
        System.out.printf("%-90s %9.2f s   scheduler VmRSS %,8d MiB, VmHWM %,8d MiB%n", what, nanos / 1e9,
                kib(status, "VmRSS") / 1024, kib(status, "VmHWM") / 1024);
    }

    private static long kib(String status, String field) {
        Matcher m = Pattern.compile("^" + field + ":\\s+(\\d+) kB", Pattern.MULTILINE).matcher(status);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
