"""A Python worker (resource python=1) and the Java worker (java=N) pass pyarrow Tables along a graph
(argv: SCHEDULER): a Python task makes a Table, a Java task scales a column, a Python task consumes it.
"""
import sys

from distributed import Client

import cloudviper.tasks as cv
from interop_common import emit, part, raised

JAVA = {"java": 1}
PY = {"python": 1}
TIMEOUT = 40


def make_table(n):
    import pyarrow as pa
    return pa.table({"id": pa.array(range(n), pa.int64()), "x": pa.array([i * 0.1 for i in range(n)]),
                     "tag": pa.array(["even" if i % 2 == 0 else None for i in range(n)]).dictionary_encode()})


def make_frame(n):
    import pandas as pd
    return pd.DataFrame({"x": [float(i) for i in range(n)]})


def consume(table):
    import pyarrow as pa
    return {"type": type(table).__name__, "is_table": isinstance(table, pa.Table), "rows": table.num_rows,
            "x": table.column("x").to_pylist(), "id": table.column("id").to_pylist(),
            "tag": table.column("tag").to_pylist()}


def main():
    results = {}
    with Client(sys.argv[1], timeout=30) as client:
        def py_java_py():
            import pyarrow as pa
            n = 50
            made = client.submit(make_table, n, resources=PY)
            scaled = client.submit(cv.arrow_scale, made, "x", 2.5, resources=JAVA)
            used = client.submit(consume, scaled, resources=PY)
            got = used.result(timeout=TIMEOUT)
            local = make_table(n)
            want_x = [v * 2.5 for v in local.column("x").to_pylist()]
            table = scaled.result(timeout=TIMEOUT)
            want = local.set_column(1, "x", pa.array(want_x))
            where = client.who_has([made, scaled, used])
            return {"consumed_x_exact": got["x"] == want_x, "consumed_id_exact": got["id"] == list(range(n)),
                    "consumed_tag_exact": got["tag"] == local.column("tag").to_pylist(),
                    "consumed_type": got["type"], "client_equal": bool(table.equals(want)),
                    "client_type": type(table).__name__,
                    "made_on": list(where[made.key]), "scaled_on": list(where[scaled.key]),
                    "used_on": list(where[used.key])}

        part(results, "py_java_py", py_java_py)

        def pandas():
            f = client.submit(make_frame, 3, resources=PY)
            return raised(lambda: client.submit(cv.arrow_scale, f, "x", 2.0, resources=JAVA).result(timeout=TIMEOUT))

        part(results, "pandas", pandas)
    emit(results)


if __name__ == "__main__":
    main()
