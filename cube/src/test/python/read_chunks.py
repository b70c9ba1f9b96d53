"""Reads a dataset in cloudviper's visibility format with pyarrow and prints, per chunk, what
JavaChunksInPyarrowTest compares with the Java reader: rows, batches, metadata, sums.

    python read_chunks.py DATASET_DIR
"""
import json
import os
import sys

import numpy as np
import pyarrow as pa


def main(folder):
    with open(os.path.join(folder, "_dataset.json")) as f:
        info = json.load(f)
    out = {}
    for name in info["chunks"]:
        with pa.OSFile(os.path.join(folder, name), "rb") as source:
            reader = pa.ipc.open_stream(source)
            batches = list(reader)
        table = pa.Table.from_batches(batches)
        meta = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
        nchan = len(json.loads(meta["cloudviper.freq_hz"]))
        npol = len(meta["cloudviper.pols"].split(","))
        vis = table.column("vis").combine_chunks().flatten().to_numpy().reshape(-1, nchan, npol, 2)
        flag = table.column("flag").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        weight = table.column("weight").combine_chunks().flatten().to_numpy()
        out[name] = {
            "rows": table.num_rows,
            "batches": len(batches),
            "chan_start": int(meta["cloudviper.chan_start"]),
            "pols": meta["cloudviper.pols"],
            "types": [str(t) for t in table.schema.types],
            "u_sum": float(np.sum(table.column("u").to_numpy())),
            "vis_re_sum": float(np.sum(vis[..., 0], dtype=np.float64)),
            "vis_im_sum": float(np.sum(vis[..., 1], dtype=np.float64)),
            "weight_sum": float(np.sum(weight, dtype=np.float64)),
            "flags": int(np.count_nonzero(flag)),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
