package org.cloudviper.scheduler.state;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.cloudviper.scheduler.state.SimCluster.address;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random event sequences against simulated workers and clients: random DAGs (with restrictions,
 * retries, priorities, dependencies on earlier and on forgotten keys), random completions and
 * failures, workers joining, dying, pausing and going silent, clients releasing, cancelling,
 * retrying, scattering, publishing and leaving. After every step the state validates itself and must
 * agree with the simulated workers; at the end, with every worker back and nothing failing any
 * more, the graph must drain to {@link SimCluster#assertQuiescent()}.
 *
 * <p>Reproduce one sequence with {@code -Dcloudviper.seed=<seed> -Dcloudviper.runs=1}.
 */
class SchedulerStateRandomTest {
    private static final long SEED = Long.getLong("cloudviper.seed", 0x5EED_2022_1201L);
    private static final int RUNS = Integer.getInteger("cloudviper.runs", 400);
    private static final List<String> CLIENTS = List.of("Client-a", "Client-b", "Client-c");
    private static final int MAX_NAMES = 6;

    @TestFactory
    Stream<DynamicTest> randomSequences() {
        return IntStream.range(0, RUNS).mapToObj(i -> {
            long seed = SEED + i;
            return DynamicTest.dynamicTest("seed " + seed, () -> new Run(seed).run());
        });
    }

    private static final class Run {
        final long seed;
        final Random r;
        final SimCluster c;
        /** Every worker name used so far, with its resources; a dead one may come back. */
        final Map<String, Map<String, Double>> names = new LinkedHashMap<>();
        final Set<String> paused = new LinkedHashSet<>();
        final List<Object> everUsedKeys = new ArrayList<>();
        final List<String> log = new ArrayList<>();
        int graphs;
        int scatters;
        int datasets;

        Run(long seed) {
            this.seed = seed;
            this.r = new Random(seed);
            double[] saturations = {1.0, 1.1, 2.0, Double.POSITIVE_INFINITY};
            c = new SimCluster(saturations[r.nextInt(saturations.length)], r.nextInt(3));
            c.replicate = r.nextBoolean();
        }

        void run() {
            try {
                for (int i = 1 + r.nextInt(3); i > 0; i--) {
                    addWorker();
                }
                int steps = 20 + r.nextInt(120);
                for (int s = 0; s < steps; s++) {
                    step();
                    c.assertInSync();
                }
                finish();
            } catch (Throwable t) {
                int from = Math.max(0, log.size() - 40);
                throw new AssertionError("seed " + seed + ", last events:\n  " + String.join("\n  ",
                        log.subList(from, log.size())), t);
            }
        }

        private void note(String what) {
            log.add(what);
        }

        private void step() {
            int x = r.nextInt(100);
            if (x < 14) {
                submitGraph();
            } else if (x < 51) {
                finishSomething(0.15);
            } else if (x < 56) {
                stealing();
            } else if (x < 60) {
                addWorker();
            } else if (x < 64) {
                removeWorker();
            } else if (x < 67) {
                pauseOrResume();
            } else if (x < 74) {
                releaseKeys();
            } else if (x < 77) {
                cancel();
            } else if (x < 81) {
                retry();
            } else if (x < 84) {
                scatter();
            } else if (x < 86) {
                reschedule();
            } else if (x < 88) {
                longRunning();
            } else if (x < 90) {
                releaseWorkerData();
            } else if (x < 94) {
                publish();
            } else if (x < 96) {
                removeClient();
            } else if (x < 97) {
                tick();
            } else if (x < 98) {
                desireKeys();
            } else {
                reportKey();
            }
        }

        /** All workers back (every name), none paused, no failures: everything must complete. */
        private void finish() {
            for (String a : new ArrayList<>(paused)) {
                note("resume " + a);
                c.workerStatus(a, "running");
            }
            paused.clear();
            if (names.values().stream().noneMatch(res -> res.containsKey("GPU"))) {
                names.put("gpu", Map.of("GPU", 1.0)); // resource-restricted tasks need one
            }
            for (String name : names.keySet()) {
                if (!c.workers.containsKey(address(name))) {
                    note("final add " + name);
                    c.addWorker(name, 1 + (name.hashCode() & 1), names.get(name));
                }
            }
            c.failing = k -> false;
            for (String a : new ArrayList<>(c.workers.keySet())) {
                while (c.answerSteal(a)) {
                    note("final steal-response from " + a);
                }
            }
            int guard = 0;
            while (c.busy()) {
                finishSomething(0);
                c.assertInSync();
                assertTrue(++guard < 100_000, "no progress");
            }
            c.assertQuiescent();
        }

        // --------------------------------------------------------------------------------------
        // Actions
        // --------------------------------------------------------------------------------------

        private String client() {
            return CLIENTS.get(r.nextInt(CLIENTS.size()));
        }

        private <T> T pick(List<T> xs) {
            return xs.isEmpty() ? null : xs.get(r.nextInt(xs.size()));
        }

        private void submitGraph() {
            String client = client();
            String prefix = "g" + (graphs++) + "-";
            int n = 1 + r.nextInt(12);
            List<GraphUpdate.NewTask> tasks = new ArrayList<>();
            List<Object> keys = new ArrayList<>();
            boolean[] hasDependent = new boolean[n];
            Set<Object> referenced = new LinkedHashSet<>(); // earlier keys this graph depends on
            for (int i = 0; i < n; i++) {
                Object key = prefix + i;
                if (r.nextInt(25) == 0 && !everUsedKeys.isEmpty()) {
                    // A key the scheduler may still know (then its state is kept) or has forgotten (then
                    // it is new again). Never one this graph already depends on: that would be a cycle.
                    key = pick(everUsedKeys);
                    if (keys.contains(key) || referenced.contains(key)) {
                        key = prefix + i;
                    }
                }
                List<Object> deps = new ArrayList<>();
                for (int j = 0; j < i && deps.size() < 3; j++) {
                    if (r.nextInt(10) < 3 && !deps.contains(keys.get(j)) && !keys.get(j).equals(key)) {
                        deps.add(keys.get(j));
                        hasDependent[j] = true;
                    }
                }
                if (r.nextInt(8) == 0 && !everUsedKeys.isEmpty()) {
                    Object old = pick(everUsedKeys); // maybe forgotten by now: then this key is cancelled
                    if (!deps.contains(old) && !old.equals(key) && !keys.contains(old)) {
                        deps.add(old);
                        referenced.add(old);
                    }
                }
                tasks.add(SimCluster.task(key, options(), deps.toArray()));
                keys.add(key);
            }
            List<Object> wanted = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (!hasDependent[i] || r.nextInt(5) == 0) {
                    wanted.add(keys.get(i));
                }
            }
            if (r.nextInt(10) == 0 && !everUsedKeys.isEmpty()) {
                wanted.add(pick(everUsedKeys)); // Futures of an earlier graph passed along
            }
            Map<Object, Long> order = null;
            if (r.nextBoolean()) {
                order = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    order.put(keys.get(i), (long) i);
                }
            }
            everUsedKeys.addAll(keys);
            note("graph " + client + " " + tasks.stream().map(t -> t.key() + "<-" + t.dependencies()).toList()
                    + " wanted " + wanted);
            c.updateGraph(c.graph(client, tasks, wanted, order));
        }

        private GraphUpdate.TaskOptions options() {
            int x = r.nextInt(100);
            if (x < 10) {
                return SimCluster.retries(1 + r.nextInt(2));
            } else if (x < 15 && !names.isEmpty()) {
                String name = pick(new ArrayList<>(names.keySet()));
                return SimCluster.onWorkers(List.of(r.nextBoolean() ? name : address(name)), r.nextBoolean());
            } else if (x < 20) {
                return SimCluster.resources(Map.of("GPU", 1.0));
            } else if (x < 30) {
                return SimCluster.priority(r.nextInt(5) - 2);
            }
            return GraphUpdate.TaskOptions.NONE;
        }

        private void finishSomething(double failure) {
            List<SimCluster.SimWorker> busy = new ArrayList<>();
            for (SimCluster.SimWorker w : c.workers.values()) {
                if (!w.running.isEmpty()) {
                    busy.add(w);
                }
            }
            SimCluster.SimWorker w = pick(busy);
            if (w == null) {
                return;
            }
            Object key = pick(new ArrayList<>(w.running.keySet()));
            boolean fail = r.nextDouble() < failure;
            c.failing = k -> fail;
            note((fail ? "fail " : "finish ") + key + " on " + w.name);
            c.finish(w.address, key);
        }

        private void addWorker() {
            List<String> dead = new ArrayList<>();
            for (String n : names.keySet()) {
                if (!c.workers.containsKey(address(n))) {
                    dead.add(n);
                }
            }
            String name;
            if (!dead.isEmpty() && (names.size() >= MAX_NAMES || r.nextBoolean())) {
                name = pick(dead);
            } else if (names.size() < MAX_NAMES) {
                name = "w" + names.size();
                names.put(name, r.nextInt(4) == 0 ? Map.of("GPU", 2.0) : Map.of());
            } else {
                return;
            }
            note("add worker " + name);
            c.addWorker(name, 1 + (name.hashCode() & 1), names.get(name));
        }

        private void removeWorker() {
            String a = pick(new ArrayList<>(c.workers.keySet()));
            if (a != null) {
                note("remove worker " + a);
                paused.remove(a);
                c.removeWorker(a);
            }
        }

        private void pauseOrResume() {
            String a = pick(new ArrayList<>(c.workers.keySet()));
            if (a == null) {
                return;
            }
            boolean pause = !paused.contains(a);
            note((pause ? "pause " : "resume ") + a);
            if (pause) {
                paused.add(a);
            } else {
                paused.remove(a);
            }
            c.workerStatus(a, pause ? "paused" : "running");
        }

        private List<Object> wantedBy(String client) {
            Set<Object> keys = c.wanted().get(client);
            return keys == null ? List.of() : new ArrayList<>(keys);
        }

        private void releaseKeys() {
            String client = client();
            List<Object> keys = wantedBy(client);
            if (keys.isEmpty()) {
                return;
            }
            List<Object> release = new ArrayList<>();
            for (Object k : keys) {
                if (r.nextInt(3) == 0) {
                    release.add(k);
                }
            }
            note("release " + client + " " + release);
            c.clientReleasesKeys(client, release);
        }

        private void cancel() {
            String client = client();
            Object key = pick(wantedBy(client));
            if (key != null) {
                boolean force = r.nextInt(4) == 0;
                note("cancel " + client + " " + key + (force ? " force" : ""));
                c.cancel(client, List.of(key), force);
            }
        }

        private void retry() {
            String client = client();
            List<Object> erred = new ArrayList<>();
            for (Object k : wantedBy(client)) {
                if ("erred".equals(c.state.queries().taskStatus(k))) {
                    erred.add(k);
                }
            }
            Object key = pick(erred);
            if (key != null) {
                note("retry " + client + " " + key);
                c.retry(client, List.of(key));
            }
        }

        private void scatter() {
            String a = pick(new ArrayList<>(c.workers.keySet()));
            if (a != null) {
                // Scatter hashes the data into the key, so scattering the same value again reuses it.
                Object key = scatters > 0 && r.nextInt(4) == 0 ? "scattered-" + r.nextInt(scatters)
                        : "scattered-" + (scatters++);
                String client = client();
                note("scatter " + client + " " + key + " to " + a);
                c.scatter(client, Map.of(key, a));
                everUsedKeys.add(key);
            }
        }

        /** A balance, or the answer to a steal-request. */
        private void stealing() {
            List<String> answering = new ArrayList<>();
            for (SimCluster.SimWorker w : c.workers.values()) {
                if (!w.stealAnswers.isEmpty()) {
                    answering.add(w.address);
                }
            }
            if (answering.isEmpty() || r.nextBoolean()) {
                note("balance");
                c.balance();
            } else {
                String a = pick(answering);
                note("steal-response from " + a + ": " + c.workers.get(a).stealAnswers.get(0));
                c.answerSteal(a);
            }
        }

        private void reschedule() {
            SimCluster.SimWorker w = pick(new ArrayList<>(c.workers.values()));
            if (w != null && !w.running.isEmpty()) {
                Object key = pick(new ArrayList<>(w.running.keySet()));
                note("reschedule " + key + " from " + w.name);
                c.reschedule(w.address, key);
            }
        }

        private void longRunning() {
            SimCluster.SimWorker w = pick(new ArrayList<>(c.workers.values()));
            if (w != null && !w.running.isEmpty()) {
                Object key = pick(new ArrayList<>(w.running.keySet()));
                note("long-running " + key + " on " + w.name);
                c.longRunning(w.address, key);
            }
        }

        private void releaseWorkerData() {
            SimCluster.SimWorker w = pick(new ArrayList<>(c.workers.values()));
            if (w != null && !w.memory.isEmpty()) {
                Object key = pick(new ArrayList<>(w.memory.keySet()));
                note("release-worker-data " + key + " on " + w.name);
                c.releaseWorkerData(w.address, key);
            }
        }

        private void publish() {
            List<String> names = c.state.datasetNames();
            if (!names.isEmpty() && r.nextInt(3) == 0) {
                String name = pick(names);
                note("publish delete " + name);
                c.publishDelete(name);
                return;
            }
            List<Object> keys = wantedBy(client());
            if (keys.isEmpty()) {
                return;
            }
            List<Object> chosen = new ArrayList<>();
            for (Object k : keys) {
                if (r.nextBoolean()) {
                    chosen.add(k);
                }
            }
            String name = !names.isEmpty() && r.nextBoolean() ? pick(names) : "ds-" + (datasets++);
            note("publish put " + name + " " + chosen);
            c.publishPut(name, chosen, true);
        }

        private void removeClient() {
            String client = client();
            note("remove client " + client);
            c.removeClient(client);
        }

        private void tick() {
            c.now += 30;
            for (String a : c.workers.keySet()) {
                if (r.nextInt(4) != 0) {
                    c.heartbeat(a);
                }
            }
            c.now += 31;
            note("tick at " + c.now);
            for (String a : c.tick(c.now, 60)) {
                note("  timed out " + a);
                paused.remove(a);
            }
        }

        /** Another client takes over Futures (unpickled Future, get_dataset): client-desires-keys. */
        private void desireKeys() {
            String from = client();
            String to = client();
            List<Object> keys = wantedBy(from);
            if (!keys.isEmpty()) {
                List<Object> some = keys.subList(0, 1 + r.nextInt(keys.size()));
                note("desire " + to + " " + some);
                c.clientDesiresKeys(to, new ArrayList<>(some));
            }
        }

        private void reportKey() {
            String client = client();
            Object key = pick(everUsedKeys);
            if (key != null) {
                note("report-key " + client + " " + key);
                c.reportKey(client, key);
            }
        }
    }
}
