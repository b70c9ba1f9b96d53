"""Reads the scheduler's HTTP side while a client holds results (argv: SCHEDULER_ADDR).

Run against cloudviper and against Dask's own scheduler; the Java side compares the two.
"""
import json
import time
import urllib.error
import urllib.request

from distributed import wait
from prometheus_client.parser import text_string_to_metric_families

from interop_common import CALL_TIMEOUT, connect, emit


def inc(x):
    return x + 1


def http(base, path, body=None):
    """[status, content type, text] of a GET, or of a POST of ``body`` (a dict, sent as JSON)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=CALL_TIMEOUT) as r:
            return [r.status, r.headers.get("Content-Type"), r.read().decode()]
    except urllib.error.HTTPError as e:
        return [e.code, e.headers.get("Content-Type"), e.read().decode()]


def metrics(text):
    """{family: {"type": ..., "labels": sorted label names, "samples": {"name{k=v,...}": value}}}"""
    r = {}
    for fam in text_string_to_metric_families(text):
        labels = set()
        samples = {}
        for s in fam.samples:
            labels.update(s.labels)
            key = s.name + "{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}"
            samples[key] = s.value
        r[fam.name] = {"type": fam.type, "labels": sorted(labels), "samples": samples}
    return r


def main():
    results = {}
    with connect() as client:
        client.wait_for_workers(2, timeout=CALL_TIMEOUT)
        port = client.scheduler_info()["services"]["dashboard"]
        base = f"http://127.0.0.1:{port}"
        results["dashboard_link"] = client.dashboard_link
        results["port"] = port
        futures = client.map(inc, range(10))
        wait(futures, timeout=CALL_TIMEOUT)
        results["health"] = http(base, "/health")
        results["api"] = http(base, "/api/v1")
        results["get_workers"] = json.loads(http(base, "/api/v1/get_workers")[2])
        results["adaptive_target"] = json.loads(http(base, "/api/v1/adaptive_target")[2])
        time.sleep(1.0)  # more than Dask's 250 ms idle check
        idle = http(base, "/api/v1/check_idle")
        results["check_idle_status"] = idle[0]
        results["check_idle"] = json.loads(idle[2]) if idle[0] == 200 else None
        results["metrics"] = metrics(http(base, "/metrics")[2])
        retired = http(base, "/api/v1/retire_workers", {"n": 1})
        results["retire_status"] = retired[0]
        retired = json.loads(retired[2])
        results["retired"] = list(retired)
        results["retired_fields"] = sorted(next(iter(retired.values()))) if retired else []
        results["retire_none"] = json.loads(http(base, "/api/v1/retire_workers", {"workers": []})[2])
        results["workers_after"] = sorted(client.scheduler_info()["workers"])
        results["results_after"] = client.gather(futures)
        results["missing"] = http(base, "/no/such/route")[0]
    emit(results)


if __name__ == "__main__":
    main()
