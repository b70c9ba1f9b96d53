"""dask.array graphs the scheduler expands itself (optimize_graph=False; map_overlap, rechunk,
contractions), each result against numpy computed locally (random and approximate results against
dask's own synchronous scheduler). Argument: the group to run (one client run each, so that each
stays within the test kit's time per script):
  basic        unoptimized contractions, overlaps, rechunks; on 2024.12.1 a P2P rechunk, refused with
               an error that names its layer class, optimized or not ("p2p_refused",
               "p2p_refused_unopt")
  optimized    the operations of operations(), optimized (parts named as the operation)
  unoptimized  the same with optimize_graph=False (parts NAME_unopt)"""
import sys

import dask
import dask.array as da
import numpy as np

from interop_common import connect, emit, part, raised


def same(got, want):
    got = np.asarray(got)
    want = np.asarray(want)
    return {"equal": bool(got.shape == want.shape and np.allclose(got, want, equal_nan=True)),
            "shape": list(want.shape)}


def operations(a, x, optimize):
    def c(v):
        return v.compute(optimize_graph=optimize)

    def rs():
        return da.random.RandomState(3).random_sample((50, 40), chunks=(10, 15))

    return {
        "random": lambda: same(c(rs()), rs().compute(scheduler="sync")),
        "slicing": lambda: same(c(x[3:17:2, ::-3]), a[3:17:2, ::-3]),
        "fancy_index": lambda: same(c(x[[1, 5, 19], :][:, [0, 29, 4]]), a[[1, 5, 19], :][:, [0, 29, 4]]),
        "concat_stack": lambda: same(c(da.stack([da.concatenate([x, x]), da.concatenate([x, x + 1])])),
                                     np.stack([np.concatenate([a, a]), np.concatenate([a, a + 1])])),
        "reshape": lambda: same(c(da.arange(600, chunks=60).reshape(20, 30)), np.arange(600).reshape(20, 30)),
        "cumsum": lambda: same(c(x.cumsum(axis=1)), a.cumsum(axis=1)),
        "tensordot": lambda: same(c(da.tensordot(x, x, axes=([0], [0]))), np.tensordot(a, a, axes=([0], [0]))),
        "einsum": lambda: same(c(da.einsum("ij,ij->i", x, x)), np.einsum("ij,ij->i", a, a)),
        "argmax_topk": lambda: same(c(da.stack([x.argmax(axis=0), da.topk(x, 3, axis=0)[0]])),
                                    np.stack([a.argmax(axis=0), np.sort(a, axis=0)[::-1][0]])),
        "where": lambda: same(c(da.where(x > 300, x, -1)), np.where(a > 300, a, -1)),
        "map_blocks_new_axis": lambda: same(
            c(x.map_blocks(lambda b: b[..., None] * [1, 2], new_axis=2, chunks=x.chunks + ((2,),))),
            a[..., None] * [1, 2]),
        "blockwise_concatenate": lambda: same(
            c(da.blockwise(lambda b: b.sum(axis=1), "i", x, "ij", concatenate=True, dtype=float)), a.sum(axis=1)),
        "apply_gufunc": lambda: same(
            c(da.apply_gufunc(lambda v: v.mean(axis=-1), "(i)->()", x.rechunk({1: -1}), output_dtypes=float)),
            a.mean(axis=1)),
        "histogram": lambda: same(c(da.histogram(x, bins=10, range=(0, 600))[0]),
                                  np.histogram(a, bins=10, range=(0, 600))[0]),
        "unique": lambda: same(c(da.unique(x.astype(int) % 7)), np.unique(a.astype(int) % 7)),
        "percentile": lambda: same(c(da.percentile(x.ravel(), [25, 75])),
                                   da.percentile(x.ravel(), [25, 75]).compute(scheduler="sync")),
        "rechunk_many": lambda: same(c(da.ones((300, 300), chunks=(10, 300)).rechunk((300, 10)).sum(axis=0)),
                                     np.full(300, 300.0)),
        "overlap_periodic": lambda: same(
            c(x.map_overlap(lambda b: b * 3, depth=1, boundary="periodic", trim=True)), a * 3),
        "tsqr": lambda: same(c(abs(da.linalg.tsqr(da.from_array(a[:, :6], chunks=(5, 6)))[1])),
                             np.abs(np.linalg.qr(a[:, :6])[1])),
        "coarsen": lambda: same(c(da.coarsen(np.sum, x, {0: 2, 1: 3}, trim_excess=True)),
                                a.reshape(10, 2, 10, 3).sum(axis=(1, 3))),
    }


def main():
    group = sys.argv[2]
    results = {}
    a = np.arange(600.0).reshape(20, 30)
    with connect() as client:
        x = da.from_array(a, chunks=(7, 9))
        if group == "basic":
            basic(results, a, x)
        else:
            optimize = group == "optimized"
            # A big rechunk picks P2P on 2024.12.1 once a client exists; the task-based method is asked for.
            with dask.config.set({"array.rechunk.method": "tasks"}):
                for name, op in operations(a, x, optimize).items():
                    part(results, name + ("" if optimize else "_unopt"), op)
    emit(results)


def basic(results, a, x):
    part(results, "elementwise", lambda: same(((x + 1) * 2).T.compute(optimize_graph=False), ((a + 1) * 2).T))
    part(results, "reduction", lambda: same(x.sum(axis=0).compute(optimize_graph=False), a.sum(axis=0)))
    part(results, "matmul", lambda: same((x @ x.T).compute(optimize_graph=False), a @ a.T))
    part(results, "drop_axis", lambda: same(
        x.map_blocks(lambda b: b.sum(axis=1), drop_axis=1, dtype=x.dtype).compute(optimize_graph=False),
        a.sum(axis=1)))
    part(results, "map_overlap", lambda: same(
        x.map_overlap(lambda b: b * 2, depth=2, boundary="none").compute(optimize_graph=False), a * 2))
    part(results, "map_overlap_optimized", lambda: same(
        x.map_overlap(lambda b: b + 1, depth={0: 1, 1: 2}, boundary="reflect").compute(), a + 1))
    part(results, "rechunk", lambda: same(x.rechunk((20, 5)).compute(optimize_graph=False), a))
    part(results, "block_info", lambda: same(
        da.ones((6, 6), chunks=3).map_blocks(lambda b, block_info=None: b * block_info[0]["chunk-location"][0],
                                             dtype=float).compute(optimize_graph=False),
        np.repeat([[0.0], [1.0]], 3, axis=0).repeat(6, axis=1)))
    if not dask.__version__.startswith("2022"):  # 2022.12.1 has no P2P rechunk
        for optimize in (True, False):
            # (a rechunk whose output blocks each need few input blocks gets no P2P transfer)
            part(results, "p2p_refused" + ("" if optimize else "_unopt"), lambda: raised(
                lambda: da.ones((300, 300), chunks=(10, 300)).rechunk((300, 10), method="p2p").sum()
                .compute(optimize_graph=optimize)))


if __name__ == "__main__":
    main()
