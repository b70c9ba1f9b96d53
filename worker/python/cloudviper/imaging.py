"""Cube imaging on cloudviper Java workers, from a stock Dask client.

    from distributed import Client
    from cloudviper.imaging import image_cube

    client = Client("tcp://scheduler:8786")          # with cloudviper Java workers
    cube = image_cube(client, "s3://bucket/prefix", npix=1024, cell_arcsec=0.1,
                      storage_options={"endpoint_url": "http://s3:9000", "key": "...",
                                       "secret": "...", "region": "us-east-1"})
    cube.shape                                        # (nchan, 1024, 1024), float32

The dataset is the format of cloudviper's docs/data-format.md (Arrow IPC stream chunks and
``_dataset.json`` under a prefix or in a folder the workers can read). Pixel ``[c, j, i]`` of the
dirty image lies at l = (i - npix/2) cell, m = (j - npix/2) cell (l east, m north) and is
Re(sum W V exp(+2 pi i (u l + v m))) / sum W over channel c's samples; the PSF is the same with
V = 1 (peak 1 at pixel (npix/2, npix/2)).

Every task runs in Java on the workers (``resources={"java": 1}``): reading from S3, Stokes I,
weighting, gridding, FFT and grid correction. Only the images come back to the client. The other
functions of this module name those tasks (a client pickles them by reference); on a Python worker
they raise.
"""
import math

__all__ = ["image_cube", "plan", "density", "density_sum", "grid", "grid_sum", "image_block", "grid_stats"]

#: Partial grids summed per grid_sum task (as CubeJob.FAN_IN in Java).
FAN_IN = 8
_ARCSEC = math.pi / 180 / 3600
_JAVA = {"java": 1}


def image_cube(client, location, npix, cell_arcsec, weighting="natural", robust=0.0, psf=False,
               storage_options=None, epsilon=1e-4, precision="float32", resources=None):
    """The dirty image cube of the dataset at ``location`` as a float32 numpy array of shape
    (nchan, npix, npix); with ``psf=True`` a pair (cube, psf) of such arrays.

    location: ``s3://bucket/prefix`` or a folder the workers see.
    weighting: "natural", "uniform" or "briggs" (with ``robust``, -5..5), as CASA defines them.
    storage_options: fsspec-style S3 settings: endpoint_url, key, secret, token, region, anon,
        path_style, part_size, max_concurrency (None: the AWS SDK's defaults and credential chain).
    epsilon: the accuracy relative to the image's peak (float32: 1e-5..0.1; float64: 1e-12..0.1).
    precision: "float32" (complex64 grids) or "float64"; the images are float32 either way.
    resources: the Dask resources of the tasks (default {"java": 1}: Java workers only).

    Channels that no chunk holds are zeros. A task that fails (a missing object, a truncated
    chunk...) raises here with the Java worker's message, which names the object.
    """
    import numpy as np
    from distributed import as_completed

    so = dict(storage_options or {})
    res = dict(_JAVA if resources is None else resources)
    image = {"npix": int(npix), "cell_rad": float(cell_arcsec) * _ARCSEC, "epsilon": float(epsilon),
             "precision": str(precision), "weighting": str(weighting), "robust": float(robust),
             "psf": bool(psf)}

    def submit(fn, *args):
        return client.submit(fn, *args, resources=res, pure=False)

    # the plan stays on the workers while the cube is imaged: the grid tasks take the dataset's
    # description from it instead of each reading _dataset.json
    planned = submit(plan, location, so)
    layout = planned.result()
    images = []
    for block in layout["blocks"]:
        chunks = list(block["chunks"])
        summed_density = None
        if image["weighting"].lower() != "natural":
            summed_density = submit(density_sum, [submit(density, location, so, c, image, planned) for c in chunks],
                                    image)
        level = [submit(grid, location, so, c, image, summed_density, planned) for c in chunks]
        while len(level) > FAN_IN:
            level = [submit(grid_sum, level[i:i + FAN_IN], image) for i in range(0, len(level), FAN_IN)]
        images.append(submit(image_block, level, image))

    nchan = int(layout["nchan"])
    dirty = np.zeros((nchan, npix, npix), np.float32)
    beams = np.zeros((nchan, npix, npix), np.float32) if psf else None
    # each block's images travel as soon as they are made, while later blocks are still gridded
    block_of = {f.key: b for f, b in zip(images, layout["blocks"])}
    for done in as_completed(images):
        arr = done.result()
        block = block_of[done.key]
        s, n = int(block["chan_start"]), int(block["nchan"])
        if psf:
            dirty[s:s + n] = arr[0]
            beams[s:s + n] = arr[1]
        else:
            dirty[s:s + n] = arr
    return (dirty, beams) if psf else dirty


def _java_only(name):
    raise RuntimeError(f"cloudviper.imaging.{name} runs on cloudviper Java workers; submit with resources={{'java': 1}}")


def plan(location, storage_options):
    """The dataset's description and its channel blocks (a dict; see the Java task's docs)."""
    _java_only("plan")


def density(location, storage_options, chunk, image, plan=None):
    """A chunk's uniform/Briggs weight density (a flat uint8 array: a partial for density_sum). With
    ``plan`` (the result of plan), the chunk is checked against the description it carries instead of
    reading ``_dataset.json`` again."""
    _java_only("density")


def density_sum(densities, image):
    """The sum of one channel block's densities."""
    _java_only("density_sum")


def grid(location, storage_options, chunk, image, density, plan=None):
    """A chunk read, formed into Stokes I, weighted and gridded: its partial grids (flat uint8 array).
    ``plan`` as for density."""
    _java_only("grid")


def grid_sum(partials, image):
    """The sum of partial grids of one channel block."""
    _java_only("grid_sum")


def image_block(partials, image):
    """The summed grids of a block, FFT'd and corrected per channel: float32 (nchan, npix, npix), or
    (2, nchan, npix, npix) with the PSF."""
    _java_only("image_block")


def grid_stats(partials, image):
    """Per channel of a block: visibilities gridded and dropped, and the sum of the imaging weights."""
    _java_only("grid_stats")
