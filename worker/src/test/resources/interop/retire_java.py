"""Graceful close of a Java worker: its results survive on the Python worker.

argv: SCHEDULER MODE. MODE "put": run Java tasks (resource java=1, so only a Java worker can run
them) and publish their futures as dataset "retire"; prints who_has. MODE "get": after the Java
worker closed gracefully, gather the dataset's results and report where they are now. Since only
a Java worker can run them and none is left, a lost result would hang instead of being recomputed.
"""
import json
import sys
import traceback

from distributed import Client

import cloudviper.tasks as cv

JAVA = {"java": 1}
SIZES = [3, 5, 8, 13]
TIMEOUT = 40


def part(results, name, fn):
    try:
        results[name] = {"ok": True, "value": fn()}
    except BaseException:  # noqa: B902 - reported to the Java side
        results[name] = {"ok": False, "error": traceback.format_exc()}
        traceback.print_exc()


def main():
    mode = sys.argv[2]
    results = {}
    with Client(sys.argv[1], timeout=30) as client:
        if mode == "put":
            def put():
                arrays = [client.submit(cv.arange_f64, n, resources=JAVA, pure=False) for n in SIZES]
                sums = [client.submit(cv.sum, a, resources=JAVA, pure=False) for a in arrays]
                futures = arrays + sums
                client.gather(futures)
                client.publish_dataset(retire=futures)
                return sorted({w for ws in client.who_has(futures).values() for w in ws})

            part(results, "holders", put)
        else:
            def get():
                futures = client.get_dataset("retire")
                values = client.gather(futures)
                holders = sorted({w for ws in client.who_has(futures).values() for w in ws})
                return {"arrays": [v.tolist() for v in values[:len(SIZES)]],
                        "sums": [float(v) for v in values[len(SIZES):]],
                        "holders": holders,
                        "workers": sorted(client.scheduler_info()["workers"])}

            part(results, "after", get)
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
