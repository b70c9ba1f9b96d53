"""One large graph from the Java client, each process on its own as deployed: cloudviper's scheduler
started as the README starts it (bin/cloudviper-scheduler; --scheduler-xmx adds an -Xmx), two Java worker jars (one thread each), and
org.cloudviper.bench.GraphIngestMain (the JavaClient) in a fourth JVM, which sends the graph and
reports when the scheduler accepted it, when every task has run, and the scheduler's VmRSS and
VmHWM (peak) from /proc at each step. Every process started is stopped by pid.

Usage (from the repository root, after `mvn -q -B package -DskipTests -pl scheduler,worker,bench -am`):
  /usr/bin/python3 bench/scripts/java_graph_ingest.py --tasks 10000000 --shape tree
  /usr/bin/python3 bench/scripts/java_graph_ingest.py --tasks 10000000 --client-xmx 12g --scheduler-xmx 10g
Logs: bench/target/runs/java-ingest-*/.
"""
import argparse
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvbench  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=10_000_000)
    ap.add_argument("--shape", choices=["map", "tree"], default="tree")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--jar", default=cvbench.DEFAULT_JAR)
    ap.add_argument("--worker-jar", default=os.path.join(cvbench.REPO, "worker", "target", "cloudviper-worker.jar"))
    ap.add_argument("--bench-jar", default=os.path.join(cvbench.REPO, "bench", "target", "benchmarks.jar"))
    ap.add_argument("--client-xmx", default="14g", help="the client JVM's heap (it builds the whole graph)")
    ap.add_argument("--scheduler-xmx", default=None,
                    help="the scheduler's -Xmx (default: none; it is started by bin/cloudviper-scheduler)")
    ap.add_argument("--worker-xmx", default="1g", help="each Java worker's heap (no-op tasks)")
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stop by pid still stops the JVMs started

    logdir = cvbench.run_dir("java-ingest")
    cvbench.log("logs:", logdir)
    print(f"machine: {cvbench.machine()}", flush=True)
    dashboard = free_port()
    procs = []
    try:
        sched = cvbench.start_scheduler("cloudviper", logdir, jar=args.jar, xmx=args.scheduler_xmx,
                                        extra_args=["--dashboard-address", f"127.0.0.1:{dashboard}"],
                                        launcher=True)
        procs.append(sched)
        for i in range(args.workers):
            procs.append(cvbench.Proc(f"worker-{i}", ["java", f"-Xmx{args.worker_xmx}", "-jar", args.worker_jar, sched.address,
                                                      "--nthreads", "1", "--name", f"java-{i}"], logdir))
        time.sleep(3)
        client = cvbench.Proc("client", ["java", f"-Xmx{args.client_xmx}", "-XX:+UseParallelGC", "-cp", args.bench_jar,
                                         "org.cloudviper.bench.GraphIngestMain", sched.address, str(sched.pid),
                                         f"http://127.0.0.1:{dashboard}", args.shape, str(args.tasks)], logdir)
        procs.append(client)
        deadline = time.monotonic() + args.timeout
        while client.alive() and time.monotonic() < deadline:
            time.sleep(1)
        print(client.log(), flush=True)
        if client.alive():
            print(f"client still running after {args.timeout} s", flush=True)
        elif not re.search(r"all [0-9,]+ tasks run", client.log()):
            print("scheduler log tail:\n" + sched.tail(40), flush=True)
        print(f"scheduler CPU {cvbench.cpu_seconds(sched.pid):.1f} s, load {cvbench.machine()['loadavg']}", flush=True)
    finally:
        for p in reversed(procs):
            p.stop()


if __name__ == "__main__":
    main()
