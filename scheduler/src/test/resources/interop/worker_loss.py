"""Test 6: a 2,000-task graph survives the SIGKILL of one of two workers.

argv: SCHEDULER_ADDR GO_FILE. Prints @@running once the graph is part-way through, then waits for
the Java side to kill a worker and create GO_FILE before waiting for the result.
"""
import operator
import sys
import time

from dask import delayed
from distributed import wait

from interop_common import CALL_TIMEOUT, connect, emit, marker, part, wait_for_file

N = 2000


def slow_inc(x):
    time.sleep(0.005)
    return x + 1


def add(a, b):
    return a + b


def tree_sum(client, futures):
    # A binary tree reduction built from futures, so intermediate results live on both workers.
    level = futures
    while len(level) > 1:
        nxt = [client.submit(add, level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def main():
    go_file = sys.argv[2]
    results = {}
    with connect() as client:
        results["workers_before"] = len(client.scheduler_info()["workers"])
        mapped = client.map(slow_inc, range(N))
        total = tree_sum(client, mapped)
        deadline = time.monotonic() + CALL_TIMEOUT
        while sum(f.done() for f in mapped) < N // 10:
            if time.monotonic() > deadline:
                raise TimeoutError("the graph made no progress")
            time.sleep(0.01)
        results["done_when_killed"] = sum(f.done() for f in mapped)
        marker("running")
        wait_for_file(go_file)

        part(results, "total", lambda: total.result(timeout=CALL_TIMEOUT))
        part(results, "mapped_sample",
             lambda: client.gather([mapped[0], mapped[N // 2], mapped[-1]]))
        wait(mapped, timeout=CALL_TIMEOUT)
        results["workers_after"] = len(client.scheduler_info()["workers"])
        results["expected"] = sum(range(1, N + 1))
    emit(results)


if __name__ == "__main__":
    main()
