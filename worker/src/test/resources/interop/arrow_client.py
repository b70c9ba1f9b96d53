"""A stock 2022.12.1 client with pyarrow runs Arrow tasks on the Java worker (argv: SCHEDULER JAVA_WORKER).

Every table coming back is compared, at the client, with the one pyarrow itself makes from the same values.
"""
import sys

import pandas as pd
import pyarrow as pa
from distributed import Client

import cloudviper.tasks as cv
from interop_common import emit, part, raised

JAVA = {"java": 1}
TIMEOUT = 40


def expected_range(n):
    return pa.table({"id": pa.array(range(n), pa.int64()), "x": pa.array([i / 2 for i in range(n)], pa.float64()),
                     "name": pa.array([f"row{i}" for i in range(n)], pa.string())})


def scaled(table, column, factor):
    i = table.schema.get_field_index(column)
    col = table.column(i)
    values = [None if v is None else v * factor for v in col.to_pylist()]
    return table.set_column(i, table.field(i), pa.array(values, col.type))


def report(got, expected):
    return {"type": type(got).__module__ + "." + type(got).__name__, "equal": bool(got.equals(expected)),
            "rows": got.num_rows, "schema": str(got.schema)}


def main():
    results = {}
    with Client(sys.argv[1], timeout=30) as client:
        java = sys.argv[2]
        part(results, "range", lambda: report(
            client.submit(cv.arrow_range, 1000, resources=JAVA).result(timeout=TIMEOUT), expected_range(1000)))
        part(results, "range_empty", lambda: report(
            client.submit(cv.arrow_range, 0, resources=JAVA).result(timeout=TIMEOUT), expected_range(0)))

        def scatter_table():
            t = pa.table({"k": pa.array([3, 1, None], pa.int32()), "v": [0.25, None, -8.0],
                          "f": pa.array([1.5, 2.5, 3.5], pa.float32())})
            [f] = client.scatter([t], workers=[java])
            a = client.submit(cv.arrow_scale, f, "v", 3.0, resources=JAVA)
            b = client.submit(cv.arrow_scale, a, "f", 2.0, resources=JAVA)
            return report(b.result(timeout=TIMEOUT), scaled(scaled(t, "v", 3.0), "f", 2.0))

        part(results, "scatter_table", scatter_table)

        def scatter_batch():
            batch = expected_range(7).to_batches()[0]
            [f] = client.scatter([batch], workers=[java])
            return report(client.submit(cv.arrow_scale, f, "x", -0.5, resources=JAVA).result(timeout=TIMEOUT),
                          scaled(pa.Table.from_batches([batch]), "x", -0.5).combine_chunks().to_batches()[0])

        part(results, "scatter_batch", scatter_batch)

        def pandas():
            [f] = client.scatter([pd.DataFrame({"x": [1.0, 2.0]})], workers=[java])
            return raised(lambda: client.submit(cv.arrow_scale, f, "x", 2.0, resources=JAVA).result(timeout=TIMEOUT))

        part(results, "pandas", pandas)

        def embedded(value):
            return raised(lambda: client.submit(cv.arrow_scale, value, "x", 2.0, resources=JAVA).result(timeout=TIMEOUT))

        part(results, "pandas_embedded", lambda: embedded(pd.DataFrame({"x": [1.0, 2.0]})))
        part(results, "table_embedded", lambda: embedded(pa.table({"x": [1.0, 2.0]})))
    emit(results)


if __name__ == "__main__":
    main()
