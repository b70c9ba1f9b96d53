"""More results than a Java worker's memory limit allows (argv: SCHEDULER JAVA_WORKER): the worker
spills them to disk, reports it in its heartbeat metrics, and serves every one back exactly, to the
client (get_data) and to a dependent task.
"""
import sys
import time

from distributed import Client, wait

import cloudviper.tasks as cv
from interop_common import emit, part

JAVA = {"java": 1}
TIMEOUT = 60
N = 1_000_000  # float64: 8 MB per result
COUNT = 20     # 160 MB of results held against a 64 MiB limit


def main():
    results = {}
    java = sys.argv[2]
    with Client(sys.argv[1], timeout=30) as client:
        base = client.submit(cv.arange_f64, N, workers=[java], resources=JAVA)
        xs = [client.submit(cv.scale, base, float(i + 1), workers=[java], resources=JAVA) for i in range(COUNT)]
        wait(xs, timeout=TIMEOUT)

        def spilled():
            # heartbeat metrics reach the scheduler within a few seconds: wait for one sent after the
            # last result was stored
            deadline = time.monotonic() + 20
            while True:
                m = client.scheduler_info()["workers"][java]["metrics"]
                if m["managed_bytes"] >= (COUNT + 1) * N * 8 or time.monotonic() > deadline:
                    return {"managed": m["managed_bytes"], "memory": m["spilled_bytes"]["memory"],
                            "disk": m["spilled_bytes"]["disk"]}
                time.sleep(0.25)

        part(results, "spilled", spilled)

        def dependent():
            # xs[0] was stored first, so it is among the first spilled: the task reads it back
            return client.submit(cv.sum, xs[0], workers=[java], resources=JAVA).result(timeout=TIMEOUT)

        part(results, "dependent", dependent)

        def gathered():
            wrong = []
            for i, x in enumerate(client.gather(xs)):
                f = float(i + 1)
                if x.shape != (N,) or x[0] != 0.0 or x[-1] != (N - 1) * f or float(x.sum()) != f * N * (N - 1) / 2:
                    wrong.append(i)
            return {"count": COUNT, "wrong": wrong}

        part(results, "gathered", gathered)
    emit(results)


if __name__ == "__main__":
    main()
