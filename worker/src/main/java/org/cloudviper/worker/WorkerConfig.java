package org.cloudviper.worker;

import org.cloudviper.protocol.FrameLimits;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How a worker runs, with the defaults of {@code dask worker}.
 *
 * @param scheduler             the scheduler's address, {@code tcp://host:port}
 * @param host                  interface to listen on, also the host of the contact address
 * @param port                  listen port, 0 for any free port
 * @param nthreads              compute threads (tasks executing at once)
 * @param memoryLimit           bytes the worker reports as its limit, 0 for none
 * @param name                  the worker's name (its address if null)
 * @param resources             abstract resources advertised, e.g. {@code GPU=2}; a {@code java}
 *                              resource of {@code nthreads} is added unless given here
 * @param localDirectory        scratch space reported to the scheduler (null: a temporary directory)
 * @param limits                per-message limits for every connection
 * @param outgoingTransferLimit concurrent get_data replies before answering "busy" (doubled for
 *                              requesters on the same host, as distributed does)
 * @param httpPort              port of the HTTP side ({@code /health}, {@code /metrics} for pod probes
 *                              and Prometheus) on {@code host}; 0 for any free port, -1 for none
 */
public record WorkerConfig(String scheduler, String host, int port, int nthreads, long memoryLimit, String name,
                           Map<String, Double> resources, Path localDirectory, FrameLimits limits,
                           int outgoingTransferLimit, int httpPort) {
    /** The resource every cloudviper worker advertises so Java tasks can be routed to it. */
    public static final String JAVA_RESOURCE = "java";

    public WorkerConfig {
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(host, "host");
        if (nthreads < 1) {
            throw new IllegalArgumentException("nthreads: " + nthreads + " (expected: >= 1)");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port: " + port + " (expected: 0 .. 65535)");
        }
        if (memoryLimit < 0) {
            throw new IllegalArgumentException("memoryLimit: " + memoryLimit + " (expected: >= 0)");
        }
        if (httpPort < -1 || httpPort > 65535) {
            throw new IllegalArgumentException("httpPort: " + httpPort + " (expected: -1 .. 65535)");
        }
        if (outgoingTransferLimit < 1) {
            throw new IllegalArgumentException("outgoingTransferLimit: " + outgoingTransferLimit + " (expected: >= 1)");
        }
        resources = Map.copyOf(resources);
        Objects.requireNonNull(limits, "limits");
    }

    /** {@code dask worker SCHEDULER}: one thread per core, memory limit = physical memory. */
    public static WorkerConfig defaults(String scheduler) {
        return new WorkerConfig(scheduler, "127.0.0.1", 0, Runtime.getRuntime().availableProcessors(),
                systemMemory(), null, Map.of(), null, FrameLimits.DEFAULT, 10, -1);
    }

    /** What register-worker advertises: the configured resources plus {@code java=nthreads}. */
    public Map<String, Double> effectiveResources() {
        Map<String, Double> r = new LinkedHashMap<>(resources);
        r.putIfAbsent(JAVA_RESOURCE, (double) nthreads);
        return r;
    }

    public WorkerConfig withScheduler(String v) {
        return new WorkerConfig(v, host, port, nthreads, memoryLimit, name, resources, localDirectory, limits,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withHost(String v) {
        return new WorkerConfig(scheduler, v, port, nthreads, memoryLimit, name, resources, localDirectory, limits,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withPort(int v) {
        return new WorkerConfig(scheduler, host, v, nthreads, memoryLimit, name, resources, localDirectory, limits,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withNthreads(int v) {
        return new WorkerConfig(scheduler, host, port, v, memoryLimit, name, resources, localDirectory, limits,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withMemoryLimit(long v) {
        return new WorkerConfig(scheduler, host, port, nthreads, v, name, resources, localDirectory, limits,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withName(String v) {
        return new WorkerConfig(scheduler, host, port, nthreads, memoryLimit, v, resources, localDirectory, limits,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withResources(Map<String, Double> v) {
        return new WorkerConfig(scheduler, host, port, nthreads, memoryLimit, name, v, localDirectory, limits,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withLocalDirectory(Path v) {
        return new WorkerConfig(scheduler, host, port, nthreads, memoryLimit, name, resources, v, limits,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withLimits(FrameLimits v) {
        return new WorkerConfig(scheduler, host, port, nthreads, memoryLimit, name, resources, localDirectory, v,
                outgoingTransferLimit, httpPort);
    }

    public WorkerConfig withOutgoingTransferLimit(int v) {
        return new WorkerConfig(scheduler, host, port, nthreads, memoryLimit, name, resources, localDirectory, limits,
                v, httpPort);
    }

    /** With the HTTP side on {@code v} (0: any free port), or without it (-1). */
    public WorkerConfig withHttpPort(int v) {
        return new WorkerConfig(scheduler, host, port, nthreads, memoryLimit, name, resources, localDirectory, limits,
                outgoingTransferLimit, v);
    }

    /** Physical memory of the machine, or 0 if the JVM cannot tell. */
    public static long systemMemory() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getTotalMemorySize();
        }
        return 0;
    }
}
