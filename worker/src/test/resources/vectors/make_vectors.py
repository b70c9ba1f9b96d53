"""Writes serde_vectors.json: values as Dask 2022.12.1 serializes them, for the Java unit tests.

Run with the Debian interpreter that carries distributed 2022.12.1, from this directory:
    /usr/bin/python3 make_vectors.py
Each vector: the sub-header exactly as a peer sends it (msgpack, with num-sub-frames), its data
frames, and what the Java side should read (or the error it should give).
"""
import json
import pickle

import msgpack
import numpy as np
from distributed.protocol.compression import maybe_compress
from distributed.protocol.serialize import serialize_and_split
from distributed.protocol.core import msgpack_encode_default


def sub(x, serializers=None, compress=None):
    header, frames = serialize_and_split(x, serializers=serializers)
    if compress:
        comp = list(header.get("compression", [None] * len(frames)))
        for i, f in enumerate(frames):
            comp[i], frames[i] = maybe_compress(f, compression=compress)
        header["compression"] = tuple(comp)
    header["num-sub-frames"] = len(frames)
    h = msgpack.dumps(header, default=msgpack_encode_default, use_bin_type=True)
    return {"header": h.hex(), "frames": [bytes(f).hex() for f in frames]}


vectors = {
    "f8_1d": (np.arange(10.0), None, None),
    "i4_2d": (np.arange(6, dtype="i4").reshape(2, 3), None, None),
    "f8_fortran": (np.asfortranarray(np.arange(6.0).reshape(2, 3)), None, None),
    "f8_strided": (np.arange(12.0).reshape(3, 4)[:, ::2], None, None),
    "f4_1d": (np.arange(4, dtype="f4") / 2, None, None),
    "i8_0d": (np.array(7, dtype="i8"), None, None),
    "f8_empty": (np.zeros((0, 3)), None, None),
    "u1_1d": (np.arange(5, dtype="u1"), None, None),
    "f8_broadcast": (np.broadcast_to(np.arange(3.0), (2, 3)), None, None),
    "f8_lz4": (np.zeros(100_000), None, "lz4"),
    "f8_zlib": (np.ones(50_000), None, "zlib"),
    "msgpack_int": (42, ["msgpack"], None),
    "msgpack_tuple": ((1, 2.5, "x", None, True, b"b"), ["msgpack"], None),
    "pickle_float": (2.5, ["pickle"], None),
    "pickle_dict": ({"a": [1, 2], "b": (3.0, None)}, ["pickle"], None),
    "pickle_bigint": (2 ** 70, ["pickle"], None),
    "bytes": (b"abc", None, None),
    "collection": ((np.arange(3.0), 5), None, None),
    "numpy_scalar": (np.float64(1.5), None, None),
    "object_array": (np.array([1, "a"], dtype=object), None, None),
    "big_endian": (np.arange(3, dtype=">f8"), None, None),
}

out = {}
for name, (x, serializers, compress) in vectors.items():
    out[name] = sub(x, serializers, compress)

# The function and argument pickles a 2022 client sends (distributed.worker.dumps_function/warn_dumps).
import sys
sys.path.insert(0, "../../../../python")
import cloudviper.tasks as cv  # noqa: E402
from distributed.worker import dumps_function, warn_dumps  # noqa: E402


def local(x):
    return x


out["pickles"] = {
    "function_p5": dumps_function(cv.arange_f64).hex(),
    "function_p4": pickle.dumps(cv.sum, protocol=4).hex(),
    "function_p2": pickle.dumps(cv.echo, protocol=2).hex(),
    "function_by_value": dumps_function(local).hex(),
    "args_scalars": warn_dumps((10, -3, 300, 70000, -70000, 2 ** 40, 2 ** 70, -(2 ** 70), 1.5, "x", b"y",
                                None, True, False)).hex(),
    "args_nested": warn_dumps(("dep-key", ["dep-key", {"k": ("dep-key", 1)}], ())).hex(),
    "args_memo": warn_dumps((("a", "a"), ["z"] * 3)).hex(),
    "args_numpy": warn_dumps((np.float64(1.0),)).hex(),
    "args_set": warn_dumps(({1, 2},)).hex(),
    "kwargs": warn_dumps({"n": 5, "scale": 2.0}).hex(),
    "legacy_task": pickle.dumps((cv.sum, "dep-key"), protocol=5).hex(),
    "legacy_apply": pickle.dumps((__import__("dask.utils").utils.apply, cv.scale, ["dep-key"], {"factor": 2.0}),
                                 protocol=5).hex(),
}

with open("serde_vectors.json", "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
