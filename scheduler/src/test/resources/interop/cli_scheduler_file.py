"""The CLI's --scheduler-file works for Client(scheduler_file=...), and a layer the scheduler cannot
expand (an unoptimized Blockwise) fails with a clear error instead of hanging.

argv: SCHEDULER_FILE
"""
import json
import sys

import dask.array as da
from distributed import Client


def inc(x):
    return x + 1


def main():
    results = {}
    with Client(scheduler_file=sys.argv[1], timeout=30) as client:
        results["submit"] = client.submit(inc, 1).result(timeout=60)
        x = da.ones((100, 100), chunks=10)
        try:
            x.sum().compute(optimize_graph=False)
            results["unoptimized"] = "no error"
        except Exception as e:  # the scheduler's refusal arrives as a task error
            results["unoptimized"] = f"{type(e).__name__}: {e}"
        # A different collection: the refused one's keys may still be erred in this client.
        y = da.ones((100, 100), chunks=20)
        results["optimized"] = float(y.sum().compute())
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
