"""The admin API and tasks that use the cluster, as a stock Client calls them; results against truth.

The scheduler has two workers with nannies (restart needs them). Every part records its result or
its traceback, so one broken call does not hide the others.

argv: SCHEDULER_ADDR SCRATCH_DIR
"""
import os
import sys
import time

import distributed
from distributed import (as_completed, fire_and_forget, get_client, performance_report, rejoin, secede,
                         worker_client)
from distributed.diagnostics.plugin import WorkerPlugin

from interop_common import CALL_TIMEOUT, connect, emit, part, raised


def inc(x):
    return x + 1


def submit_inside(x):
    client = get_client()
    return client.submit(inc, x, pure=False).result()


def fan_out_inside(n):
    with worker_client() as client:
        return sum(client.gather(client.map(inc, range(n), pure=False)))


def seceded(x):
    secede()
    time.sleep(0.05)
    rejoin()
    return x * 3


def write_marker(path):
    with open(path, "w") as f:
        f.write("done")
    return path


def sleep_after_marker(path, seconds):
    with open(path, "w") as f:
        f.write("started")
    time.sleep(seconds)
    return seconds


def log_from_worker():
    distributed.get_worker().log_event("interop-worker-topic", {"x": 1})
    return True


class Tagger(WorkerPlugin):
    def __init__(self, tag):
        self.tag = tag

    def setup(self, worker):
        worker._interop_tag = self.tag


def register(client, plugin, name):
    """register_plugin of 2024, register_worker_plugin of 2022."""
    if hasattr(client, "register_plugin"):
        return client.register_plugin(plugin, name=name)
    return client.register_worker_plugin(plugin, name=name)


def tag_of(dask_worker):
    return getattr(dask_worker, "_interop_tag", None)


def pid_and_address(dask_worker):
    return [os.getpid(), dask_worker.address]


def main():
    scratch = sys.argv[2]
    results = {}
    with connect() as client:
        client.wait_for_workers(2, timeout=CALL_TIMEOUT)

        def run():
            got = client.run(pid_and_address)
            return {"workers": sorted(got), "addresses_match": all(a == v[1] for a, v in got.items()),
                    "known": sorted(client.scheduler_info()["workers"])}

        part(results, "run", run)

        def versions():
            v = client.get_versions(check=True)
            return {"workers": sorted(v["workers"]), "worker_distributed": sorted(
                {w["packages"]["distributed"] for w in v["workers"].values()}),
                "client_distributed": v["client"]["packages"]["distributed"],
                "scheduler_has_host": bool(v["scheduler"]["host"])}

        part(results, "versions", versions)

        def inside():
            fs = [client.submit(submit_inside, 41, pure=False), client.submit(fan_out_inside, 20, pure=False),
                  client.submit(seceded, 7, pure=False)]
            marker = os.path.join(scratch, "fire-and-forget")
            fire_and_forget(client.submit(write_marker, marker, pure=False))
            values = client.gather(fs)
            deadline = time.monotonic() + CALL_TIMEOUT
            while not os.path.exists(marker) and time.monotonic() < deadline:
                time.sleep(0.05)
            many = client.map(inc, range(2000), pure=False)
            total = sum(f.result() for f in as_completed(many))
            return {"values": values, "fire_and_forget": os.path.exists(marker), "as_completed": total}

        part(results, "inside", inside)

        def task_stream():
            with distributed.get_task_stream(client=client) as ts:
                client.gather(client.map(inc, range(50), pure=False))
            entries = ts.data
            return {"count": len(entries), "workers_known": all(
                e["worker"] in client.scheduler_info()["workers"] for e in entries),
                "compute": all(any(s["action"] == "compute" for s in e["startstops"]) for e in entries),
                "prefixes": sorted({e["key"].split("-")[0] for e in entries}),
                "last_5": len(client.get_task_stream(count=5))}

        part(results, "task_stream", task_stream)

        def plugins():
            register(client, Tagger("on-every-worker"), "tagger")
            tags = client.run(tag_of)
            path = os.path.join(scratch, "interop_uploaded.py")
            with open(path, "w") as f:
                f.write("VALUE = 1234\n")
            client.upload_file(path)
            imported = client.submit(lambda: __import__("interop_uploaded").VALUE, pure=False).result()
            client.unregister_worker_plugin("tagger")
            return {"tags": sorted(tags.values()), "uploaded": imported}

        part(results, "plugins", plugins)

        def diagnostics():
            client.gather(client.map(inc, range(20), pure=False))
            sched_logs = client.get_scheduler_logs()
            worker_logs = client.get_worker_logs()
            prof = client.profile()
            per_worker = client.profile(merge_workers=False)
            client.log_event("interop-topic", {"n": 1})
            heard = []
            client.subscribe_topic("interop-worker-topic", lambda event: heard.append(event[1]))
            client.submit(log_from_worker, pure=False).result()
            deadline = time.monotonic() + CALL_TIMEOUT
            while not heard and time.monotonic() < deadline:
                time.sleep(0.05)
            report = os.path.join(scratch, "report.html")
            with performance_report(filename=report):
                # The report's task stream starts at the client's clock; a 2022.12.1 worker stamps its
                # tasks by its estimate of the scheduler's clock, off by up to half a heartbeat round
                # trip on a loaded machine. Tasks that start well inside the report cannot fall before it.
                time.sleep(0.5)
                client.gather(client.map(inc, range(30), pure=False))
            html = open(report).read()
            started = os.path.join(scratch, "call-stack-started")
            sleeper = client.submit(sleep_after_marker, started, 3, pure=False, key="sleeper-1")
            deadline = time.monotonic() + CALL_TIMEOUT
            while not os.path.exists(started) and time.monotonic() < deadline:
                time.sleep(0.05)
            stacks = client.call_stack()
            sleeper.result()
            return {"call_stack": [sorted(v) for v in stacks.values()],
                    "adaptive_target": client.sync(client.scheduler.adaptive_target),
                    "worker_event": [{k: v for k, v in e.items() if k != "worker"} for e in heard],
                    "worker_event_tagged": bool(heard) and heard[0].get("worker") in client.scheduler_info()["workers"],
                    "scheduler_logs": len(sched_logs), "log_shape": [len(sched_logs[0]), sched_logs[0][0]],
                    "worker_logs": sorted(worker_logs), "profile_keys": sorted(prof),
                    "profile_workers": sorted(per_worker), "events": [e[1] for e in client.get_events("interop-topic")],
                    "report_has_stream": "task stream" in html and "<svg" in html,
                    "report_has_inc": ">inc<" in html, "report_self_contained": "<script src" not in html}

        part(results, "diagnostics", diagnostics)

        def placement():
            fs = client.map(inc, range(40), pure=False)
            client.gather(fs)
            client.replicate(fs, n=2)
            replicated = sorted({len(v) for v in client.who_has(fs).values()})
            client.rebalance(fs)
            values = client.gather(fs)
            return {"replicated": replicated, "values_ok": values == list(range(1, 41))}

        part(results, "placement", placement)

        part(results, "run_on_scheduler", lambda: raised(lambda: client.run_on_scheduler(os.getpid)))

        def restart():
            register(client, Tagger("after-restart"), "tagger2")
            before = client.run(pid_and_address)
            old = client.submit(inc, 1, pure=False)
            old.result()
            started = time.monotonic()
            client.restart(timeout=CALL_TIMEOUT)
            seconds = time.monotonic() - started
            client.wait_for_workers(2, timeout=CALL_TIMEOUT)
            after = client.run(pid_and_address)
            old_pids = {v[0] for v in before.values()}
            return {"old_status": old.status, "new_processes": not (old_pids & {v[0] for v in after.values()}),
                    "workers": len(after), "seconds": round(seconds, 1),
                    "plugin_kept": sorted(client.run(tag_of).values()),
                    "works_after": client.submit(inc, 1, pure=False).result()}

        part(results, "restart", restart)
    emit(results)


if __name__ == "__main__":
    main()
