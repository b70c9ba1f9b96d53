"""A stock Dask client images a cube on cloudviper Java workers with cloudviper.imaging.image_cube
(argv: SCHEDULER LOCATION DATA_DIR NPIX CELL_ARCSEC STORAGE_OPTIONS_JSON) and compares it with the
direct Fourier sums in DATA_DIR/expected_*.npy (sky_chunks.py)."""
import json
import sys

import numpy as np

from cloudviper.imaging import image_cube
from interop_common import connect, emit, part, raised


def compare(got, expected):
    return float(np.abs(got.astype(np.float64) - expected).max() / np.abs(expected).max())


def main():
    location, data, npix, cell = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    so = json.loads(sys.argv[6])
    results = {}
    with connect() as client:
        def natural_with_psf():
            cube, psf = image_cube(client, location, npix=npix, cell_arcsec=cell, psf=True, storage_options=so)
            return {"shape": list(cube.shape), "dtype": str(cube.dtype), "psf_shape": list(psf.shape),
                    "dirty_error": compare(cube, np.load(data + "/expected_dirty.npy")),
                    "psf_error": compare(psf, np.load(data + "/expected_psf.npy")),
                    "psf_peak": float(psf[0, npix // 2, npix // 2])}

        part(results, "natural", natural_with_psf)

        def briggs():
            cube = image_cube(client, location, npix=npix, cell_arcsec=cell, weighting="briggs", robust=0.0,
                              storage_options=so)
            return {"shape": list(cube.shape), "finite": bool(np.isfinite(cube).all()),
                    "peak": float(cube.max())}

        part(results, "briggs", briggs)

        def missing():
            return raised(lambda: image_cube(client, location + "-nothing-here", npix=npix, cell_arcsec=cell,
                                             storage_options=so))

        part(results, "missing", missing)
    emit(results)


if __name__ == "__main__":
    main()
