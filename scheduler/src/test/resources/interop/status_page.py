"""Holds results and a queue of waiting tasks while the test looks at the status page
(argv: SCHEDULER_ADDR GO_FILE).

Prints @@holding once 20 results of ``inc`` are in memory and 5 ``slow`` tasks are submitted (one
runs per worker thread, the rest wait), then keeps them until the test creates GO_FILE; the final
line has scheduler_info() as the client saw it meanwhile.
"""
import sys
import time

from distributed import wait

from interop_common import CALL_TIMEOUT, connect, emit, marker, wait_for_file


def inc(x):
    return x + 1


def slow(i):
    time.sleep(60)  # longer than the test looks; the workers are stopped after it
    return i


def main():
    go = sys.argv[2]
    results = {}
    with connect() as client:
        client.wait_for_workers(2, timeout=CALL_TIMEOUT)
        held = client.map(inc, range(20))
        wait(held, timeout=CALL_TIMEOUT)
        blocked = [client.submit(slow, i, pure=False) for i in range(5)]
        time.sleep(1.0)  # the slow tasks reach the workers
        # only what the page shows: 2024 workers' metrics have tuple keys, which JSON cannot hold
        results["info"] = {"workers": {
            a: {k: w[k] for k in ("name", "nthreads", "memory_limit")}
            for a, w in client.scheduler_info()["workers"].items()}}
        marker("holding")
        wait_for_file(go)
        client.cancel(blocked)
    emit(results)


if __name__ == "__main__":
    main()
