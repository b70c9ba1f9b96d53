"""Issue #4 benchmarks with real Python peers (run with /usr/bin/python3 = Dask 2022.12.1).

  noop    : a stock Python client submits N no-op Java tasks (cloudviper.tasks.noop) to cloudviper's
            scheduler with two Java workers; reports tasks/s and the client's own CPU per task.
  getdata : a 256 MiB float64 array over get_data:
              Java worker   -> Python client  (client.gather(direct=True))
              Python worker -> Python client  (client.gather(direct=True))
              Python worker -> Java worker    (a Java noop task on the Java worker depending on it)
              Python worker -> Python worker  (a Python task on another Python worker depending on it)
            (the last two time the dependent task from submit to result: transfer + scheduling)
            under cloudviper's scheduler; each transfer repeated, best and median reported.

Needs `mvn -pl scheduler,worker -am package` (the two CLI jars). Every process started here is
stopped by pid at the end, also on failure.

  /usr/bin/python3 bench/scripts/java_tasks.py noop --tasks 100000 --threads 1
  /usr/bin/python3 bench/scripts/java_tasks.py getdata --repeat 5
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

sys.path.insert(0, os.path.join(cvbench.REPO, "worker", "python"))
WORKER_JAR = os.path.join(cvbench.REPO, "worker", "target", "cloudviper-worker.jar")
REGISTERED = re.compile(r"Registered to:")
PY_WORKER_AT = re.compile(r"Start worker at:\s+(tcp://\S+)")
JAVA_WORKER_AT = re.compile(r"Start worker at:\s+(tcp://\S+)")
ARRAY_N = 32 * 1024 * 1024  # float64 -> 256 MiB


def start_java_worker(address, name, logdir, nthreads=1, xmx="2g"):
    p = cvbench.Proc(name, ["java", f"-Xmx{xmx}", "-jar", WORKER_JAR, address, "--nthreads", str(nthreads),
                            "--name", name, "--memory-limit", "4GiB"], logdir)
    try:
        p.address = p.wait_for(JAVA_WORKER_AT).group(1)
        p.wait_for(REGISTERED)
    except BaseException:
        p.stop()
        raise
    return p


def start_py_worker(address, name, logdir):
    p = cvbench.start_worker(address, name, logdir, env={"PYTHONPATH": os.path.join(cvbench.REPO, "worker", "python")})
    try:
        p.address = p.wait_for(PY_WORKER_AT).group(1)
    except BaseException:
        p.stop()
        raise
    return p


def noop(args, logdir, procs):
    from distributed import Client, wait
    import cloudviper.tasks as cv
    sched = cvbench.start_scheduler("cloudviper", logdir, extra_args=args.scheduler_args)
    procs.append(sched)
    for i in range(2):
        procs.append(start_java_worker(sched.address, f"java-{i}", logdir, args.threads))
    results = []
    with Client(sched.address, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        for r in range(args.rounds):
            c0, s0 = time.process_time(), cvbench.cpu_seconds(sched.pid)
            t0 = time.perf_counter()
            futures = client.map(cv.noop, range(args.tasks), pure=False)
            t_sub = time.perf_counter()
            wait(futures, timeout=600)
            wall = time.perf_counter() - t0
            cpu = time.process_time() - c0
            scpu = cvbench.cpu_seconds(sched.pid) - s0
            bad = [f for f in futures if f.status != "finished"]
            assert not bad, f"{len(bad)} tasks did not finish, e.g. {bad[0]}: {bad[0].exception()}"
            del futures
            row = {"round": r, "tasks": args.tasks, "wall_s": round(wall, 3), "submit_s": round(t_sub - t0, 3),
                   "tasks_per_s": round(args.tasks / wall), "client_cpu_s": round(cpu, 3),
                   "client_cpu_us_per_task": round(cpu / args.tasks * 1e6, 1),
                   "scheduler_cpu_us_per_task": round(scpu / args.tasks * 1e6, 1)}
            cvbench.log(json.dumps(row))
            results.append(row)
            time.sleep(2)
    return results


def consume(a):
    """A Python task that needs the array on its worker (get_data from the peer), returns nothing."""
    return None


def getdata(args, logdir, procs):
    from distributed import Client, wait
    import numpy as np
    import cloudviper.tasks as cv
    sched = cvbench.start_scheduler("cloudviper", logdir)
    procs.append(sched)
    jw = start_java_worker(sched.address, "java-0", logdir)
    procs.append(jw)
    pw = start_py_worker(sched.address, "py-0", logdir)
    procs.append(pw)
    pw2 = start_py_worker(sched.address, "py-1", logdir)
    procs.append(pw2)
    out = {}
    nbytes = ARRAY_N * 8
    with Client(sched.address, timeout=60) as client:
        client.wait_for_workers(3, timeout=60)
        on_java = client.submit(cv.arange_f64, ARRAY_N, workers=[jw.address], pure=False)
        on_py = client.submit(np.arange, ARRAY_N, dtype="f8", workers=[pw.address], pure=False)
        wait([on_java, on_py], timeout=120)

        def timed(name, fn):
            runs = []
            for i in range(args.repeat):
                t0 = time.perf_counter()
                fn()
                runs.append(time.perf_counter() - t0)
            mibs = [nbytes / 2**20 / s for s in runs]
            out[name] = {"best_mib_s": round(max(mibs)), "median_mib_s": round(statistics.median(mibs)),
                         "runs_s": [round(s, 3) for s in runs]}
            cvbench.log(name, json.dumps(out[name]))

        def gather(f):
            def run():
                a = client.gather(f, direct=True)
                assert a.nbytes == nbytes and a[-1] == ARRAY_N - 1
                del a
            return run

        def timed_fetch(name, fn, worker):
            # a fresh array per round (made and waited for before the clock starts), so the consumer
            # never already holds a replica
            runs = []
            for i in range(args.repeat):
                dep = client.submit(np.arange, ARRAY_N, dtype="f8", workers=[pw.address], pure=False)
                wait(dep, timeout=120)
                t0 = time.perf_counter()
                t = client.submit(fn, dep, workers=[worker], pure=False, allow_other_workers=False)
                assert t.result(timeout=120) is None
                runs.append(time.perf_counter() - t0)
                del t, dep
                time.sleep(0.5)
            mibs = [nbytes / 2**20 / s for s in runs]
            out[name] = {"best_mib_s": round(max(mibs)), "median_mib_s": round(statistics.median(mibs)),
                         "runs_s": [round(s, 3) for s in runs]}
            cvbench.log(name, json.dumps(out[name]))

        timed("java_worker_to_python_client", gather(on_java))
        timed("python_worker_to_python_client", gather(on_py))
        timed_fetch("python_worker_to_java_worker", cv.noop, jw.address)
        timed_fetch("python_worker_to_python_worker", consume, pw2.address)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["noop", "getdata"])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="threads per Java worker (noop)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scheduler-args", nargs="*", default=[])
    args = ap.parse_args()
    logdir = cvbench.run_dir("java-tasks-" + args.what)
    procs = []
    started = {"machine": cvbench.machine()}
    try:
        res = noop(args, logdir, procs) if args.what == "noop" else getdata(args, logdir, procs)
    finally:
        for p in reversed(procs):
            p.stop()
    print(json.dumps({"what": args.what, "args": vars(args), "start": started,
                      "end_loadavg": open("/proc/loadavg").read().split()[:3], "results": res}, indent=1))
    cvbench.log("logs in", logdir)


if __name__ == "__main__":
    main()
