package org.cloudviper.embedded;

import org.cloudviper.scheduler.Scheduler;
import org.cloudviper.scheduler.SchedulerConfig;
import org.cloudviper.worker.Worker;
import org.cloudviper.worker.WorkerConfig;
import org.cloudviper.worker.tasks.TaskRegistry;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole cloudviper cluster inside this JVM: a scheduler on a free localhost port and {@code n}
 * Java workers connected to it over TCP, exactly as separate processes would be. Python clients and
 * workers can join it too ({@link #schedulerAddress()}). See README "Embedded Java use".
 */
public final class JavaCluster implements AutoCloseable {
    private final Scheduler scheduler;
    private final List<Worker> workers;
    private final List<JavaClient> clients = new ArrayList<>();

    private JavaCluster(Scheduler scheduler, List<Worker> workers) {
        this.scheduler = scheduler;
        this.workers = workers;
    }

    /** A scheduler and {@code workers} one-thread workers running the built-in tasks. */
    public static JavaCluster start(int workers) throws IOException, InterruptedException {
        return start(workers, 1, TaskRegistry.withBuiltins());
    }

    /** A scheduler and {@code workers} one-thread workers running {@code tasks}. */
    public static JavaCluster start(int workers, TaskRegistry tasks) throws IOException, InterruptedException {
        return start(workers, 1, tasks);
    }

    /** A scheduler and {@code workers} workers of {@code threads} compute threads each, running {@code tasks}. */
    public static JavaCluster start(int workers, int threads, TaskRegistry tasks) throws IOException, InterruptedException {
        if (workers < 1) {
            throw new IllegalArgumentException("workers: " + workers + " (expected: >= 1)");
        }
        Scheduler s = Scheduler.start(SchedulerConfig.defaults().withPort(0));
        List<Worker> ws = new ArrayList<>();
        try {
            for (int i = 0; i < workers; i++) {
                ws.add(Worker.start(WorkerConfig.defaults(s.address()).withNthreads(threads)
                        .withName("java-" + i), tasks));
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            ws.forEach(Worker::close);
            s.close();
            throw e;
        }
        return new JavaCluster(s, ws);
    }

    /** {@code tcp://127.0.0.1:PORT}: where clients (Java or Python) and more workers connect. */
    public String schedulerAddress() {
        return scheduler.address();
    }

    /** The workers' addresses. */
    public List<String> workerAddresses() {
        List<String> r = new ArrayList<>();
        for (Worker w : workers) {
            r.add(w.address());
        }
        return r;
    }

    /** A new client connected to this cluster's scheduler; closed with the cluster at the latest. */
    public synchronized JavaClient client() throws IOException {
        JavaClient c = JavaClient.connect(scheduler.address());
        clients.add(c);
        return c;
    }

    /** Closes the clients, then the workers, then the scheduler. */
    @Override
    public synchronized void close() {
        clients.forEach(JavaClient::close);
        clients.clear();
        workers.forEach(Worker::close);
        scheduler.close();
    }
}
