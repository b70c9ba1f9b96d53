"""Test 2: a layered dask.delayed graph of 1,000 tasks with shared dependencies, computed on the
cluster and locally with the synchronous scheduler."""
import dask
from dask import delayed

from interop_common import connect, emit, part

WIDTH = 50
LAYERS = 20
MODULUS = 1_000_003


def seed(i):
    return (i * 7919) % MODULUS


def combine(layer, *parents):
    # Order matters (weights differ), so a swapped dependency changes the result.
    return (layer + sum((w + 1) * p for w, p in enumerate(parents))) % MODULUS


def build():
    """WIDTH x LAYERS tasks; each task of layer n reads 2 or 3 tasks of layer n-1, and every task of
    layer n-1 is read by several tasks of layer n."""
    previous = [delayed(seed)(i, dask_key_name=f"seed-{i}") for i in range(WIDTH)]
    for layer in range(1, LAYERS):
        current = []
        for i in range(WIDTH):
            parents = [previous[i], previous[(i + 1) % WIDTH]]
            if i % 2 == 0:
                parents.append(previous[(i * 7 + 3) % WIDTH])
            current.append(
                delayed(combine)(layer, *parents, dask_key_name=f"combine-{layer}-{i}"))
        previous = current
    return previous


def main():
    results = {}
    outputs = build()
    graph = dict(dask.base.collections_to_dsk(outputs, optimize_graph=False))
    results["tasks"] = len(graph)
    results["expected"] = list(dask.compute(*outputs, scheduler="sync"))
    with connect() as client:
        part(results, "distributed", lambda: list(dask.compute(*outputs)))
    emit(results)


if __name__ == "__main__":
    main()
