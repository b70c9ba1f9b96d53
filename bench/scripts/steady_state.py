"""Where cloudviper's scheduler CPU goes once it is warm, with the same stock Python peers as
side_by_side.py (two `dask worker --nthreads 1 --no-nanny`, Dask 2022.12.1, one client).

  syscalls   the map workload (client.map(inc, range(10000)), gather) --warm times, then once more
             with strace -c attached to the Netty event-loop thread(s), then --after times without
             it. Prints each run's wall time and the event loop's user and kernel CPU (utime and
             stime from /proc, 10 ms ticks), and the traced run's system calls per task. strace
             slows the traced run; its counts, not its times, are the figure.
  profile    the map workload --warm times, then --after runs with async-profiler (--asprof, its
             `asprof` launcher; itimer, 100 us) attached; prints the event loop's samples by
             category (kernel write/read/wait, decode, encode, state machine, server, Netty) and
             its top frames, and keeps the collapsed stacks in the run's log directory.
  placement  chains of 500 dependent inc tasks whose keys the client keeps, three times: which
             worker holds each result (client.who_has), and how often the chain changes worker.
             A chain that stays on one worker moves no data between workers, so its speed is the
             Python worker's own loop.

Usage, from the repository root after `mvn -q -B package -DskipTests`:

  /usr/bin/python3 bench/scripts/steady_state.py syscalls [--jar JAR] [--warm N] [--after N]   (defaults 4 and 2)
  /usr/bin/python3 bench/scripts/steady_state.py profile --asprof PATH/asprof [--warm N] [--after N]
  /usr/bin/python3 bench/scripts/steady_state.py placement [--jar JAR]

Every process started is stopped by pid (try/finally); logs under bench/target/runs/steady-state-*/.
"""
import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvbench  # noqa: E402


def inc(x):
    return x + 1


def event_loop_threads(pid):
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().startswith("multiThreadIoEv"):
                    out.append(tid)
        except FileNotFoundError:
            pass
    return out


def user_kernel_seconds(pid, tids):
    u = k = 0
    for tid in tids:
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            fields = f.read()
        fields = fields[fields.rindex(")") + 2:].split()
        u += int(fields[11])
        k += int(fields[12])
    return u / cvbench.CLK_TCK, k / cvbench.CLK_TCK


def map_run(client, n=10_000):
    t = time.perf_counter()
    futures = client.map(inc, range(n), pure=False)
    assert client.gather(futures)[-1] == n
    del futures
    return time.perf_counter() - t


def syscalls(client, sched, args, logdir):
    if not shutil.which("strace"):
        raise SystemExit("strace is not installed (apt-get install -y strace)")
    for i in range(args.warm):
        cvbench.log(f"warm-up run {i + 1}: {map_run(client):.2f} s")
    time.sleep(1)
    tids = event_loop_threads(sched.pid)

    def measured(label, traced=False):
        u0, k0 = user_kernel_seconds(sched.pid, tids)
        tracer = None
        if traced:
            out = os.path.join(logdir, "strace.txt")
            cmd = ["strace", "-c", "-o", out] + [a for t in tids for a in ("-p", t)]
            tracer = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
            time.sleep(1)
        try:
            wall = map_run(client)
        finally:
            if tracer:
                time.sleep(0.5)
                tracer.send_signal(signal.SIGINT)
                tracer.wait(30)
        u1, k1 = user_kernel_seconds(sched.pid, tids)
        print(f"{label}: {wall:.2f} s, {10_000 / wall:.0f} tasks/s, event loop user {u1 - u0:.2f} s "
              f"({(u1 - u0) * 100:.0f} us/task), kernel {k1 - k0:.2f} s ({(k1 - k0) * 100:.0f} us/task)")
        return out if traced else None

    report = measured("traced run", traced=True)
    for i in range(args.after):
        measured(f"untraced run {i + 1}")
    calls = {}
    with open(report) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                calls[parts[-1]] = int(parts[3])
    total = sum(calls.values())
    print(f"system calls of the event loop in the traced run: {total} ({total / 10_000:.2f} per task)")
    for name, n in sorted(calls.items(), key=lambda kv: -kv[1]):
        print(f"  {name:14s} {n:7d}  {n / 10_000:.2f} per task")


CATEGORIES = [  # first match wins, tested against the whole stack of a sample
    ("kernel: socket write", ("writev",)),
    ("kernel: socket read", ("recvfrom", "recvAddress", "readAddress", ";recv")),
    ("kernel: epoll wait", ("epollWait", "epoll_wait", "epoll_pwait")),
    ("decode", ("MessageCodec.decode", "MessageCodec$Reader")),
    ("encode", ("MessageCodec.encode",)),
    ("frame decode", ("FrameDecoder",)),
    ("state machine", ("scheduler/state/",)),
    ("server", ("scheduler/server/",)),
    ("netty", ("io/netty/",)),
]


def profile(client, sched, args, logdir):
    if not args.asprof:
        raise SystemExit("profile needs --asprof (async-profiler's asprof launcher)")
    for i in range(args.warm):
        cvbench.log(f"warm-up run {i + 1}: {map_run(client):.2f} s")
    out = os.path.join(logdir, "event-loop.collapsed")
    subprocess.run([args.asprof, "start", "-e", "itimer", "-i", "100us", "--threads", str(sched.pid)],
                   check=True)
    try:
        for i in range(args.after):
            cvbench.log(f"profiled run {i + 1}: {map_run(client):.2f} s")
    finally:
        subprocess.run([args.asprof, "stop", "-o", "collapsed", "-f", out, str(sched.pid)], check=True)
    cats, frames, total = collections.Counter(), collections.Counter(), 0
    with open(out) as f:
        for line in f:
            stack, n = line.rsplit(" ", 1)
            if "multiThreadIoEv" not in stack.split(";", 1)[0]:
                continue
            n = int(n)
            total += n
            frames[stack.rsplit(";", 1)[-1]] += n
            cats[next((c for c, marks in CATEGORIES if any(m in stack for m in marks)), "other")] += n
    print(f"event-loop samples: {total} (collapsed stacks: {out})")
    for c, n in cats.most_common():
        print(f"  {100 * n / total:5.1f} %  {c}")
    print("top frames (self):")
    for fr, n in frames.most_common(15):
        print(f"  {100 * n / total:5.1f} %  {fr}")


def placement(client):
    from dask import delayed
    for rep in range(3):
        xs = [delayed(inc)(0, dask_key_name=f"chain{rep}-0")]
        for i in range(1, 500):
            xs.append(delayed(inc)(xs[-1], dask_key_name=f"chain{rep}-{i}"))
        futures = client.compute(xs)
        t = time.perf_counter()
        client.gather(futures)
        wall = time.perf_counter() - t
        who = client.who_has(futures)
        owners = [min(who[f.key]) for f in futures]
        switches = sum(1 for a, b in zip(owners, owners[1:]) if a != b)
        counts = collections.Counter(owners).most_common()
        print(f"chain {rep + 1}: {500 / wall:.0f} tasks/s, worker changes along the chain: {switches}, "
              f"results per worker: {[n for _, n in counts]}")
        del futures
        time.sleep(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["syscalls", "profile", "placement"])
    ap.add_argument("--asprof", help="async-profiler's asprof launcher (profile mode)")
    ap.add_argument("--jar", default=cvbench.DEFAULT_JAR)
    ap.add_argument("--warm", type=int, default=4)
    ap.add_argument("--after", type=int, default=2)
    args = ap.parse_args()
    logdir = cvbench.run_dir("steady-state")
    cvbench.log("logs:", logdir)
    sched = cvbench.start_scheduler("cloudviper", logdir, jar=args.jar)
    workers = []
    client = None
    try:
        workers = [cvbench.start_worker(sched.address, f"worker-{i}", logdir) for i in range(2)]
        from distributed import Client
        client = Client(sched.address, timeout=60)
        client.wait_for_workers(2, timeout=120)
        if args.mode == "syscalls":
            syscalls(client, sched, args, logdir)
        elif args.mode == "profile":
            profile(client, sched, args, logdir)
        else:
            placement(client)
    finally:
        if client is not None:
            client.close()
        for w in workers:
            w.stop()
        sched.stop()


if __name__ == "__main__":
    main()
