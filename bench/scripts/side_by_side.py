"""Side by side: Dask 2022.12.1's scheduler (default, and with worker-saturation inf) and
cloudviper's, each driving the same stock Python workers and client.

For each scheduler: start it on 127.0.0.1, two `dask worker --nthreads 1 --no-nanny`, and a
distributed.Client in this process; then run

  map       client.map(inc, range(10000), pure=False), gather             10,000 tasks
  tree      dask.delayed binary add-tree over 5,000 inc leaves, compute    9,999 tasks
  chain     2,000 dependent dask.delayed inc calls, compute                 2,000 tasks

each twice (--runs) on the same scheduler process and report the last (warmed-up) run: wall time from
submission to result (the graphs are built before the clock starts; client-side optimisation,
serialisation and result transfer are inside it, alike for every scheduler), tasks/s, and the
scheduler process's CPU seconds (utime+stime of all its threads from /proc/PID/stat: for java
that includes JIT and GC threads). Then

  latency   500 sequential client.submit(inc, i, pure=False).result() round trips (after 50
            unmeasured ones): p50/p99; for cloudviper also its own added latency per event-loop
            turn over those round trips (its cloudviper_latency RPC)
  gather    16 results of 64 MiB (random uint8 numpy arrays made on the workers) fetched with
            client.gather(futures, direct=False), i.e. relayed through the scheduler; twice (or
            --gather-runs times), the last reported: MiB/s and scheduler CPU seconds

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


def gather(client, pid, count=16, timeout=TIMEOUT, kind="", runs_wanted=2):
    from distributed import wait
    futures = client.map(make, range(count), pure=False)
    wait(futures, timeout=TIMEOUT)
    runs = []
    for i in range(runs_wanted):
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
    return {"first": runs[0], "runs": runs, **runs[-1]}


def wait_idle(pid, quiet=0.05, period=1.0, timeout=120):
    """Waits until the scheduler used less than `quiet` CPU seconds over `period` (releases done)."""
    deadline = time.monotonic() + timeout
    c = cvbench.cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(period)
        c, prev = cvbench.cpu_seconds(pid), c
        if c - prev < quiet:
            return
    cvbench.log(f"scheduler pid {pid} still busy after {timeout} s")


def ingest_graph(client, shape, n, tag):
    """Submits one N-task graph as make_corpus.py --large builds it; returns (futures, first):
    the client's futures and those whose completion means the first task ran."""
    from distributed import wait  # noqa: F401
    if shape == "map":
        futures = client.map(inc, range(n), pure=False)
        return futures, futures
    if shape == "tasks":  # dask._task_spec Task nodes, each an Alias to the previous key (2024 only)
        from dask._task_spec import Alias, Task
        keys = [f"chain{tag}-{i}" for i in range(n)]
        dsk = {keys[0]: Task(keys[0], inc, 0)}
        for i in range(1, n):
            dsk[keys[i]] = Task(keys[i], add, Alias(keys[i - 1]), i)
        fs = client._graph_to_futures(dsk, [keys[0], keys[-1]], span_metadata={"collections": []})
        futures = [fs[keys[0]], fs[keys[-1]]]
        return futures, futures[:1]
    # legacy tuple tasks, as dask.delayed graphs are
    dsk = {f"d{tag}-0": (inc, 0)}
    for i in range(1, n):
        dsk[f"d{tag}-{i}"] = (add, f"d{tag}-{i - 1}", i)
    futures = client.get(dsk, [f"d{tag}-0", f"d{tag}-{n - 1}"], sync=False)
    return futures, futures[:1]


def ingest(client, pid, n, shapes, kind, runs=2):
    """Time from handing a large graph to the client until its first task has finished on a worker
    (client-side graph building excluded, pickling and sending included), the scheduler's CPU
    seconds over that time, and for Dask the scheduler's own update-graph timings (its
    "update-graph" event: from the handler's start, i.e. after the message is read, to task
    states created; materialization = unpickling + _materialize_graph)."""
    from distributed import wait
    out = {}
    for shape in shapes:
        rs = []
        for r in range(runs):
            wait_idle(pid)
            tag = f"{int(time.time() * 1000)}{r}"
            c0 = cvbench.cpu_seconds(pid)
            t0 = time.perf_counter()
            futures, first = ingest_graph(client, shape, n, tag)
            t_call = time.perf_counter() - t0
            wait(first, timeout=TIMEOUT, return_when="FIRST_COMPLETED")
            wall = time.perf_counter() - t0
            cpu = cvbench.cpu_seconds(pid) - c0
            res = {"tasks": n, "submit_call_s": t_call, "first_task_done_s": wall, "scheduler_cpu_s": cpu}
            if kind.startswith("dask"):
                try:
                    evs = [e for _, e in client.get_events(client.id)
                           if isinstance(e, dict) and e.get("action") == "update-graph"]
                    m = evs[-1].get("metrics", {}) if evs else {}
                    res["dask_update_graph_s"] = m.get("duration_seconds")
                    res["dask_materialization_s"] = m.get("materialization_duration_seconds")
                except Exception as e:
                    res["dask_update_graph_error"] = f"{type(e).__name__}: {e}"
            client.cancel(futures)
            del futures, first
            rs.append(res)
            cvbench.log(f"[{kind}] ingest {shape} {n}: first task done after {wall:.2f} s "
                        f"(submit call {t_call:.2f} s), scheduler CPU {cpu:.2f} s"
                        + (f", Dask update-graph {res['dask_update_graph_s']:.2f} s (materialize "
                           f"{res['dask_materialization_s']:.2f} s)" if res.get("dask_update_graph_s") else ""))
        out[shape] = {"first": rs[0], **rs[-1]}
    wait_idle(pid)
    return out


def drive(address, pid, kind, args):
    """The client part of one scheduler's run: workloads and extras against the scheduler at
    `address` (pid: its process, for CPU). Returns {"workloads", "errors", ...}; runs in this
    process (2022) or in the trixie root's python as `--drive` (2024)."""
    from distributed import Client

    out = {"scheduler": kind, "workloads": {}, "errors": {}}
    client = Client(address, timeout=60)
    try:
        client.wait_for_workers(2, timeout=120)
        import distributed
        out["client_distributed"] = distributed.__version__
        cvbench.log(f"[{kind}] scheduler pid {pid} at {address}, 2 workers, client distributed {distributed.__version__}")

        def attempt(name, fn):
            try:
                return fn()
            except (Exception, KeyboardInterrupt) as e:  # Ctrl-C skips a stuck step, keeps the rest
                out["errors"][name] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                                       "scheduler_alive": os.path.exists(f"/proc/{pid}")}
                cvbench.log(f"[{kind}] {name} FAILED: {type(e).__name__}: {e}")
                return None

        for name in args.workloads:
            def one(name=name):
                runs = []
                for _ in range(args.runs):
                    run, tasks = WORKLOADS[name](client)
                    wall, cpu, threads = timed(pid, run)
                    runs.append({"tasks": tasks, "wall_s": wall, "tasks_per_s": tasks / wall,
                                 "scheduler_cpu_s": cpu, "scheduler_cpu_per_task_us": 1e6 * cpu / tasks,
                                 "scheduler_cpu_by_thread_s": threads})
                    time.sleep(1)  # let releases of the previous run finish outside the clock
                return {"first": runs[0], "runs": runs, **runs[-1]}
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
            r = attempt("gather", lambda: gather(client, pid, args.gather_count, args.gather_timeout, kind,
                                                            args.gather_runs))
            if r:
                out["gather"] = r
                cvbench.log(f"[{kind}] gather {r['mib_per_s']:.0f} MiB/s, scheduler CPU {r['scheduler_cpu_s']:.2f} s")
        if "ingest" in args.extras:
            shapes = [s for s in args.ingest_shapes if s != "tasks" or args.dask == "2024"]
            r = attempt("ingest", lambda: ingest(client, pid, args.ingest_tasks, shapes, kind))
            if r:
                out["ingest"] = r
        alive = os.path.exists(f"/proc/{pid}")
        out["scheduler_rss_end_mib"] = cvbench.rss_mib(pid) if alive else None
        out["scheduler_cpu_total_s"] = cvbench.cpu_seconds(pid) if alive else None
    finally:
        try:
            client.close(timeout=10)
        except Exception:
            pass
    return out


def drive_in_trixie(trixie, sched, kind, args, logdir):
    """Runs drive() in the trixie root's python (its distributed is the 2024.12.1 client) as a child
    process; the result comes back as a JSON file in the scratch directory."""
    here = os.path.dirname(os.path.abspath(__file__))
    trixie.copy_in(os.path.join(here, "cvbench.py"))
    script = trixie.copy_in(os.path.join(here, "side_by_side.py"))
    result = f"{trixie.inside}/result-{kind}.json"
    cmd = trixie.python([script, "--drive", sched.address, "--pid", str(sched.pid), "--kind", kind,
                         "--dask", "2024", "--json", result, "--workloads", *args.workloads,
                         "--extras", *args.extras, "--gather-count", str(args.gather_count),
                         "--gather-runs", str(args.gather_runs), "--runs", str(args.runs),
                         "--latency-warm", str(args.latency_warm),
                         "--gather-timeout", str(args.gather_timeout), "--ingest-tasks", str(args.ingest_tasks),
                         "--ingest-shapes", *args.ingest_shapes])
    driver = cvbench.Proc("driver-" + kind, cmd, logdir)
    try:
        while driver.alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        cvbench.log(f"[{kind}] driver interrupted")
    finally:
        driver.stop()
    sys.stderr.write(driver.log())
    try:
        with open(trixie.root + result) as f:
            return json.load(f)
    except FileNotFoundError:
        raise RuntimeError(f"driver exited with {driver.popen.returncode} without a result:\n{driver.tail()}")


def run_scheduler(kind, args, logdir, trixie=None):
    out = {"scheduler": kind, "workloads": {}, "errors": {}}
    procs = []
    try:
        sched = cvbench.start_scheduler(kind, logdir, jar=args.jar, xmx=args.xmx, jvm_args=args.jvm_arg,
                                        trixie=trixie)
        procs.append(sched)
        for i in range(2):
            procs.append(cvbench.start_worker(sched.address, f"{kind}-worker-{i}", logdir, nthreads=1,
                                              trixie=trixie))
        out = drive_in_trixie(trixie, sched, kind, args, logdir) if trixie else drive(sched.address, sched.pid,
                                                                                      kind, args)
        for e in out["errors"].values():
            e["scheduler_log_tail"] = sched.tail(60)
    except Exception as e:
        out["errors"]["setup"] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                                  "scheduler_log_tail": procs[0].tail(60) if procs else ""}
    finally:
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
                b = a.get("before_writes")
                if b:
                    print(f"          {'':<16} the same turns up to the first socket write: "
                          f"p50 {b['p50_us']:.0f} us  p99 {b['p99_us']:.0f} us  max {b['max_us']:.0f} us")
        if "gather" in r:
            g = r["gather"]
            print(f"gather    {r['scheduler']:<16} {g['mib']:.0f} MiB in {g['wall_s']:.2f} s = {g['mib_per_s']:.0f} MiB/s, "
                  f"scheduler CPU {g['scheduler_cpu_s']:.2f} s")
        for shape, g in r.get("ingest", {}).items():
            dask_part = (f"  Dask update-graph {g['dask_update_graph_s']:.2f} s (materialization "
                         f"{g['dask_materialization_s']:.2f} s)" if g.get("dask_update_graph_s") is not None else "")
            print(f"ingest    {r['scheduler']:<16} {shape} {g['tasks']}: first task done {g['first_task_done_s']:.2f} s "
                  f"(first run {g['first']['first_task_done_s']:.2f} s), scheduler CPU {g['scheduler_cpu_s']:.2f} s"
                  + dask_part)
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
    ap.add_argument("--dask", choices=["2022", "2024"], default="2022",
                    help="Dask generation of the Python scheduler, workers and client: 2022 = /usr/bin/python3's "
                         "2022.12.1; 2024 = 2024.12.1 from the trixie root ($DASK_TRIXIE_ROOT, default "
                         "/work/main/.cache/dask-trixie)")
    ap.add_argument("--extras", nargs="*", default=["latency", "gather"], choices=["latency", "gather", "ingest"])
    ap.add_argument("--ingest-tasks", type=int, default=100_000, help="tasks per ingest graph")
    ap.add_argument("--ingest-shapes", nargs="+", default=["map", "delayed", "tasks"],
                    choices=["map", "delayed", "tasks"], help="ingest graphs (tasks: 2024 only)")
    ap.add_argument("--drive", metavar="ADDRESS", help=argparse.SUPPRESS)  # internal: the 2024 client process
    ap.add_argument("--pid", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--kind", help=argparse.SUPPRESS)
    ap.add_argument("--jar", default=cvbench.DEFAULT_JAR)
    ap.add_argument("--xmx", default="2g", help="cloudviper's -Xmx")
    ap.add_argument("--jvm-arg", action="append", default=[], help="extra JVM option for cloudviper (repeatable)")
    ap.add_argument("--runs", type=int, default=2,
                    help="runs of each workload on the same scheduler process; the last is reported (the issue's "
                         "measure is the second: 2)")
    ap.add_argument("--latency-warm", type=int, default=50,
                    help="unmeasured round trips before the 500 measured ones")
    ap.add_argument("--gather-count", type=int, default=16, help="64 MiB results to gather")
    ap.add_argument("--gather-runs", type=int, default=2,
                    help="gathers of the same futures per scheduler; the last is reported")
    ap.add_argument("--gather-timeout", type=float, default=300, help="seconds before a gather counts as failed")
    ap.add_argument("--json", help="write all results here (rewritten after each scheduler)")
    args = ap.parse_args()
    if args.drive:  # inside the trixie root: the client side only, result as JSON
        out = drive(args.drive, args.pid, args.kind, args)
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        return

    logdir = cvbench.run_dir("side-by-side")
    cvbench.log("logs:", logdir)
    m = cvbench.machine()
    m["dask"] = args.dask
    print("machine:", json.dumps(m))
    results = []
    trixie = cvbench.Trixie() if args.dask == "2024" else None
    try:
        for kind in args.schedulers:
            results.append(run_scheduler(kind, args, logdir, trixie))
            if args.json:
                with open(args.json, "w") as f:
                    json.dump({"machine": m, "results": results, "logs": logdir, "partial": True}, f, indent=1)
    finally:
        if trixie:
            trixie.close()
    m["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    print(f"Dask {args.dask}; load average at start {' '.join(m['loadavg'])}, at end {' '.join(m['loadavg_end'])}")
    ratios = report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": m, "results": results, "ratios": ratios, "logs": logdir}, f, indent=1)


if __name__ == "__main__":
    main()
