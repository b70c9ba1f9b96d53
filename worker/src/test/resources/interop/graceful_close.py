"""A Java worker's graceful close hands its results to a Python worker (argv: SCHEDULER MODE JAVA).

MODE make: 10 Java results only the Java worker holds, published as dataset "graceful" so they
outlive this client. MODE check (after the Java worker closed gracefully): the same results are all
on the Python worker and exact. Nothing could recompute them -- only Java workers run these tasks and
none is left -- so a lost result would fail the gather.
"""
import sys

from distributed import Client, wait

import cloudviper.tasks as cv
from interop_common import emit, part

JAVA = {"java": 1}
TIMEOUT = 30
N = 1000


def main():
    results = {}
    mode, java = sys.argv[2], sys.argv[3]
    with Client(sys.argv[1], timeout=30) as client:
        if mode == "make":
            base = client.submit(cv.arange_f64, N, workers=[java], resources=JAVA)
            xs = [client.submit(cv.scale, base, float(i + 1), workers=[java], resources=JAVA) for i in range(10)]
            wait(xs, timeout=TIMEOUT)
            client.publish_dataset(graceful=xs)
            part(results, "held_by", lambda: sorted({w for ws in client.who_has(xs).values() for w in ws}))
        else:
            xs = client.get_dataset("graceful")
            part(results, "workers", lambda: sorted(client.scheduler_info()["workers"]))
            part(results, "held_by", lambda: sorted({w for ws in client.who_has(xs).values() for w in ws}))

            def values():
                wait(xs, timeout=TIMEOUT)  # a lost result would never come back: fail, do not hang
                return [float(x.sum()) for x in client.gather(xs)]

            part(results, "sums", values)
            client.unpublish_dataset("graceful")
    emit(results)


if __name__ == "__main__":
    main()
