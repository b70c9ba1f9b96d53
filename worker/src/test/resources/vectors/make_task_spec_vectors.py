"""Writes task_spec_2024.json: run_specs as a Dask 2024.12.1 scheduler pickles them for a worker.

Run with the trixie interpreter that carries distributed 2024.12.1 (the chroot sees only its root):
    cp make_task_spec_vectors.py $DASK_TRIXIE_ROOT/tmp/ && \\
    PYTHONPATH=/tmp/cvpy scripts/dask-trixie.sh python /tmp/make_task_spec_vectors.py > task_spec_2024.json
with worker/python copied to $DASK_TRIXIE_ROOT/tmp/cvpy. Each vector: the pickle (hex) as
distributed.protocol.pickle.dumps writes a ToPickle run_spec, and what the Java side should read.
"""
import json
import sys

from dask._task_spec import DataNode, Task, TaskRef, parse_input
from distributed.protocol import pickle

import cloudviper.tasks as cv


def inc(x):
    return x + 1


def vec(task, expect):
    buffers = []
    data = pickle.dumps(task, protocol=5, buffer_callback=buffers.append)
    return {"pickle": data.hex(), "buffers": len(buffers), "expect": expect}


vectors = {
    "plain": vec(Task("k", cv.arange_f64, 10), {"function": "cloudviper.tasks.arange_f64", "args": [10]}),
    "alias_kwargs": vec(Task("k2", cv.scale, TaskRef("k"), factor=2.5),
                        {"function": "cloudviper.tasks.scale", "args": [{"dep": "k"}], "kwargs": {"factor": 2.5}}),
    "tuple_key": vec(Task("k3", cv.sum, TaskRef(("x", 1))),
                     {"function": "cloudviper.tasks.sum", "args": [{"dep": ["x", 1]}]}),
    "nested": vec(Task("k4", cv.echo, parse_input({"a": [1, TaskRef("k")], "s": ("x", None, True, b"b")})),
                  {"function": "cloudviper.tasks.echo",
                   "args": [{"a": [1, {"dep": "k"}], "s": ["x", None, True, "bytes:62"]}]}),
    "data_node": vec(Task("k5", cv.echo, DataNode("d", 7)), {"function": "cloudviper.tasks.echo", "args": [7]}),
    "by_value": vec(Task("k6", inc, 1), {"error": "cannot run a Python function pickled by value"}),
    "nested_call": vec(Task("k7", cv.echo, Task("inner", cv.arange_f64, 3)),
                       {"error": "cannot run nested tasks or function arguments (cloudviper.tasks.arange_f64)"}),
}
json.dump({"distributed": __import__("distributed").__version__, "vectors": vectors}, sys.stdout, indent=1)
print()
