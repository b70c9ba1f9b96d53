"""The CLI's --scheduler-file works for Client(scheduler_file=...), dataframe graphs compute, and a
layer the scheduler cannot expand (a layer class of the user's own, which Dask's scheduler would
materialize by running its code) fails with a clear error instead of hanging.

argv: SCHEDULER_FILE
"""
import json
import sys

import dask.array as da
from dask.highlevelgraph import HighLevelGraph, Layer
from distributed import Client


def inc(x):
    return x + 1


class Doubling(Layer):
    """n tasks (name, i) -> 2 * i, built lazily: a recipe only Python can expand."""

    def __init__(self, name, n):
        super().__init__()
        self.name, self.n = name, n

    def __getitem__(self, key):
        return (inc, key[1] * 2 - 1)

    def __iter__(self):
        return iter([(self.name, i) for i in range(self.n)])

    def __len__(self):
        return self.n

    def is_materialized(self):
        return False

    def get_output_keys(self):
        return set(self)

    def __dask_distributed_pack__(self, *args, **kwargs):  # 2022.12.1 ships this state
        return {"name": self.name, "n": self.n}


def main():
    results = {}
    with Client(scheduler_file=sys.argv[1], timeout=30) as client:
        results["submit"] = client.submit(inc, 1).result(timeout=60)
        layer = Doubling("doubling", 3)
        graph = HighLevelGraph({"doubling": layer}, {"doubling": set()})
        try:
            client.get(graph, [("doubling", 2)])
            results["custom_layer"] = "no error"
        except Exception as e:  # the scheduler's refusal arrives as a task error
            results["custom_layer"] = f"{type(e).__name__}: {e}"
        x = da.ones((100, 100), chunks=10)
        results["unoptimized"] = float((x + 1).sum().compute(optimize_graph=False))
        y = da.ones((100, 100), chunks=20)
        results["optimized"] = float(y.sum().compute())
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
