"""A Python worker (resource python=1) and the Java worker (java=N) exchange numpy arrays.

Python task -> Java task: the Java worker fetches the array from the Python worker (get_data).
Java task -> Python task: the Python worker fetches the array from the Java worker.
"""
import sys

from distributed import Client

import cloudviper.tasks as cv
from interop_common import emit, part

JAVA = {"java": 1}
PY = {"python": 1}
TIMEOUT = 40


def make(n, dtype):
    import numpy as np
    return np.arange(n, dtype=dtype) * 2


def py_sum(a):
    import numpy as np
    return {"sum": float(np.sum(a)), "type": type(a).__name__, "dtype": str(a.dtype), "shape": list(a.shape)}


def transposed(n):
    import numpy as np
    return np.arange(n * 3, dtype="f8").reshape(3, n).T  # F-ordered view: sent with its strides


def main():
    results = {}
    with Client(sys.argv[1], timeout=30) as client:
        def py_to_java():
            p = client.submit(make, 10, "f8", resources=PY)
            s = client.submit(cv.sum, p, resources=JAVA)
            total = s.result(timeout=TIMEOUT)
            where = client.who_has([p, s])
            return {"sum": total, "sum_on": list(where[s.key]), "make_on": list(where[p.key])}

        part(results, "py_to_java", py_to_java)
        part(results, "py_to_java_i8", lambda: client.submit(cv.sum, client.submit(make, 5, "i8", resources=PY),
                                                             resources=JAVA).result(timeout=TIMEOUT))
        part(results, "py_to_java_f4_scale", lambda: client.submit(
            cv.scale, client.submit(make, 4, "f4", resources=PY), 0.5, resources=JAVA).result(timeout=TIMEOUT)
             .tolist())
        part(results, "py_to_java_transposed", lambda: client.submit(
            cv.scale, client.submit(transposed, 2, resources=PY), 1.0, resources=JAVA).result(timeout=TIMEOUT)
             .tolist())

        def java_to_py():
            j = client.submit(cv.arange_f64, 5, resources=JAVA)
            return client.submit(py_sum, j, resources=PY).result(timeout=TIMEOUT)

        part(results, "java_to_py", java_to_py)
    emit(results)


if __name__ == "__main__":
    main()
