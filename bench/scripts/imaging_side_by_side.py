#!/usr/bin/env python3
"""The imaging core's Python counterparts, on the same data and the same one core.

1. A CNGI-style numba gridder (as the CNGI prototype's standard gridder): prolate spheroidal kernel
   (Schwab's rational approximation, as CASA's and AIPS's grdsf), support 7, oversampling 100,
   nearest-neighbour lookup in a 1-D table, complex128 grids, one 1024^2 grid per channel (a cube),
   single-threaded. It grids the 3,168,000 samples (99,000 rows x 32 channels) that
   `ImagingBenchMain write DIR` writes (bench/src/main/java/org/cloudviper/bench/imaging/AlmaLikeData.java).
2. numpy's fft2 of 2048^2 and 4096^2 arrays in complex128 and complex64.

Every figure is the median of --repeat runs after a warm-up (numba's compilation excluded), in wall
time and in the process's CPU time. numba and numpy come from a virtual environment this script
makes under bench/target/py-imaging (pip, for the Python 3.11 on PATH), not from the system.

    python3 bench/scripts/imaging_side_by_side.py [--repeat 5] [--skip-fft]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
JAR = os.path.join(ROOT, "bench", "target", "benchmarks.jar")
VENV = os.path.join(ROOT, "bench", "target", "py-imaging")
DATA = os.path.join(ROOT, "bench", "target", "imaging-data")


def ensure_venv():
    """Re-runs this script inside the venv, making it (numba, numpy) first if needed."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.prefix) == os.path.abspath(VENV):
        return
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", "numba", "numpy"], check=True)
    os.execv(py, [py] + sys.argv)


def ensure_data():
    if not os.path.exists(os.path.join(DATA, "meta.txt")):
        subprocess.run(["java", "-cp", JAR, "org.cloudviper.bench.imaging.ImagingBenchMain", "write", DATA],
                       check=True)


def timed(fn, repeat):
    """Median wall and CPU seconds of repeat calls, after one warm-up call."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpus.append(time.process_time() - c0)
        walls.append(time.perf_counter() - t0)
    walls.sort()
    cpus.sort()
    return walls[len(walls) // 2], cpus[len(cpus) // 2], walls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-fft", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    ensure_venv()
    import numba
    import numpy as np

    # numba and numpy on one thread, as the Java side
    numba.set_num_threads(1)
    ensure_data()
    nrow, nchan, cell = open(os.path.join(DATA, "meta.txt")).read().split()
    nrow, nchan, cell = int(nrow), int(nchan), float(cell)
    uvw = np.fromfile(os.path.join(DATA, "uvw.f64"), dtype="<f8").reshape(nrow, 3)
    freq = np.fromfile(os.path.join(DATA, "freq.f64"), dtype="<f8")
    vis = np.fromfile(os.path.join(DATA, "vis.c64"), dtype="<c8").reshape(nrow, nchan)
    weight = np.fromfile(os.path.join(DATA, "weight.f32"), dtype="<f4").reshape(nrow, nchan)
    results = {"numba": numba.__version__, "numpy": np.__version__, "samples": nrow * nchan}

    support, oversampling, npix = 7, 100, 1024

    def grdsf(nu):
        # Schwab's rational approximation of the prolate spheroidal wave function (m = 6, alpha = 1)
        p = [[8.203343e-2, -3.644705e-1, 6.278660e-1, -5.335581e-1, 2.312756e-1],
             [4.028559e-3, -3.697768e-2, 1.021332e-1, -1.201436e-1, 6.412774e-2]]
        q = [[1.0000000e0, 8.212018e-1, 2.078043e-1],
             [1.0000000e0, 9.599102e-1, 2.918724e-1]]
        nu = np.abs(nu)
        out = np.zeros_like(nu)
        for part, (lo, hi, end) in enumerate([(0.0, 0.75, 0.75), (0.75, 1.0, 1.0)]):
            sel = (nu >= lo) & (nu <= hi)
            d = nu[sel] ** 2 - end ** 2
            top = sum(c * d ** k for k, c in enumerate(p[part]))
            bot = sum(c * d ** k for k, c in enumerate(q[part]))
            out[sel] = top / bot
        return out

    # the 1-D kernel at oversampled offsets 0 .. (support/2) cells, as CNGI tabulates it
    offsets = np.arange(0, (support // 2 + 1) * oversampling + 1) / oversampling
    table = grdsf(offsets / (support / 2.0)) * (1 - (offsets / (support / 2.0)) ** 2).clip(0)

    @numba.njit(nogil=True, cache=False)
    def grid_cube(grid, uvw, vis, weight, freq, cell, table, oversampling, support):
        n = grid.shape[1]
        half = support // 2
        c = 299792458.0
        for ch in range(vis.shape[1]):
            scale = n * cell * freq[ch] / c
            for r in range(vis.shape[0]):
                w = weight[r, ch]
                if w == 0.0:
                    continue
                uc = uvw[r, 0] * scale + n // 2
                vc = uvw[r, 1] * scale + n // 2
                ui = int(uc + 0.5)
                vi = int(vc + 0.5)
                if ui - half < 0 or vi - half < 0 or ui + half >= n or vi + half >= n:
                    continue
                uo = int(round((ui - uc) * oversampling))
                vo = int(round((vi - vc) * oversampling))
                val = vis[r, ch] * w
                for iv in range(-half, half + 1):
                    cv = table[abs(vo + iv * oversampling)]
                    row = vi + iv
                    for iu in range(-half, half + 1):
                        grid[ch, row, ui + iu] += table[abs(uo + iu * oversampling)] * cv * val

    grid = np.zeros((nchan, npix, npix), dtype=np.complex128)

    def run():
        grid[:] = 0
        grid_cube(grid, uvw, vis, weight, freq, cell, table, oversampling, support)

    # zeroing the grids is not gridding: time it apart and take it out
    zero_wall, zero_cpu, _ = timed(lambda: grid.fill(0), args.repeat)
    wall, cpu, runs = timed(run, args.repeat)
    wall -= zero_wall
    cpu -= zero_cpu
    results["numba_grid"] = {"wall_s": wall, "cpu_s": cpu, "msamples_per_s_wall": nrow * nchan / wall / 1e6,
                             "msamples_per_s_cpu": nrow * nchan / cpu / 1e6}
    print(f"numba CNGI-style gridder (PSWF support 7, oversampling 100, complex128, {nchan} x {npix}^2 grids): "
          f"{wall:.3f} s wall = {nrow * nchan / wall / 1e6:.2f} M samples/s; CPU {cpu:.3f} s = "
          f"{nrow * nchan / cpu / 1e6:.2f} M samples/s (runs {[round(x, 3) for x in runs]}, zeroing "
          f"{zero_wall:.3f} s taken out)")
    del grid

    if not args.skip_fft:
        for n in (2048, 4096):
            for dtype in (np.complex128, np.complex64):
                rng = np.random.default_rng(1)
                a = (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))).astype(dtype)
                wall, cpu, runs = timed(lambda: np.fft.fft2(a), args.repeat)
                out = np.fft.fft2(a)
                results[f"numpy_fft2_{n}_{np.dtype(dtype).name}"] = {"wall_s": wall, "cpu_s": cpu,
                                                                     "out": np.dtype(out.dtype).name}
                print(f"numpy fft2 {n}^2 {np.dtype(dtype).name} (result {out.dtype}): {wall:.3f} s wall, "
                      f"{cpu:.3f} s CPU (runs {[round(x, 3) for x in runs]})")
                del a, out
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
