"""Writes a small dataset in cloudviper's visibility format with pyarrow, as a Python user would
(docs/data-format.md), plus broken chunks for the reader's error tests.

    python write_chunks.py OUT_DIR

Values follow formulas that PyarrowChunksTest recomputes (all exact in float32):
  u = 10 + r, v = -5 + r/2, w = r/4                                 (r: row within the chunk)
  vis[r, c, p] = (r + c/2 + p/4) + 1j * (p - r/8)                   (c: dataset channel)
  weight[r, p] = 1 + p + r % 3
  flag[r, c, p] = (r + 3 c + p) % 5 == 0
"""
import json
import os
import sys

import numpy as np
import pyarrow as pa

NCHAN = 8
POLS = ["XX", "YY"]
FREQ = [100e9 + 1e6 * c for c in range(NCHAN)]
CENTRE = [1.25, -0.5]


def chunk_table(rows, chan_start, nchan):
    npol = len(POLS)
    r = np.arange(rows, dtype=np.float64)
    c = np.arange(chan_start, chan_start + nchan, dtype=np.float64)
    p = np.arange(npol, dtype=np.float64)
    re = r[:, None, None] + c[None, :, None] / 2 + p[None, None, :] / 4
    im = p[None, None, :] - r[:, None, None] / 8 + 0 * c[None, :, None]
    vis = np.stack([re, im], axis=-1).astype(np.float32)          # [row][chan][pol][re,im]
    weight = (1 + p[None, :] + (r[:, None] % 3)).astype(np.float32)  # [row][pol]
    flag = ((r[:, None, None] + 3 * c[None, :, None] + p[None, None, :]) % 5) == 0  # [row][chan][pol]

    def fixed(values, size, typ):
        return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1), type=typ), size)

    return pa.table({
        "u": pa.array(10 + r), "v": pa.array(-5 + r / 2), "w": pa.array(r / 4),
        "vis": fixed(vis, nchan * npol * 2, pa.float32()),
        "weight": fixed(weight, npol, pa.float32()),
        "flag": fixed(flag, nchan * npol, pa.bool_()),
    })


def metadata(chan_start, nchan):
    return {
        "cloudviper.freq_hz": json.dumps(FREQ[chan_start:chan_start + nchan]),
        "cloudviper.chan_start": str(chan_start),
        "cloudviper.pols": ",".join(POLS),
        "cloudviper.phase_centre_rad": json.dumps(CENTRE),
    }


def write_chunk(path, table, chan_start, nchan, compression=None, batch_rows=None):
    table = table.replace_schema_metadata(metadata(chan_start, nchan))
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        for batch in table.to_batches(max_chunksize=batch_rows):
            writer.write_batch(batch)


def main(out):
    os.makedirs(os.path.join(out, "bad"), exist_ok=True)
    chunks = []
    # (name, rows, chan_start, nchan, compression, rows per batch)
    for name, rows, start, n, comp, per_batch in [
        ("t000_c0000.arrows", 50, 0, 4, None, 20),
        ("t000_c0004.arrows", 50, 4, 4, "lz4", 17),
        ("t001_c0000.arrows", 30, 0, 4, "zstd", None),
        ("t001_c0004.arrows", 30, 4, 4, "zstd", 7),
    ]:
        write_chunk(os.path.join(out, name), chunk_table(rows, start, n), start, n, comp, per_batch)
        chunks.append(name)
    with open(os.path.join(out, "_dataset.json"), "w") as f:
        json.dump({"nchan": NCHAN, "npol": len(POLS), "pols": POLS, "freq_hz": FREQ,
                   "phase_centre_rad": CENTRE, "chunks": chunks}, f)

    bad = os.path.join(out, "bad")
    good = open(os.path.join(out, "t000_c0000.arrows"), "rb").read()
    # cut inside the second batch's body, and cut just before the end-of-stream marker
    with open(os.path.join(bad, "truncated.arrows"), "wb") as f:
        f.write(good[: len(good) * 2 // 3])
    with open(os.path.join(bad, "no_eos.arrows"), "wb") as f:
        f.write(good[:-8])
    table = chunk_table(10, 0, 4)
    # vis as a variable-size list, u as float32, metadata missing, an Arrow file instead of a stream
    as_list = table.set_column(3, "vis", pa.array(table.column("vis").to_pylist(), type=pa.list_(pa.float32())))
    write_chunk(os.path.join(bad, "vis_list.arrows"), as_list, 0, 4)
    as_f32 = table.set_column(0, "u", table.column("u").cast(pa.float32()))
    write_chunk(os.path.join(bad, "u_float32.arrows"), as_f32, 0, 4)
    with pa.OSFile(os.path.join(bad, "no_metadata.arrows"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    with pa.OSFile(os.path.join(bad, "file_format.arrows"), "wb") as sink:
        t = table.replace_schema_metadata(metadata(0, 4))
        with pa.ipc.new_file(sink, t.schema) as w:
            w.write_table(t)
    print("pyarrow", pa.__version__, "wrote", len(chunks), "chunks to", out)


if __name__ == "__main__":
    main(sys.argv[1])
