"""Side by side: Dask 2022.12.1's scheduler (default, and with worker-saturation inf) and
cloudviper's, each driving the same stock Python workers and client.

For each scheduler: start it on 127.0.0.1, two `dask worker --nthreads 1 --no-nanny`, and a
distributed.Client in this process; then run

  map       client.map(inc, range(10000), pure=False), gather             10,000 tasks
  tree      dask.delayed binary add-tree over 5,000 inc leaves, compute    9,999 tasks
  chain     2,000 dependent dask.delayed inc calls, compute                 2,000 tasks

each twice on the same scheduler process and report the second (warmed-up) run: wall time from
submission to result (the graphs are built before the clock starts; client-side optimisation,
serialisation and result transfer are inside it, alike for every scheduler), tasks/s, and the
scheduler process's CPU seconds (utime+stime of all its threads from /proc/PID/stat: for java
that includes JIT and GC threads). Then

  latency   500 sequential client.submit(inc, i, pure=False).result() round trips (after 50
            unmeasured ones): p50/p99; for cloudviper also its own added latency per event-loop
            turn over those round trips (its cloudviper_latency RPC)
  gather    16 results of 64 MiB (random uint8 numpy arrays made on the workers) fetched with
            client.gather(futures, direct=False), i.e. relayed through the scheduler; twice, the
            second reported: MiB/s and scheduler CPU seconds

Every process started is stopped by pid (try/finally). Usage, from the repository root after
`mvn -q -B package -DskipTests`:

  /usr/bin/python3 bench/scripts/side_by_side.py [--schedulers dask dask-inf cloudviper]
      [--xmx 2g] [--json results.json]

`--schedulers ... cloudviper-inf` adds cloudviper with --worker-saturation inf. For java the CPU
figures are also split by thread (JIT compiler threads, GC, the Netty event loop, other).

Logs of every process: bench/target/runs/side-by-side-*/.
"""
import argparse
import json
import os
import statistics
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvbench  # noqa: E402

TIMEOUT = 300


def inc(x):
    return x + 1


def add(x, y):
    return x + y


def make(i):
    import numpy as np
    return np.random.default_rng(i).integers(0, 256, size=64 << 20, dtype=np.uint8)


# ---- workloads: build(client) returns (run() -> None, tasks) with the graph built outside run ----

def build_map(client):
    def run():
        from distributed import wait
        futures = client.map(inc, range(10_000), pure=False)
        wait(futures, timeout=TIMEOUT)
        results = client.gather(futures)
        assert results[-1] == 10_000
    return run, 10_000


def build_tree(client):
    from dask import delayed
    level = [delayed(inc)(i) for i in range(5_000)]
    tasks = len(level)
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level), 2):
            if i + 1 < len(level):
                nxt.append(delayed(add)(level[i], level[i + 1]))
                tasks += 1
            else:
                nxt.append(level[i])
        level = nxt
    total = level[0]

    def run():
        assert client.compute(total).result(timeout=TIMEOUT) == sum(range(1, 5_001))
    return run, tasks


def build_chain(client):
    from dask import delayed
    x = delayed(inc)(0)
    for _ in range(1_999):
        x = delayed(inc)(x)

    def run():
        assert client.compute(x).result(timeout=TIMEOUT) == 2_000
    return run, 2_000


WORKLOADS = {"map": build_map, "tree": build_tree, "chain": build_chain}


def timed(pid, fn):
    c0, g0 = cvbench.cpu_seconds(pid), cvbench.thread_cpu(pid)
    t0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    g1 = cvbench.thread_cpu(pid)
    return wall, cvbench.cpu_seconds(pid) - c0, {k: round(g1[k] - g0[k], 2) for k in g0}


def latency(client, pid, n=500, warm=50, cloudviper=False):
    samples = []
    c0 = None
    for i in range(warm + n):
        if i == warm:
            c0 = cvbench.cpu_seconds(pid)
            if cloudviper:  # the scheduler's own added latency per loop turn, from its recorder
                client.sync(client.scheduler.cloudviper_latency, reset=True)
        t0 = time.perf_counter()
        assert client.submit(inc, i, pure=False).result(timeout=60) == i + 1
        if i >= warm:
            samples.append(time.perf_counter() - t0)
    cpu = cvbench.cpu_seconds(pid) - c0
    added = client.sync(client.scheduler.cloudviper_latency, reset=False) if cloudviper else None
    samples.sort()
    return {"scheduler_added_latency": added, "n": n, "p50_ms": 1000 * samples[n // 2], "p99_ms": 1000 * samples[int(n * 0.99) - 1],
            "mean_ms": 1000 * statistics.fmean(samples), "scheduler_cpu_per_rt_ms": 1000 * cpu / n}


def gather(client, pid, count=16, timeout=TIMEOUT, kind=""):
    from distributed import wait
    futures = client.map(make, range(count), pure=False)
    wait(futures, timeout=TIMEOUT)
    runs = []
    for i in range(2):
        c0, g0 = cvbench.cpu_seconds(pid), cvbench.thread_cpu(pid)
        t0 = time.perf_counter()
        # client.gather(futures, direct=False) with a deadline
        res = client.sync(client._gather, futures, direct=False, callback_timeout=timeout)
        wall = time.perf_counter() - t0
        cpu = cvbench.cpu_seconds(pid) - c0
        nbytes = sum(r.nbytes for r in res)
        assert nbytes == count * (64 << 20)
        del res
        g1 = cvbench.thread_cpu(pid)
        runs.append({"wall_s": wall, "mib": nbytes / 2**20, "mib_per_s": nbytes / 2**20 / wall,
                     "scheduler_cpu_s": cpu, "scheduler_cpu_by_thread_s": {k: round(g1[k] - g0[k], 2) for k in g0}})
        cvbench.log(f"[{kind}] gather run {i}: {wall:.2f} s, scheduler CPU {cpu:.2f} s")
        time.sleep(1)
    del futures
    return {"first": runs[0], **runs[1]}


def run_scheduler(kind, args, logdir):
    from distributed import Client

    out = {"scheduler": kind, "workloads": {}, "errors": {}}
    procs = []
    client = None
    try:
        sched = cvbench.start_scheduler(kind, logdir, jar=args.jar, xmx=args.xmx, jvm_args=args.jvm_arg)
        procs.append(sched)
        pid = sched.pid
        for i in range(2):
            procs.append(cvbench.start_worker(sched.address, f"{kind}-worker-{i}", logdir, nthreads=1))
        client = Client(sched.address, timeout=60)
        client.wait_for_workers(2, timeout=120)
        cvbench.log(f"[{kind}] scheduler pid {pid} at {sched.address}, 2 workers")

        def attempt(name, fn):
            try:
                return fn()
            except (Exception, KeyboardInterrupt) as e:  # Ctrl-C skips a stuck step, keeps the rest
                out["errors"][name] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                                       "scheduler_log_tail": sched.tail(60),
                                       "scheduler_alive": sched.alive()}
                cvbench.log(f"[{kind}] {name} FAILED: {type(e).__name__}: {e}")
                return None

        for name in args.workloads:
            def one(name=name):
                runs = []
                for _ in range(2):
                    run, tasks = WORKLOADS[name](client)
                    wall, cpu, threads = timed(pid, run)
                    runs.append({"tasks": tasks, "wall_s": wall, "tasks_per_s": tasks / wall,
                                 "scheduler_cpu_s": cpu, "scheduler_cpu_per_task_us": 1e6 * cpu / tasks,
                                 "scheduler_cpu_by_thread_s": threads})
                    time.sleep(1)  # let releases of the previous run finish outside the clock
                return {"first": runs[0], **runs[1]}
            r = attempt(name, one)
            if r:
                out["workloads"][name] = r
                cvbench.log(f"[{kind}] {name}: {r['tasks_per_s']:.0f} tasks/s, "
                            f"scheduler CPU {r['scheduler_cpu_s']:.2f} s")
        if "latency" in args.extras:
            r = attempt("latency", lambda: latency(client, pid, warm=args.latency_warm,
                                                  cloudviper=kind.startswith("cloudviper")))
            if r:
                out["latency"] = r
                cvbench.log(f"[{kind}] latency p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms")
        if "gather" in args.extras:
            r = attempt("gather", lambda: gather(client, pid, args.gather_count, args.gather_timeout, kind))
            if r:
                out["gather"] = r
                cvbench.log(f"[{kind}] gather {r['mib_per_s']:.0f} MiB/s, scheduler CPU {r['scheduler_cpu_s']:.2f} s")
        out["scheduler_rss_end_mib"] = cvbench.rss_mib(pid) if sched.alive() else None
        out["scheduler_cpu_total_s"] = cvbench.cpu_seconds(pid) if sched.alive() else None
    except Exception as e:
        out["errors"]["setup"] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                                  "scheduler_log_tail": procs[0].tail(60) if procs else ""}
    finally:
        if client is not None:
            try:
                client.close(timeout=10)
            except Exception:
                pass
        for p in reversed(procs):
            p.stop()
    return out


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def fmt(x, spec):
    return format(x, spec) if x is not None else "-"


def report(results):
    by = {r["scheduler"]: r for r in results}
    print()
    print(f"{'workload':<10}{'scheduler':<16}{'wall s':>9}{'tasks/s':>10}{'sched CPU s':>13}{'CPU us/task':>13}"
          f"{'  of which JIT s':>17}")
    for name in WORKLOADS:
        for r in results:
            w = r["workloads"].get(name)
            if w:
                jit = w["scheduler_cpu_by_thread_s"]["jit"]
                print(f"{name:<10}{r['scheduler']:<16}{w['wall_s']:>9.2f}{w['tasks_per_s']:>10.0f}"
                      f"{w['scheduler_cpu_s']:>13.2f}{w['scheduler_cpu_per_task_us']:>13.1f}"
                      f"{(format(jit, '.2f') if r['scheduler'].startswith('cloudviper') else '-'):>17}")
            elif name in r["errors"]:
                print(f"{name:<10}{r['scheduler']:<16}  FAILED: {r['errors'][name]['error'][:80]}")
    for r in results:
        if "latency" in r:
            l = r["latency"]
            print(f"latency   {r['scheduler']:<16} p50 {l['p50_ms']:.2f} ms  p99 {l['p99_ms']:.2f} ms  "
                  f"mean {l['mean_ms']:.2f} ms  scheduler CPU {l['scheduler_cpu_per_rt_ms']:.3f} ms/round trip")
            if l.get("scheduler_added_latency"):
                a = l["scheduler_added_latency"]
                print(f"          {'':<16} scheduler's own added latency per loop turn (cloudviper_latency, "
                      f"{a['count']} turns): p50 {a['p50_us']:.0f} us  p99 {a['p99_us']:.0f} us  max {a['max_us']:.0f} us")
        if "gather" in r:
            g = r["gather"]
            print(f"gather    {r['scheduler']:<16} {g['mib']:.0f} MiB in {g['wall_s']:.2f} s = {g['mib_per_s']:.0f} MiB/s, "
                  f"scheduler CPU {g['scheduler_cpu_s']:.2f} s")
    ratios = {}
    for cvk in ("cloudviper", "cloudviper-inf"):
        cv = by.get(cvk)
        if not cv:
            continue
        print(f"\n{cvk} vs each Dask mode")
        for kind in ("dask", "dask-inf"):
            d = by.get(kind)
            if not d:
                continue
            rr = {}
            for name in WORKLOADS:
                a, b = cv["workloads"].get(name), d["workloads"].get(name)
                if a and b:
                    rr[name] = {"tasks_per_s_ratio": ratio(a["tasks_per_s"], b["tasks_per_s"]),
                                "cpu_per_task_ratio": ratio(a["scheduler_cpu_per_task_us"],
                                                            b["scheduler_cpu_per_task_us"])}
                    print(f"  {name:<7} vs {kind:<9} tasks/s x{rr[name]['tasks_per_s_ratio']:.2f}   "
                          f"scheduler CPU/task x{fmt(rr[name]['cpu_per_task_ratio'], '.3f')} "
                          f"(1/{fmt(ratio(1, rr[name]['cpu_per_task_ratio']), '.1f')})")
            if "gather" in cv and "gather" in d:
                rr["gather"] = {"mib_per_s_ratio": ratio(cv["gather"]["mib_per_s"], d["gather"]["mib_per_s"]),
                                "cpu_ratio": ratio(cv["gather"]["scheduler_cpu_s"], d["gather"]["scheduler_cpu_s"])}
                print(f"  gather  vs {kind:<9} MiB/s x{rr['gather']['mib_per_s_ratio']:.2f}   "
                      f"scheduler CPU x{fmt(rr['gather']['cpu_ratio'], '.3f')} "
                      f"(1/{fmt(ratio(1, rr['gather']['cpu_ratio']), '.1f')})")
            if "latency" in cv and "latency" in d:
                rr["latency"] = {"p50_ratio": ratio(cv["latency"]["p50_ms"], d["latency"]["p50_ms"]),
                                 "p99_ratio": ratio(cv["latency"]["p99_ms"], d["latency"]["p99_ms"])}
                print(f"  latency vs {kind:<9} p50 x{rr['latency']['p50_ratio']:.2f}  p99 x{rr['latency']['p99_ratio']:.2f}")
            ratios[f"{cvk} vs {kind}"] = rr
    for r in results:
        for name, e in r["errors"].items():
            print(f"\n!! {r['scheduler']} {name}: {e['error']}\n--- scheduler log tail ---\n{e['scheduler_log_tail']}")
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedulers", nargs="+", default=["dask", "dask-inf", "cloudviper"],
                    choices=sorted(cvbench.SCHEDULERS))
    ap.add_argument("--workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    ap.add_argument("--extras", nargs="*", default=["latency", "gather"], choices=["latency", "gather"])
    ap.add_argument("--jar", default=cvbench.DEFAULT_JAR)
    ap.add_argument("--xmx", default="2g", help="cloudviper's -Xmx")
    ap.add_argument("--jvm-arg", action="append", default=[], help="extra JVM option for cloudviper (repeatable)")
    ap.add_argument("--latency-warm", type=int, default=50,
                    help="unmeasured round trips before the 500 measured ones")
    ap.add_argument("--gather-count", type=int, default=16, help="64 MiB results to gather")
    ap.add_argument("--gather-timeout", type=float, default=300, help="seconds before a gather counts as failed")
    ap.add_argument("--json", help="write all results here (rewritten after each scheduler)")
    args = ap.parse_args()

    logdir = cvbench.run_dir("side-by-side")
    cvbench.log("logs:", logdir)
    m = cvbench.machine()
    print("machine:", json.dumps(m))
    results = []
    for kind in args.schedulers:
        results.append(run_scheduler(kind, args, logdir))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"machine": m, "results": results, "logs": logdir, "partial": True}, f, indent=1)
    ratios = report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": m, "results": results, "ratios": ratios, "logs": logdir}, f, indent=1)


if __name__ == "__main__":
    main()
