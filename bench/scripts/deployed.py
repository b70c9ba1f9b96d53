"""The whole system as deployed (issue #13, targets 2 and 3): a scheduler process, two Java worker
processes with one thread each and the JavaClient in a fourth JVM (DeployedThroughputMain), one graph
of no-op Java tasks per round, several rounds; all processes fresh for each scheduler and shape.

  cloudviper : bin/cloudviper-scheduler (the launcher's JVM settings), or `java -jar` with --plain
  dask-inf   : Dask 2022.12.1's own scheduler with queuing off (worker-saturation inf)
The workers are always cloudviper's Java workers (bin/cloudviper-worker, or `java -jar` with --plain),
the client always the JavaClient.

Per round: tasks/s, and each process's CPU per task split into JIT and collector threads. Per run:
the cold start of each worker (process start to "Registered to" in its log) and of the scheduler
(process start to "Scheduler at").

  /usr/bin/python3 bench/scripts/deployed.py --schedulers cloudviper dask-inf --shapes map tree
  /usr/bin/python3 bench/scripts/deployed.py --root /tmp/base --plain        # another build, plain java -jar

Needs `mvn -pl scheduler,worker,embedded,bench -am package` in --root (default: this checkout). Every
process started here is stopped by pid at the end, also on failure.
"""
import argparse
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvbench  # noqa: E402

REGISTERED = re.compile(r"Registered to:")
SCHEDULER_AT = re.compile(r"Scheduler at:\s+(tcp://\S+)")


def launcher_env(root, role, jvm_options, java_home):
    env = {"CLOUDVIPER_JAR": os.path.join(root, role, "target", f"cloudviper-{role}.jar"),
           "CLOUDVIPER_JVM_OPTIONS": jvm_options}
    if java_home:
        env["JAVA_HOME"] = java_home
    return env


def java_cmd(args, root, role, java_home):
    """The command of a scheduler or worker: the launcher, or plain java -jar."""
    if args.plain:
        java = os.path.join(java_home, "bin", "java") if java_home else "java"
        return [java, *args.jvm_options.split(), "-jar", os.path.join(root, role, "target", f"cloudviper-{role}.jar")]
    return [os.path.join(cvbench.REPO, "bin", f"cloudviper-{role}")]


def start_scheduler(args, kind, logdir):
    t0 = time.monotonic()
    if kind == "cloudviper":
        cmd = java_cmd(args, args.root, "scheduler", args.java_home) + [
            "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0"]
        p = cvbench.Proc("scheduler-" + kind, cmd, logdir,
                         launcher_env(args.root, "scheduler", args.jvm_options, args.java_home))
    else:
        p = cvbench.start_scheduler(kind, logdir)
        return p, None
    try:
        p.address = p.wait_for(SCHEDULER_AT).group(1)
    except BaseException:
        p.stop()
        raise
    return p, time.monotonic() - t0


def start_workers(args, address, logdir, procs):
    """Starts both workers at once (as a scaler does); returns each one's seconds from start to
    registered, and the CPU seconds it used until then (less sensitive to the machine's load)."""
    started = []
    for i in range(2):
        cmd = java_cmd(args, args.root, "worker", args.java_home) + [
            address, "--nthreads", "1", "--name", f"java-{i}", "--memory-limit", "4GiB",
            "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
        p = cvbench.Proc(f"java-{i}", cmd, logdir, launcher_env(args.root, "worker", args.jvm_options, args.java_home))
        procs.append(p)
        started.append((p, time.monotonic()))
    cold, cpu = [], []
    for p, t0 in started:
        p.wait_for(REGISTERED, timeout=120)
        cold.append(time.monotonic() - t0)
        cpu.append(cvbench.cpu_seconds(p.pid))
    return cold, cpu


def run(args, kind, shape, logdir):
    procs = []
    try:
        sched, sched_start = start_scheduler(args, kind, logdir)
        procs.append(sched)
        cold, cold_cpu = start_workers(args, sched.address, logdir, procs)
        pids = [f"scheduler={sched.pid}"] + [f"{p.name}={p.pid}" for p in procs[1:]]
        client = cvbench.Proc(f"client-{kind}-{shape}", [
            os.path.join(args.client_java_home, "bin", "java") if args.client_java_home else "java",
            *args.client_jvm.split(), "-cp", os.path.join(args.root, "bench", "target", "benchmarks.jar"),
            "org.cloudviper.bench.DeployedThroughputMain", sched.address, shape, str(args.tasks), str(args.rounds),
            *pids], logdir)
        procs.append(client)
        rc = client.popen.wait(timeout=1800)
        rounds = [json.loads(line) for line in client.log().splitlines() if line.startswith("{")]
        if rc != 0 or len(rounds) != args.rounds:
            raise RuntimeError(f"client exited with {rc} after {len(rounds)} rounds:\n{client.tail()}")
        return {"scheduler": kind, "shape": shape, "scheduler_start_s": sched_start,
                "worker_cold_start_s": cold,
                "worker_cold_start_cpu_s": cold_cpu, "rounds": rounds, "loadavg": open("/proc/loadavg").read().split()[:3]}
    finally:
        for p in reversed(procs):
            p.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedulers", nargs="+", default=["cloudviper", "dask-inf"], choices=["cloudviper", "dask-inf", "dask"])
    ap.add_argument("--shapes", nargs="+", default=["map", "tree"], choices=["map", "tree"])
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each scheduler and shape (alternating)")
    ap.add_argument("--root", default=cvbench.REPO, help="the build whose jars run (default: this checkout)")
    ap.add_argument("--plain", action="store_true", help="java -jar with --jvm-options instead of the launchers")
    ap.add_argument("--jvm-options", default="", help="JVM options of scheduler and workers (CLOUDVIPER_JVM_OPTIONS)")
    ap.add_argument("--java-home", default="", help="the JDK of scheduler and workers (default: java on PATH)")
    ap.add_argument("--client-jvm", default="-XX:+UseParallelGC -Xmx1g", help="JVM options of the client")
    ap.add_argument("--client-java-home", default="")
    ap.add_argument("--json", help="write every run here")
    args = ap.parse_args()
    args.root = os.path.abspath(args.root)
    logdir = cvbench.run_dir("deployed")
    cvbench.log("logs in", logdir)
    results = []
    for rep in range(args.repeat):
        for shape in args.shapes:
            for kind in args.schedulers:
                r = run(args, kind, shape, logdir)
                results.append(r)
                tps = [x["tasks_per_s"] for x in r["rounds"]]
                sched_cpu = [x.get("scheduler", {}).get("cpu_us_per_task") for x in r["rounds"]]
                cvbench.log(f"{kind} {shape}: tasks/s per round {tps}; from round 2 min {min(tps[1:]):,.0f} "
                            f"median {statistics.median(tps[1:]):,.0f}; scheduler CPU us/task {sched_cpu}; "
                            f"worker cold start {[round(c, 3) for c in r['worker_cold_start_s']]} s, "
                            f"CPU {r['worker_cold_start_cpu_s']} s; "
                            f"load {r['loadavg']}")
    out = {"machine": cvbench.machine(), "args": vars(args), "runs": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
