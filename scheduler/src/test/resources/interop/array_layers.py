"""dask.array graphs the scheduler expands itself (optimize_graph=False; map_overlap, rechunk,
contractions), each result against numpy computed locally."""
import dask.array as da
import numpy as np

from interop_common import connect, emit, part


def same(got, want):
    got = np.asarray(got)
    return {"equal": bool(got.shape == want.shape and np.allclose(got, want)), "shape": list(want.shape)}


def main():
    results = {}
    a = np.arange(600.0).reshape(20, 30)
    with connect() as client:
        x = da.from_array(a, chunks=(7, 9))
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
    emit(results)


if __name__ == "__main__":
    main()
