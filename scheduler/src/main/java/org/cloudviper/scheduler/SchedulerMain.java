package org.cloudviper.scheduler;

import org.cloudviper.protocol.FrameLimits;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar cloudviper-scheduler.jar [--host H] [--port P] [--scheduler-file F] ...}: starts a
 * scheduler like {@code dask scheduler} does and runs until killed.
 */
public final class SchedulerMain {
    private SchedulerMain() {
    }

    private static final String USAGE = """
            usage: java -jar cloudviper-scheduler.jar [options]
              --host HOST                 interface to bind (default 127.0.0.1)
              --port PORT                 TCP port, 0 for any free port (default 8786)
              --scheduler-file FILE       write the address as JSON for 'dask worker --scheduler-file'
              --worker-ttl SECONDS        remove workers silent for longer (default 300)
              --worker-saturation X       tasks per worker thread before queuing; inf disables (default 1.1)
              --worker-pipeline-ms MS     queue short tasks on a worker until each thread holds about MS
                                          of compute, at most 64 per thread, refilled when half has run;
                                          0 = Dask's cap only (default 5)
              --allowed-failures N        worker deaths a task survives before KilledWorker (default 3)
              --max-frames N              frames per message (default 1000000)
              --max-frame-size BYTES      bytes per frame (default 2147483647)
              --max-message-size BYTES    bytes per message (default 17179869184)
              --dashboard-address ADDR    accepted for compatibility; cloudviper has no dashboard
            """;

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd HH:mm:ss,SSS");
        // With java.nio opened (the jar's Add-Opens), Netty allocates direct buffers without the JDK's
        // zero-fill: relaying 1 GiB otherwise spends ~10 % of the process's CPU clearing memory that the
        // socket read overwrites at once (perf, docs/benchmarks.md). Must precede every Netty class.
        if (System.getProperty("io.netty.tryReflectionSetAccessible") == null) {
            System.setProperty("io.netty.tryReflectionSetAccessible", "true");
        }
        SchedulerConfig c;
        try {
            c = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (c == null) {
            System.out.print(USAGE);
            return;
        }
        Scheduler s = Scheduler.start(c);
        System.err.println("Scheduler at: " + s.address());
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            s.close();
            done.countDown();
        }, "cloudviper-shutdown"));
        done.await();
    }

    static SchedulerConfig parse(String[] args) {
        SchedulerConfig c = SchedulerConfig.defaults();
        FrameLimits l = c.limits();
        long maxFrames = l.maxFrames(), maxFrame = l.maxFrameSize(), maxMessage = l.maxMessageSize();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = null;
            if (a.startsWith("--") && a.contains("=")) {
                v = a.substring(a.indexOf('=') + 1);
                a = a.substring(0, a.indexOf('='));
            }
            if (a.equals("-h") || a.equals("--help")) {
                return null;
            }
            if (v == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + " needs a value");
                }
                v = args[++i];
            }
            try {
                switch (a) {
                    case "--host" -> c = c.withHost(v);
                    case "--port" -> c = c.withPort(Integer.parseInt(v));
                    case "--scheduler-file" -> c = c.withSchedulerFile(Path.of(v));
                    case "--worker-ttl" -> c = c.withWorkerTtl(Duration.ofMillis((long) (Double.parseDouble(v) * 1000)));
                    case "--worker-saturation" -> c = c.withWorkerSaturation(
                            v.equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v));
                    case "--worker-pipeline-ms" -> c = c.withWorkerPipeline(
                            Duration.ofNanos((long) (Double.parseDouble(v) * 1e6)));
                    case "--allowed-failures" -> c = c.withAllowedFailures(Integer.parseInt(v));
                    case "--max-frames" -> maxFrames = Long.parseLong(v);
                    case "--max-frame-size" -> maxFrame = Long.parseLong(v);
                    case "--max-message-size" -> maxMessage = Long.parseLong(v);
                    case "--dashboard-address" -> {
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(a + ": not a number: " + v);
            }
        }
        return c.withLimits(new FrameLimits(maxFrames, maxFrame, maxMessage));
    }
}
