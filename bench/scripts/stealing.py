"""Work stealing when a worker joins a busy cluster (issue #14): a scheduler with worker-saturation
inf sends every task of a map to the one worker connected; a second worker joins at once. With
stealing, the newcomer takes tasks the first has not started; without, it idles. Task durations
are uneven (a fixed cycle of 0.05 to 0.5 s, mean 0.2 s), both workers `dask worker --nthreads 1
--no-nanny` (Dask 2022.12.1).

  /usr/bin/python3 bench/scripts/stealing.py [--schedulers cloudviper-inf cloudviper-inf-nosteal dask-inf]
      [--jar JAR] [--tasks 60] [--rounds 3]

Prints one JSON line per run: wall seconds from submit to the last result, tasks per worker, the
load average before and after. Schedulers alternate within each round. Every process started is
stopped by pid; logs under bench/target/runs/stealing-*/.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cvbench  # noqa: E402

from distributed import Client, wait  # noqa: E402

cvbench.SCHEDULERS["cloudviper-inf-nosteal"] = ("cloudviper", {}, ["--worker-saturation", "inf",
                                                                   "--no-work-stealing"])
DURATIONS = [0.05, 0.1, 0.5, 0.15, 0.3, 0.05, 0.25, 0.2]


def work(i, seconds):
    time.sleep(seconds)
    return i


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def one(kind, jar, tasks, logdir):
    scheduler = cvbench.start_scheduler(kind, logdir, jar=jar)
    workers = []
    try:
        workers.append(cvbench.start_worker(scheduler.address, "w0", logdir))
        with Client(scheduler.address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
            load0 = loadavg()
            t0 = time.monotonic()
            futures = [client.submit(work, i, DURATIONS[i % len(DURATIONS)], pure=False) for i in range(tasks)]
            workers.append(cvbench.start_worker(scheduler.address, "w1", logdir))
            client.wait_for_workers(2, timeout=60)
            joined = time.monotonic() - t0
            wait(futures, timeout=300)
            wall = time.monotonic() - t0
            per_worker = {}
            for ws in client.who_has(futures).values():
                for w in ws:
                    per_worker[w] = per_worker.get(w, 0) + 1
            names = {a: i["name"] for a, i in client.scheduler_info()["workers"].items()}
            per_worker = {names.get(k, k): v for k, v in per_worker.items()}
            return {"scheduler": kind, "tasks": tasks, "seconds": round(wall, 2), "second_worker_at_s": round(joined, 2),
                    "per_worker": per_worker, "ideal_two_workers_s": round(sum(
                        DURATIONS[i % len(DURATIONS)] for i in range(tasks)) / 2, 2),
                    "loadavg_start": load0, "loadavg_end": loadavg()}
    finally:
        for w in workers:
            w.stop()
        scheduler.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--schedulers", nargs="+", default=["cloudviper-inf", "cloudviper-inf-nosteal", "dask-inf"])
    ap.add_argument("--jar", default=cvbench.DEFAULT_JAR)
    ap.add_argument("--tasks", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    logdir = cvbench.run_dir("stealing")
    for _ in range(args.rounds):
        for kind in args.schedulers:
            print(json.dumps(one(kind, args.jar, args.tasks, logdir)), flush=True)


if __name__ == "__main__":
    main()
