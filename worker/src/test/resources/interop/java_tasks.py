"""A stock Client runs cloudviper.tasks on Java workers: results, dependencies, errors, scatter.

Run as ``python3 java_tasks.py SCHEDULER WORKER_A WORKER_B`` (two Java workers); prints one JSON
line with a part per feature, each ``{"ok": true, "value": ...}`` or ``{"ok": false, "error":
"<traceback>"}``.
"""
import sys

import numpy as np
from distributed import Client

import cloudviper.tasks as cv
from interop_common import emit, part

JAVA = {"java": 1}
TIMEOUT = 40


def inc(x):
    return x + 1


def main():
    results = {}
    with Client(sys.argv[1], timeout=30) as client:
        a = client.submit(cv.arange_f64, 10, resources=JAVA)
        total = client.submit(cv.sum, a, resources=JAVA)

        def arange():
            arr = a.result(timeout=TIMEOUT)
            return {"type": type(arr).__module__ + "." + type(arr).__name__, "dtype": str(arr.dtype),
                    "equal": bool(np.array_equal(arr, np.arange(10.0))), "values": arr.tolist(),
                    "writeable": bool(arr.flags.writeable)}

        part(results, "arange", arange)
        part(results, "sum", lambda: {"value": total.result(timeout=TIMEOUT),
                                      "type": type(total.result()).__name__})
        part(results, "scale", lambda: client.submit(cv.scale, a, 2.5, resources=JAVA)
             .result(timeout=TIMEOUT).tolist())
        part(results, "scale_kwargs", lambda: client.submit(cv.scale, a, factor=-1.0, resources=JAVA)
             .result(timeout=TIMEOUT).tolist()[:3])
        part(results, "echo", lambda: repr(client.submit(cv.echo, {"k": (1, 2.5, "x", None, True, b"b")},
                                                         resources=JAVA).result(timeout=TIMEOUT)))

        def error():
            f = client.submit(cv.arange_f64, -1, resources=JAVA)
            try:
                f.result(timeout=TIMEOUT)
            except Exception as e:  # noqa: B902
                return {"type": type(e).__name__, "text": str(e)}
            return None

        part(results, "error", error)

        def unregistered():
            try:
                client.submit(inc, 1, resources=JAVA).result(timeout=TIMEOUT)
            except Exception as e:  # noqa: B902
                return {"type": type(e).__name__, "text": str(e)}
            return None

        part(results, "unregistered", unregistered)

        def scattered():
            x = client.scatter(np.arange(6, dtype="i4").reshape(2, 3))
            s = client.submit(cv.sum, x, resources=JAVA).result(timeout=TIMEOUT)
            back = client.gather(x)
            return {"sum": s, "back": back.tolist(), "dtype": str(back.dtype)}

        part(results, "scatter", scattered)

        def kwargs_and_list():
            big = client.submit(cv.arange_f64, n=100_000, resources=JAVA)
            return client.submit(cv.sum, big, resources=JAVA).result(timeout=TIMEOUT)

        part(results, "kwargs", kwargs_and_list)

        def java_to_java():
            worker_a, worker_b = sys.argv[2], sys.argv[3]
            x = client.submit(cv.arange_f64, 7, workers=[worker_a], resources=JAVA)
            y = client.submit(cv.scale, x, 3.0, workers=[worker_b], resources=JAVA)
            total = client.submit(cv.sum, y, workers=[worker_a], resources=JAVA).result(timeout=TIMEOUT)
            where = client.who_has([x, y])
            return {"sum": total, "x_on": list(where[x.key]), "y_on": list(where[y.key])}

        part(results, "java_to_java", java_to_java)
    emit(results)


if __name__ == "__main__":
    main()
