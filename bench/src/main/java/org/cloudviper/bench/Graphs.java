package org.cloudviper.bench;

import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.scheduler.state.GraphUpdate;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Graph updates shaped like what the server builds from a 2022.12.1 client (after the decoder has
 * merged the per-task copies of the function pickle into one array): keys
 * {@code "inc-<32 hex>"}, one ~480-byte cloudpickled function shared by every task (the client sends
 * it per task; the state interns it), ~16-byte args per task.
 */
final class Graphs {
    static final byte[] FUNCTION = new byte[476];
    static final int ARGS_BYTES = 16;

    static {
        ThreadLocalRandom.current().nextBytes(FUNCTION);
    }

    private Graphs() {
    }

    static String key(String prefix, int i) {
        return prefix + "-" + String.format("%032x", (long) i * 0x9E3779B97F4A7C15L & Long.MAX_VALUE);
    }

    /** {@code client.map(inc, range(n))}: independent tasks, client-given order, all wanted. */
    static GraphUpdate map(String client, int n, String prefix) {
        List<GraphUpdate.NewTask> tasks = new ArrayList<>(n);
        List<Object> keys = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String k = key(prefix, i);
            tasks.add(new GraphUpdate.NewTask(k, new RunSpec(FUNCTION, new byte[ARGS_BYTES], null, null),
                    List.of(), GraphUpdate.TaskOptions.NONE, i));
            // The client's keys list holds its own copies of the key strings (decoded separately).
            keys.add(new String(k));
        }
        return new GraphUpdate(client, tasks, keys, true, 0, 0.1, "bench");
    }

    /** A binary tree reduction over {@code leaves} leaves; only the root is wanted; no client order. */
    static GraphUpdate tree(String client, int leaves, String prefix) {
        List<GraphUpdate.NewTask> tasks = new ArrayList<>(2 * leaves);
        List<Object> level = new ArrayList<>(leaves);
        for (int i = 0; i < leaves; i++) {
            String k = key(prefix + "-leaf", i);
            tasks.add(new GraphUpdate.NewTask(k, new RunSpec(FUNCTION, new byte[ARGS_BYTES], null, null),
                    List.of(), GraphUpdate.TaskOptions.NONE));
            level.add(k);
        }
        int depth = 0;
        while (level.size() > 1) {
            List<Object> next = new ArrayList<>((level.size() + 1) / 2);
            for (int i = 0; i < level.size(); i += 2) {
                List<Object> deps = i + 1 < level.size() ? List.of(level.get(i), level.get(i + 1)) : List.of(level.get(i));
                String k = key(prefix + "-add" + depth, i / 2);
                tasks.add(new GraphUpdate.NewTask(k, new RunSpec(FUNCTION, new byte[ARGS_BYTES], null, null),
                        deps, GraphUpdate.TaskOptions.NONE));
                next.add(k);
            }
            level = next;
            depth++;
        }
        return new GraphUpdate(client, tasks, List.of(level.get(0)), false, 0, 0.1, "bench");
    }
}
