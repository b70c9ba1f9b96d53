"""Scheduler memory with N queued tasks, measured end to end from outside the scheduler process.

A scheduler (Dask 2022.12.1's `dask scheduler`, or cloudviper's jar with --scheduler cloudviper),
one `dask worker --nthreads 1 --no-nanny` and this script's client run on 127.0.0.1. The client
submits `client.map(slow, range(N), pure=False)` (keys "slow-<32 hex>", as a user would write
it); `slow` marks that it started and then sleeps for an hour, so the worker's only thread is
busy and every other task stays queued on the scheduler (2022.12.1 queues root tasks by default,
worker-saturation 1.1; cloudviper queues every ready task). The first task can only start after
the scheduler has handled the whole update-graph, so "graph accepted" = the marker exists and the
scheduler's CPU time has stopped moving. The scheduler's VmRSS (and VmHWM, the peak) from
/proc/PID/status is read before the client submits and after the graph is accepted; for
cloudviper also `jcmd PID GC.heap_info` before and after a `jcmd PID GC.run`.

The client runs as a child process (this script with --submit) that submits when told and holds
its futures until it is stopped (dropping a million futures takes a client minutes). With --dask
2024 the worker, the client and Dask's scheduler are Dask 2024.12.1's, run in the trixie root
(cvbench.Trixie). --xmx none starts
cloudviper's jar with no JVM flag at all, as the README starts it.

Usage (from the repository root):
  /usr/bin/python3 bench/scripts/python_scheduler_memory.py --tasks 100000 200000
  /usr/bin/python3 bench/scripts/python_scheduler_memory.py --scheduler cloudviper --xmx 2g --tasks 1000000
  /usr/bin/python3 bench/scripts/python_scheduler_memory.py --scheduler cloudviper --xmx none --dask 2024 --tasks 1000000
  /usr/bin/python3 bench/scripts/python_scheduler_memory.py --scheduler cloudviper --launcher --xmx none --dask 2024 --tasks 1000000
Each N gets a fresh scheduler, worker and client. Logs: bench/target/runs/memory-*/.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvbench  # noqa: E402


def slow(x):
    import os, time
    open(os.environ["CVBENCH_MARKER"], "a").close()
    time.sleep(3600)


# The marker path comes from the worker's environment, not the function: the client caches a
# function's pickle (distributed.worker.dumps_function), and this keeps it small like inc's.


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} after {timeout} s")


def wait_cpu_settled(pid, quiet=0.05, period=2.0, timeout=600):
    """Until the process used less than `quiet` CPU seconds over `period` seconds."""
    deadline = time.monotonic() + timeout
    last = cvbench.cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(period)
        now = cvbench.cpu_seconds(pid)
        if now - last < quiet:
            return
        last = now
    raise TimeoutError("scheduler CPU did not settle")


def jcmd(pid, *args):
    r = subprocess.run(["jcmd", str(pid), *args], capture_output=True, text=True, timeout=120)
    return r.stdout


def heap_used_mib(heap_info):
    """(used, committed) MiB of the Java heap from GC.heap_info: G1's one line ("garbage-first heap
    total 2097152K, used 412345K [0x...") or the sum of the generations of ParallelGC ("PSYoungGen
    total 305664K, used 12345K", "ParOldGen total ..., used ...") or SerialGC ("def new generation",
    "tenured generation")."""
    m = re.search(r"heap\s+total\s+(\d+)K,\s+used\s+(\d+)K", heap_info)
    if m:
        return int(m.group(2)) / 1024, int(m.group(1)) / 1024
    gens = re.findall(r"(?:PSYoungGen|ParOldGen|def new generation|tenured generation)\s+total\s+(\d+)K,"
                      r"\s+used\s+(\d+)K", heap_info)
    if gens:
        return sum(int(u) for _, u in gens) / 1024, sum(int(t) for t, _ in gens) / 1024
    return None, None


SUBMITTED = re.compile(r"submitted after ([0-9.]+) s")


def submit(address, n):
    """--submit: the client; submits once the parent has read the scheduler's RSS, then holds its futures."""
    from distributed import Client
    client = Client(address, timeout=60)
    client.wait_for_workers(1, timeout=120)
    print("connected", flush=True)
    go = os.environ["CVBENCH_GO"]  # the parent creates it once it has read the scheduler's RSS
    wait_until(lambda: os.path.exists(go), 600, "no go")
    t0 = time.monotonic()
    futures = client.map(slow, range(n), pure=False)
    print(f"submitted after {time.monotonic() - t0:.3f} s", flush=True)
    time.sleep(3600)
    del futures


def measure(kind, n, args, logdir):
    trixie = cvbench.Trixie() if args.dask == "2024" else None
    # the worker writes the marker; in the trixie root its path is the one inside the root
    inside = trixie.inside if trixie else logdir
    marker_env = f"{inside}/started-{kind}-{n}"
    marker = (trixie.root if trixie else "") + marker_env
    procs = []
    result = {"scheduler": kind, "tasks": n, "dask": args.dask}
    try:
        sched = cvbench.start_scheduler(kind, logdir, jar=args.jar, xmx=None if args.xmx == "none" else args.xmx,
                                        jvm_args=args.jvm_arg, trixie=trixie,
                                        launcher=args.launcher)
        procs.append(sched)
        result["pid"] = sched.pid
        worker = cvbench.start_worker(sched.address, f"worker-{kind}-{n}", logdir, nthreads=1,
                                      env={"CVBENCH_MARKER": marker_env}, trixie=trixie)
        procs.append(worker)
        if trixie:
            script = trixie.copy_in(os.path.abspath(__file__))
            trixie.copy_in(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cvbench.py"))
            python = trixie.python
        else:
            script = os.path.abspath(__file__)
            python = lambda a: [cvbench.PYTHON, *a]  # noqa: E731
        go_env = f"{inside}/go-{kind}-{n}"
        submitter = cvbench.Proc(f"client-{kind}-{n}", python([script, "--submit", sched.address, "--tasks", str(n)]),
                                 logdir, env={"CVBENCH_GO": go_env})
        procs.append(submitter)
        submitter.wait_for(re.compile("connected"), timeout=180)
        time.sleep(2)
        result["rss_before_mib"] = cvbench.rss_mib(sched.pid)
        if kind == "cloudviper":
            result["heap_before"] = jcmd(sched.pid, "GC.heap_info").strip()
        cpu0 = cvbench.cpu_seconds(sched.pid)

        t0 = time.monotonic()
        open((trixie.root if trixie else "") + go_env, "w").close()
        result["client_map_s"] = float(submitter.wait_for(SUBMITTED, timeout=args.timeout).group(1))
        cvbench.log(f"[{kind} {n}] client.map returned after {result['client_map_s']:.1f} s")
        wait_until(lambda: os.path.exists(marker), args.timeout, "first task not started")
        result["first_task_started_s"] = time.monotonic() - t0
        cvbench.log(f"[{kind} {n}] first task started after {result['first_task_started_s']:.1f} s")
        wait_cpu_settled(sched.pid)
        result["accepted_and_idle_s"] = time.monotonic() - t0
        result["scheduler_cpu_s"] = cvbench.cpu_seconds(sched.pid) - cpu0
        result["rss_after_mib"] = cvbench.rss_mib(sched.pid)
        result["hwm_mib"] = cvbench.hwm_mib(sched.pid)
        result["rss_delta_mib"] = result["rss_after_mib"] - result["rss_before_mib"]
        if kind == "cloudviper":
            info = jcmd(sched.pid, "GC.heap_info").strip()
            result["heap_after"] = info
            result["heap_used_before_gc_mib"], result["heap_committed_before_gc_mib"] = heap_used_mib(info)
            with open(os.path.join(logdir, f"histogram-{n}.txt"), "w") as f:  # live objects only (forces a GC)
                f.write(jcmd(sched.pid, "GC.class_histogram"))
            jcmd(sched.pid, "GC.run")
            time.sleep(1)
            info = jcmd(sched.pid, "GC.heap_info").strip()
            result["heap_after_gc"] = info
            result["heap_used_after_gc_mib"], result["heap_committed_after_gc_mib"] = heap_used_mib(info)
            result["rss_after_gc_mib"] = cvbench.rss_mib(sched.pid)
        result["mib_per_1k_tasks"] = result["rss_delta_mib"] / n * 1000
        # logged before the clean-up: dropping a million futures can take the client minutes
        cvbench.log(json.dumps({k: v for k, v in result.items() if not k.startswith("heap_") or k.endswith("_mib")}))
        return result
    except Exception as e:  # recorded, not hidden: the caller prints it
        result["error"] = f"{type(e).__name__}: {e}"
        if procs:
            result["scheduler_log_tail"] = procs[0].tail(60)
        return result
    finally:
        for p in reversed(procs):
            p.stop()
        if trixie:
            trixie.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scheduler", choices=sorted(cvbench.SCHEDULERS), default="dask")
    ap.add_argument("--tasks", type=int, nargs="+", default=[100_000, 200_000])
    ap.add_argument("--jar", default=cvbench.DEFAULT_JAR)
    ap.add_argument("--xmx", default="2g", help="cloudviper's -Xmx")
    ap.add_argument("--timeout", type=float, default=600, help="seconds to wait for the graph")
    ap.add_argument("--json", help="append results to this file (one JSON object per line)")
    ap.add_argument("--jvm-arg", action="append", default=[],
                    help="a JVM option for cloudviper's jar, e.g. the launcher's --jvm-arg=-XX:+UseParallelGC")
    ap.add_argument("--launcher", action="store_true",
                    help="start cloudviper's jar with bin/cloudviper-scheduler, as the README does")
    ap.add_argument("--dask", choices=["2022", "2024"], default="2022",
                    help="the Dask generation of client and worker (and of --scheduler dask)")
    ap.add_argument("--submit", metavar="ADDRESS", help=argparse.SUPPRESS)  # the --dask 2024 client
    args = ap.parse_args()
    if args.submit:
        submit(args.submit, args.tasks[0])
        return

    logdir = cvbench.run_dir("memory")
    cvbench.log("logs:", logdir)
    print(json.dumps({"machine": cvbench.machine()}))
    for n in args.tasks:
        r = measure(args.scheduler, n, args, logdir)
        line = {k: v for k, v in r.items() if not k.startswith("heap_") or k.endswith("_mib")}
        print(json.dumps(line), flush=True)
        if "error" in r:
            print(r.get("scheduler_log_tail", ""), file=sys.stderr)
        else:
            print(f"{args.scheduler} (Dask {args.dask} client) {n:>9,} tasks: RSS {r['rss_before_mib']:.0f} -> {r['rss_after_mib']:.0f} MiB "
                  f"(+{r['rss_delta_mib']:.0f} MiB, peak {r['hwm_mib']:.0f} MiB), graph accepted after "
                  f"{r['first_task_started_s']:.1f} s, scheduler CPU {r['scheduler_cpu_s']:.1f} s", flush=True)
            if r.get("heap_used_after_gc_mib") is not None:
                print(f"  java heap used {r['heap_used_before_gc_mib']:.0f} MiB -> after GC.run "
                      f"{r['heap_used_after_gc_mib']:.0f} MiB (committed {r['heap_committed_after_gc_mib']:.0f} MiB), "
                      f"RSS after GC {r['rss_after_gc_mib']:.0f} MiB", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
