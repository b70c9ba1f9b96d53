"""dask.dataframe through the scheduler under test, each result against pandas computed locally.

Arguments: a scratch directory for the input and output files, and the group to run (one client
run each, so that each stays within the test kit's time per script):
  basic        default optimization (optimize_graph=True), as a new user computes: the client sends
               Blockwise, DataFrameIOLayer, tree reduction, shuffle and join layers that the
               scheduler expands itself; and a P2P shuffle, refused with an error that names its
               layer class ("p2p_refused")
  optimized    the operations of operations(), optimized (parts named as the operation)
  unoptimized  the same with optimize_graph=False (parts NAME_unopt)
"""
import os
import sys

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd

from interop_common import connect, emit, part, raised

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
    scratch, group = sys.argv[2], sys.argv[3]
    pdf = frame()
    other = pd.DataFrame({"k": np.arange(13), "label": [f"l{i}" for i in range(13)], "w": np.arange(13) * 1.5})
    results = {}
    with connect() as client:
        df = dd.from_pandas(pdf, npartitions=6)
        right = dd.from_pandas(other, npartitions=3)
        if group == "basic":
            basic(results, pdf, other, df, right, scratch)
        else:
            optimize = group == "optimized"
            for name, op in operations(pdf, other, df, right, scratch, optimize).items():
                part(results, name + ("" if optimize else "_unopt"), op)
    emit(results)


def basic(results, pdf, other, df, right, scratch):
    csv = os.path.join(scratch, "table.csv")
    pdf.to_csv(csv, index=False)
    tasks_kw = {"shuffle": "tasks"} if LEGACY_SHUFFLE_KW else {}
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
    part(results, "p2p_refused", lambda: raised(
        lambda: df.shuffle("k", **({"shuffle": "p2p"} if LEGACY_SHUFFLE_KW else {"shuffle_method": "p2p"}))
        .compute()))


def operations(pdf, other, df, right, scratch, optimize):
    """More of what a user computes, each a () -> same(...) against pandas (or, for approximate
    algorithms, against dask's own synchronous scheduler)."""
    def c(x):
        return x.compute(optimize_graph=optimize)

    def to_csv():
        out = os.path.join(scratch, f"out-{optimize}-*.csv")
        df.to_csv(out, index=False, compute_kwargs={"optimize_graph": optimize})
        return same(dd.read_csv(out).compute(scheduler="sync"), pdf, sort_by=["y"])

    arr = np.arange(40.0).reshape(20, 2)
    return {
        "map_partitions": lambda: same(c(df.map_partitions(lambda p: p.assign(z=p.x * p.y))),
                                       pdf.assign(z=pdf.x * pdf.y)),
        "rolling": lambda: same(c(df.x.rolling(5).mean()), pdf.x.rolling(5).mean()),
        "repartition": lambda: same(c(df.repartition(npartitions=4)), pdf),
        "sort_values": lambda: same(c(df.sort_values("x")), pdf.sort_values("x")),
        "drop_duplicates": lambda: same(c(df[["k", "s"]].drop_duplicates()), pdf[["k", "s"]].drop_duplicates(),
                                        sort_by=["k", "s"]),
        "nunique": lambda: same(c(df.k.nunique()), pdf.k.nunique()),
        "value_counts": lambda: same(c(df.s.value_counts()).sort_index(), pdf.s.value_counts().sort_index()),
        "quantile": lambda: same(c(df.y.quantile([0.25, 0.5])),
                                 df.y.quantile([0.25, 0.5]).compute(scheduler="sync")),
        "describe": lambda: same(c(df[["x", "y"]].describe()).loc[["count", "mean", "min", "max"]],
                                 pdf[["x", "y"]].describe().loc[["count", "mean", "min", "max"]]),
        "join_index": lambda: same(c(df.set_index("k").join(right.set_index("k"), how="inner")),
                                   pdf.set_index("k").join(other.set_index("k"), how="inner"), sort_by=["y"]),
        "concat": lambda: same(c(dd.concat([df, df])), pd.concat([pdf, pdf])),
        "merge_index": lambda: same(c(dd.merge(df, right.set_index("k"), left_on="k", right_index=True)),
                                    pd.merge(pdf, other.set_index("k"), left_on="k", right_index=True),
                                    sort_by=["y"]),
        "groupby_apply": lambda: same(c(df.groupby("k").apply(lambda g: g.x.sum(), meta=(None, "f8"))).sort_index(),
                                      pdf.groupby("k").apply(lambda g: g.x.sum()).sort_index()),
        "from_dask_array": lambda: same(
            c(dd.from_dask_array(da.from_array(arr, chunks=(5, 2)), columns=["a", "b"]).sum()),
            pd.DataFrame(arr, columns=["a", "b"]).sum()),
        "cumsum": lambda: same(c(df.x.cumsum()), pdf.x.cumsum()),
        "to_csv": to_csv,
    }


if __name__ == "__main__":
    main()
