"""dask.dataframe through the scheduler under test, each result against pandas computed locally.

Argument: a scratch directory for the input files. Default optimization (optimize_graph=True), as a
new user computes: the client sends Blockwise, DataFrameIOLayer, tree reduction, shuffle and join
layers that the scheduler expands itself.
"""
import os
import sys

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from interop_common import connect, emit, part

LEGACY_SHUFFLE_KW = dask.__version__.startswith("2022")


def frame(n=400):
    rng = np.random.RandomState(7)
    return pd.DataFrame({"k": rng.randint(0, 13, n), "x": rng.random_sample(n), "y": np.arange(n),
                         "s": [f"s{i % 5}" for i in range(n)]})


def same(got, want, sort_by=None):
    """Whether a dask result equals the pandas one (row order aside where a shuffle changed it)."""
    if sort_by is not None:
        got = got.sort_values(sort_by).reset_index(drop=True)
        want = want.sort_values(sort_by).reset_index(drop=True)
    try:
        if isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want, check_like=True)
        elif isinstance(want, pd.Series):
            pd.testing.assert_series_equal(got, want)
        else:
            assert np.isclose(got, want), (got, want)
    except AssertionError as e:
        return {"equal": False, "why": str(e)[:2000]}
    return {"equal": True, "rows": int(len(want)) if hasattr(want, "__len__") else 1}


def main():
    scratch = sys.argv[2]
    pdf = frame()
    other = pd.DataFrame({"k": np.arange(13), "label": [f"l{i}" for i in range(13)], "w": np.arange(13) * 1.5})
    csv = os.path.join(scratch, "table.csv")
    pdf.to_csv(csv, index=False)
    tasks_kw = {"shuffle": "tasks"} if LEGACY_SHUFFLE_KW else {}
    results = {}
    with connect() as client:
        df = dd.from_pandas(pdf, npartitions=6)
        right = dd.from_pandas(other, npartitions=3)

        part(results, "from_pandas", lambda: same(df.x.sum().compute(), pdf.x.sum()))
        part(results, "read_csv", lambda: same(
            dd.read_csv(csv, blocksize=4000).groupby("k").x.mean().compute().sort_index(),
            pd.read_csv(csv).groupby("k").x.mean().sort_index()))
        part(results, "groupby_agg", lambda: same(
            df.groupby("k").agg({"x": "sum", "y": "max"}).compute().sort_index(),
            pdf.groupby("k").agg({"x": "sum", "y": "max"}).sort_index()))
        part(results, "groupby_split_out", lambda: same(
            df.groupby("s").x.sum(split_out=3).compute().sort_index(), pdf.groupby("s").x.sum().sort_index()))
        part(results, "merge_hash", lambda: same(
            dd.merge(df, right, on="k").compute(), pd.merge(pdf, other, on="k"), sort_by=["y"]))
        part(results, "merge_broadcast", lambda: same(
            dd.merge(df, right, on="k", how="left", broadcast=True, **tasks_kw).compute(),
            pd.merge(pdf, other, on="k", how="left"), sort_by=["y"]))
        part(results, "set_index", lambda: same(df.set_index("y").compute(), pdf.set_index("y")))
        part(results, "shuffle", lambda: same(
            df.shuffle("k").compute(), pdf, sort_by=["y"]))
        part(results, "shuffle_stages", lambda: same(
            dd.from_pandas(pdf, npartitions=20).shuffle("s", max_branch=4).compute(), pdf, sort_by=["y"]))
        part(results, "unoptimized", lambda: same(
            (df.x * 2 + df.y).sum().compute(optimize_graph=False), (pdf.x * 2 + pdf.y).sum()))
    emit(results)


if __name__ == "__main__":
    main()
