#!/usr/bin/env python3
"""Captures Dask 2022.12.1 update-graph-hlg messages whose layers the scheduler must unpack.

Run with a 2022.12.1 interpreter (pyarrow for the parquet case):  make_layers22.py OUTDIR [CASE...]

For every case a stock Client computes a collection through a Python scheduler over TCP, and the
frames of each update-graph-hlg message it writes are kept exactly as they cross the socket:
OUTDIR/<case>-<n>.bin (u64 total | u64 count | count x u64 length | frames), as the captures of
testkit do. OUTDIR/<case>.json records the case's result as computed locally (not through a
scheduler) and the layer classes of every message. Input files live under DATA (see data_dir), which
verify_layers22.py recreates byte for byte before it runs the tasks.
"""
import json
import os
import struct
import sys

import numpy as np
import pandas as pd

import dask
import dask.array as da
import dask.bag as db
import dask.dataframe as dd
import distributed.comm.tcp as tcp
from distributed import Client, LocalCluster

DATA = "/tmp/cloudviper-layers22"


def frame_bytes(f):
    return bytes(f) if not isinstance(f, bytes) else f


def data_dir():
    """Deterministic input files (a CSV in three blocks, a two-file parquet dataset)."""
    os.makedirs(DATA, exist_ok=True)
    pdf = frame()
    pdf.to_csv(os.path.join(DATA, "table.csv"), index=False)
    try:
        import pyarrow  # noqa: F401
        pdf.iloc[:60].to_parquet(os.path.join(DATA, "part0.parquet"), index=False)
        pdf.iloc[60:].to_parquet(os.path.join(DATA, "part1.parquet"), index=False)
    except ImportError:
        pass
    return pdf


def frame():
    n = 120
    return pd.DataFrame({"a": np.arange(n) % 7, "b": np.arange(n) * 0.5, "c": (np.arange(n) * 7919) % 13})


def cases(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    right = dd.from_pandas(pdf.rename(columns={"b": "b2"}).iloc[::3], npartitions=3)
    small = dd.from_pandas(pd.DataFrame({"a": range(7), "name": list("abcdefg")}), npartitions=2)
    x = da.arange(144, chunks=30).reshape((12, 12)).rechunk((5, 4))
    out = {
        "df_sum": (lambda: df.b.sum(), lambda: pdf.b.sum(), {}),
        "df_groupby_agg": (lambda: df.groupby("a").agg({"b": "sum", "c": "max"}),
                           lambda: pdf.groupby("a").agg({"b": "sum", "c": "max"}), {}),
        "df_groupby_split_out": (lambda: df.groupby("a").b.sum(split_out=2),
                                 lambda: pdf.groupby("a").b.sum(), {}),
        "df_merge_hash": (lambda: dd.merge(df, right, on="a"), None, {}),
        "df_merge_broadcast": (lambda: dd.merge(df, small, on="a", how="left", broadcast=True, shuffle="tasks"), None, {}),
        "df_merge_broadcast_inner": (lambda: dd.merge(df, small, on="a", broadcast=True, shuffle="tasks"), None, {}),
        "df_set_index": (lambda: df.set_index("c"), None, {}),
        "df_shuffle": (lambda: df.shuffle("a"), None, {}),
        "df_shuffle_stages": (lambda: dd.from_pandas(pdf, npartitions=10).shuffle("c", max_branch=3), None, {}),
        "df_read_csv": (lambda: dd.read_csv(os.path.join(DATA, "table.csv"), blocksize=900).b.sum(),
                        lambda: pdf.b.sum(), {}),
        "df_unoptimized": (lambda: (df.b + df.c).map_partitions(lambda s: s * 2).sum(),
                           lambda: ((pdf.b + pdf.c) * 2).sum(), {"optimize_graph": False}),
        "array_unoptimized": (lambda: (da.ones((10, 10), chunks=4) + 1).sum(axis=0),
                              lambda: (np.ones((10, 10)) + 1).sum(axis=0), {"optimize_graph": False}),
        "array_matmul": (lambda: x @ x.T, lambda: np.arange(144).reshape(12, 12) @ np.arange(144).reshape(12, 12).T,
                         {"optimize_graph": False}),
        "array_rechunk": (lambda: x.rechunk((12, 3)), lambda: np.arange(144).reshape(12, 12), {"optimize_graph": False}),
        "array_overlap": (lambda: x.map_overlap(lambda b: b * 2, depth=1, boundary="none"),
                          lambda: np.arange(144).reshape(12, 12) * 2, {}),
        "array_overlap_unoptimized": (lambda: x.map_overlap(lambda b: b * 2, depth=1, boundary="none"), None,
                                      {"optimize_graph": False}),
        "array_drop_axis": (lambda: x.map_blocks(lambda b: b.sum(axis=1), drop_axis=1, dtype=x.dtype),
                            lambda: np.arange(144).reshape(12, 12).sum(axis=1), {"optimize_graph": False}),
        "array_from_numpy": (lambda: da.from_array(np.arange(40.0).reshape(8, 5), chunks=(3, 2)).T + 1,
                             lambda: np.arange(40.0).reshape(8, 5).T + 1, {"optimize_graph": False}),
        "array_block_info": (lambda: da.ones((6, 6), chunks=3).map_blocks(
                                 lambda b, block_info=None: b * block_info[0]["chunk-location"][0], dtype=float),
                             None, {"optimize_graph": False}),
        "bag_unoptimized": (lambda: db.from_sequence(range(20), npartitions=4).map(lambda v: v + 1).sum(),
                            lambda: sum(range(1, 21)), {"optimize_graph": False}),
    }
    try:
        import pyarrow  # noqa: F401
        out["df_read_parquet"] = (lambda: dd.read_parquet(DATA + "/*.parquet").c.max(), lambda: pdf.c.max(), {})
    except ImportError:
        pass
    return out


def main():
    out = sys.argv[1]
    only = set(sys.argv[2:])
    os.makedirs(out, exist_ok=True)
    pdf = data_dir()
    captured = []
    real_to_frames = tcp.to_frames

    async def recording_to_frames(msg, **kw):
        frames = await real_to_frames(msg, **kw)
        if isinstance(msg, (list, tuple)) and any(isinstance(m, dict) and m.get("op") == "update-graph-hlg"
                                                  for m in msg):
            captured.append(([frame_bytes(f) for f in frames],
                             [[(l["__module__"], l["__name__"]) for l in m["hlg"]["layers"]]
                              for m in msg if isinstance(m, dict) and m.get("op") == "update-graph-hlg"]))
        return frames

    tcp.to_frames = recording_to_frames
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        for name, (make, local, kw) in cases(pdf).items():
            if only and name not in only:
                continue
            captured.clear()
            try:
                result = make().compute(**kw)
            except Exception as e:
                # Dask's own scheduler cannot unpack every layer it is sent (ArrayOverlapLayer's
                # default packing with optimize_graph=False); the message is kept all the same.
                print(name, "fails on Python's scheduler:", type(e).__name__, e)
                local = None
                result = None
            if local is not None:
                want = local()
                if isinstance(want, np.ndarray):
                    assert np.array_equal(np.asarray(result), want), name
                elif isinstance(want, (pd.DataFrame, pd.Series)):
                    pd.testing.assert_frame_equal(result.to_frame() if isinstance(result, pd.Series) else result,
                                                  want.to_frame() if isinstance(want, pd.Series) else want,
                                                  check_like=True)
                else:
                    assert result == want, (name, result, want)
            layers = []
            for i, (frames, classes) in enumerate(captured):
                prelude = struct.pack("<Q", len(frames)) + b"".join(struct.pack("<Q", len(f)) for f in frames)
                body = prelude + b"".join(frames)
                with open(os.path.join(out, f"{name}-{i}.bin"), "wb") as f:
                    f.write(struct.pack("<Q", len(body)) + body)
                layers.append(classes)
            with open(os.path.join(out, f"{name}.json"), "w") as f:
                json.dump({"case": name, "messages": len(captured), "layers": layers}, f, indent=1)
            print(name, len(captured), [c for _, cs in captured for c in cs])


if __name__ == "__main__":
    main()
