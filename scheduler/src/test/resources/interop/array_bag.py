"""Test 3: dask.array with a fixed seed against numpy, and a dask.bag fold."""
import operator

import dask.array as da
import dask.bag as db
import numpy as np

from interop_common import connect, emit, part


def main():
    results = {}
    with connect() as client:
        x = da.random.RandomState(42).random_sample((2000, 2000), chunks=250)

        def array():
            got = float((x + x.T).mean().compute())
            xn = x.compute()  # the same chunks, gathered through the scheduler
            return {"dask": got, "numpy": float((xn + xn.T).mean()),
                    "shape": list(xn.shape), "chunks": x.npartitions}

        part(results, "array", array)
        part(results, "bag",
             lambda: db.from_sequence(range(1000), npartitions=10).fold(operator.add).compute())
    emit(results)


if __name__ == "__main__":
    main()
