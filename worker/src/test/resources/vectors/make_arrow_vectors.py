"""Writes arrow_vectors.json: pyarrow values as Dask 2022.12.1 serializes them (distributed/protocol/arrow.py),
for the Java unit tests. pyarrow is not in Debian bookworm: run with the venv scripts/setup-peers.sh makes,
from this directory:
    ../../../../../.cache/py22/bin/python make_arrow_vectors.py
Each vector: the sub-header exactly as a peer sends it (msgpack, with num-sub-frames) and its frames.
"""
import json

import msgpack
import pandas as pd
import pyarrow as pa
from distributed.protocol.core import msgpack_encode_default
from distributed.protocol.serialize import serialize_and_split


def sub(x):
    header, frames = serialize_and_split(x)
    header["num-sub-frames"] = len(frames)
    h = msgpack.dumps(header, default=msgpack_encode_default, use_bin_type=True)
    return {"header": h.hex(), "frames": [bytes(f).hex() for f in frames]}


table = pa.table({"id": pa.array([1, 2, None], pa.int64()), "x": [0.5, 1.5, 2.5], "name": ["a", "b", None]})
f4 = pa.table({"y": pa.array([1.5, None, -2.0], pa.float32())})
two = pa.Table.from_batches(table.to_batches() + table.slice(1).to_batches())
dictionary = pa.table({"k": pa.array(["u", "v", "u"]).dictionary_encode(), "x": [1.0, 2.0, 3.0]})
ranged = pa.table({"id": pa.array(range(4), pa.int64()), "x": [i / 2 for i in range(4)],
                   "name": [f"row{i}" for i in range(4)]})

vectors = {
    "table": table,
    "table_f4": f4,
    "table_two_batches": two,
    "table_empty": table.slice(0, 0),
    "table_dictionary": dictionary,
    "batch": table.to_batches()[0],
    "arrow_range_4": ranged,
    "pandas_dataframe": pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}),
}
out = {name: sub(x) for name, x in vectors.items()}
with open("arrow_vectors.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
