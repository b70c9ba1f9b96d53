"""A scheduler with nothing to do (issue #13, target 5): its CPU over --seconds (default 60) with a
stock Dask 2022.12.1 client and two `dask worker --nthreads 1 --no-nanny` connected and idle, after
--settle seconds (default 20) for the peers to register and the first heartbeats to pass. Reports
the scheduler's share of a core, with, for cloudviper's JVM, the split by thread group (JIT, GC,
event loop, other), and the load average at the start and end of the window.

  /usr/bin/python3 bench/scripts/idle_cpu.py [--schedulers cloudviper dask] [--jar JAR] [--rounds N]
      [--windows N] [--seconds S] [--settle S] [--jvm-args='-XX:+UseSerialGC ...']
      [--scheduler-args=--no-dashboard] [--launcher [--java-home JDK]]

Every process started is stopped by pid (try/finally); logs under bench/target/runs/idle-cpu-*/.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvbench  # noqa: E402

from distributed import Client  # noqa: E402


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def one(kind, jar, seconds, settle, windows, logdir, jvm_args, scheduler_args, launcher=False):
    """Yields one result per window of `seconds`, back to back, after `settle`."""
    scheduler = cvbench.start_scheduler(kind, logdir, jar=jar, jvm_args=jvm_args, extra_args=scheduler_args,
                                        xmx=None if launcher else "2g", launcher=launcher)
    workers = []
    try:
        workers = [cvbench.start_worker(scheduler.address, f"w{i}", logdir) for i in range(2)]
        with Client(scheduler.address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            time.sleep(settle)
            for window in range(windows):
                load0 = loadavg()
                c0 = cvbench.cpu_seconds(scheduler.pid)
                t0 = cvbench.thread_cpu(scheduler.pid)
                w0 = time.monotonic()
                time.sleep(seconds)
                wall = time.monotonic() - w0
                cpu = cvbench.cpu_seconds(scheduler.pid) - c0
                t1 = cvbench.thread_cpu(scheduler.pid)
                alive = len(client.scheduler_info()["workers"])
                yield {"scheduler": kind, "window": window, "seconds": round(wall, 1), "cpu_s": round(cpu, 3),
                       "percent_of_a_core": round(100 * cpu / wall, 3), "workers": alive,
                       "threads": {k: round(t1[k] - t0[k], 2) for k in t0} if kind.startswith("cloudviper") else None,
                       "loadavg_start": load0, "loadavg_end": loadavg()}
    finally:
        for w in workers:
            w.stop()
        scheduler.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedulers", nargs="+", default=["cloudviper", "dask"])
    ap.add_argument("--jar", default=cvbench.DEFAULT_JAR)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--settle", type=float, default=20)
    ap.add_argument("--windows", type=int, default=1, help="windows back to back per scheduler start")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--jvm-args", default="")
    ap.add_argument("--launcher", action="store_true",
                    help="start cloudviper's jar with bin/cloudviper-scheduler, as the README does")
    ap.add_argument("--java-home", default="", help="the JDK the launcher runs (JAVA_HOME)")
    ap.add_argument("--scheduler-args", default="", help="e.g. --scheduler-args=--no-dashboard")
    a = ap.parse_args()
    if a.java_home:
        os.environ["JAVA_HOME"] = a.java_home  # the launcher's JDK; the Python peers do not read it
    logdir = cvbench.run_dir("idle-cpu")
    for r in range(a.rounds):
        for kind in a.schedulers:
            for res in one(kind, a.jar, a.seconds, a.settle, a.windows, logdir, a.jvm_args.split(),
                           a.scheduler_args.split(), launcher=a.launcher):
                res["round"] = r
                print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
