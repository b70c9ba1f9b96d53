"""Writes a small sky dataset with pyarrow, as a Python user would, and its expected images.

    python sky_chunks.py OUT_DIR NPIX CELL_RAD

Two point sources observed on random baselines (8 channels, 2 time ranges x 2 channel ranges,
zstd and lz4 chunks, several record batches, some products flagged), then the dirty image and the
PSF of every channel by the direct Fourier sum of docs/data-format.md in float64 with natural
weights: OUT_DIR/expected_dirty.npy and expected_psf.npy, float64 (nchan, npix, npix).
"""
import json
import os
import sys

import numpy as np
import pyarrow as pa

C = 299_792_458.0
NCHAN = 8
POLS = ["XX", "YY"]
FREQ = [100e9 + 2e6 * c for c in range(NCHAN)]
CENTRE = [2.6, -0.5]


def write_chunk(path, u, v, w, vis, weight, flag, chan_start, compression):
    rows, nch, npol = vis.shape
    vis_f = np.stack([vis.real, vis.imag], axis=-1).astype(np.float32)
    table = pa.table({
        "u": pa.array(u, pa.float64()), "v": pa.array(v, pa.float64()), "w": pa.array(w, pa.float64()),
        "vis": pa.FixedSizeListArray.from_arrays(pa.array(vis_f.ravel()), nch * npol * 2),
        "weight": pa.FixedSizeListArray.from_arrays(pa.array(weight.astype(np.float32).ravel()), npol),
        "flag": pa.FixedSizeListArray.from_arrays(pa.array(flag.ravel()), nch * npol),
    }).replace_schema_metadata({
        "cloudviper.freq_hz": json.dumps(FREQ[chan_start:chan_start + nch]),
        "cloudviper.chan_start": str(chan_start),
        "cloudviper.pols": ",".join(POLS),
        "cloudviper.phase_centre_rad": json.dumps(CENTRE),
    })
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        for batch in table.to_batches(max_chunksize=700):
            writer.write_batch(batch)


def main(out, npix, cell):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    sources = [(1.0, 5.3 * cell, 3.1 * cell), (0.4, -20.0 * cell, 12.5 * cell)]
    # per channel: Stokes I and its weight of every sample, for the expected images
    samples = [[] for _ in range(NCHAN)]
    chunks = []
    for t, rows in enumerate([1500, 1200]):
        u, v = rng.normal(0, 60, (2, rows))
        w = rng.normal(0, 10, rows)
        wt = rng.uniform(0.5, 2.0, (rows, 2)).astype(np.float32)
        for start, comp in [(0, "zstd"), (4, "lz4")]:
            f = np.array(FREQ[start:start + 4])
            ul, vl, wl = (x[:, None] * f[None, :] / C for x in (u, v, w))
            vis = np.zeros((rows, 4), np.complex128)
            for s, l, m in sources:
                n = np.sqrt(1 - l * l - m * m)
                vis += s * np.exp(-2j * np.pi * (ul * l + vl * m + wl * (n - 1)))
            noise = rng.normal(0, 0.05, (rows, 4, 2)) + 1j * rng.normal(0, 0.05, (rows, 4, 2))
            pol = (vis[:, :, None] + noise).astype(np.complex64)
            flag = rng.random((rows, 4, 2)) < 0.05
            name = f"t{t:03d}_c{start:04d}.arrows"
            write_chunk(os.path.join(out, name), u, v, w, pol, wt, flag, start, comp)
            chunks.append(name)
            good = ~flag
            wsum = good[:, :, 0] * wt[:, None, 0] + good[:, :, 1] * wt[:, None, 1]
            both = good[:, :, 0] & good[:, :, 1]
            p = pol.astype(np.complex128)
            stokes = np.where(both, (p[:, :, 0] + p[:, :, 1]) / 2, np.where(good[:, :, 0], p[:, :, 0], p[:, :, 1]))
            for c in range(4):
                samples[start + c].append((ul[:, c], vl[:, c], stokes[:, c], wsum[:, c]))
    with open(os.path.join(out, "_dataset.json"), "w") as fh:
        json.dump({"nchan": NCHAN, "npol": 2, "pols": POLS, "freq_hz": FREQ, "phase_centre_rad": CENTRE,
                   "chunks": chunks}, fh)

    coords = (np.arange(npix) - npix // 2) * cell
    dirty = np.zeros((NCHAN, npix, npix))
    psf = np.zeros((NCHAN, npix, npix))
    for c in range(NCHAN):
        ul = np.concatenate([s[0] for s in samples[c]])
        vl = np.concatenate([s[1] for s in samples[c]])
        vis = np.concatenate([s[2] for s in samples[c]])
        wts = np.concatenate([s[3] for s in samples[c]])
        eu = np.exp(2j * np.pi * np.outer(ul, coords))      # [sample][i]
        ev = np.exp(2j * np.pi * np.outer(vl, coords))      # [sample][j]
        dirty[c] = ((ev * (wts * vis)[:, None]).T @ eu).real / wts.sum()
        psf[c] = ((ev * wts[:, None]).T @ eu).real / wts.sum()
    np.save(os.path.join(out, "expected_dirty.npy"), dirty)
    np.save(os.path.join(out, "expected_psf.npy"), psf)
    print("pyarrow", pa.__version__, "wrote", len(chunks), "chunks and the expected images to", out)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
