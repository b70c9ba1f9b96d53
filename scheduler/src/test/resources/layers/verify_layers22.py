#!/usr/bin/env python3
"""Checks cloudviper's unpacking of 2022.12.1 layers against the Python scheduler's own.

Run with a Dask 2022.12.1 interpreter:  verify_layers22.py DIR
DIR/<case>.bin       an update-graph-hlg message as a client wrote it (make_layers22.py)
DIR/<case>.java.bin  cloudviper's unpacking of it: one message, a list of
                     {key, deps, function, args, kwargs, run_spec} as the scheduler holds its tasks

For every case, the message is read as Python's scheduler reads it (deserialize=False) and unpacked
by HighLevelGraph.__dask_distributed_unpack__ (self-dependencies removed, as update_graph_hlg
does). Then:
1. the key sets are equal and every key's dependencies are equal;
2. every task reaches a worker alike: each side's spec goes through the wire (dumps, then loads
   with deserialize=True, as a worker receives compute-task) and distributed.worker._deserialize,
   and the (function, args, kwargs) are compared under norm() (functions by name or code,
   pandas objects by their pickle, other objects by type and __reduce_ex__, recursively);
3. both graphs run (each task as a worker runs it: its dependencies' results packed into its
   arguments by key) and every key's result is compared under the same norm().
A layer Python's own unpack cannot read (ArrayOverlapLayer's default packing) is checked against
the base Layer unpack, which takes the packed tasks as they are, and counted as python_fails.

Prints "OK <case> ..." or "FAIL <case> ..." lines and "SUMMARY cases=<c> tasks=<t> failures=<f>
python_fails=<p>"; exits 1 on any failure.
"""
import functools
import os
import pickle
import struct
import sys
import types

import numpy as np

from dask.highlevelgraph import Layer
from distributed.protocol import dumps, loads
from distributed.protocol.serialize import import_allowed_module
from distributed.utils_comm import pack_data
from distributed.worker import _deserialize
from distributed.worker_state_machine import SerializedTask

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_layers22  # noqa: E402  (the input files, recreated byte for byte)

MISSING = object()


def read_frames(path):
    b = open(path, "rb").read()
    n = struct.unpack_from("<Q", b, 8)[0]
    lens = struct.unpack_from("<%dQ" % n, b, 16)
    off = 16 + 8 * n
    frames = []
    for ln in lens:
        frames.append(b[off:off + ln])
        off += ln
    return frames


def unpack(hlg):
    """HighLevelGraph.__dask_distributed_unpack__, with the base unpack where Python's own fails."""
    dsk, deps, python_fails = {}, {}, 0
    for layer in hlg["layers"]:
        if layer["__module__"] is None:
            unpack_state = Layer.__dask_distributed_unpack__
        else:
            cls = getattr(import_allowed_module(layer["__module__"]), layer["__name__"])
            unpack_state = cls.__dask_distributed_unpack__
        try:
            unpacked = unpack_state(layer["state"], dsk, deps)
        except TypeError:
            if "dsk" not in layer["state"]:
                raise
            python_fails += 1
            unpacked = Layer.__dask_distributed_unpack__(layer["state"], dsk, deps)
        dsk.update(unpacked["dsk"])
        for k, v in unpacked["deps"].items():
            deps[k] = deps.get(k, set()) | v
    for k, v in deps.items():
        deps[k] = set(v) - {k}
    return dsk, deps, python_fails


def on_worker(spec):
    """A spec as the scheduler holds it -> (function, args, kwargs) as the worker deserializes it."""
    msg = {"function": None, "args": None, "kwargs": None, "run_spec": None}
    if isinstance(spec, dict):
        msg.update(spec)
    else:
        msg["run_spec"] = spec
    msg = loads(dumps(msg), deserialize=True)
    if msg["function"] is not None:
        st = SerializedTask(function=msg["function"], args=msg["args"], kwargs=msg["kwargs"])
    else:
        st = SerializedTask(task=msg["run_spec"])
    return _deserialize(*st)


def code_names(code, out):
    out.update(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            code_names(c, out)
    return out


def norm(o, seen=None):
    if seen is None:
        seen = {}
    t = type(o)
    if o is None or t in (bool, int, str, bytes, complex):
        return (t.__name__, o)
    if t is float:
        return ("float", repr(o))
    if t is tuple:
        # A value: whether two equal tuples are one object depends on unpickling, not on the task
        # (a tuple can only be cyclic through a mutable item, which is tracked).
        return ("tuple", tuple(norm(x, seen) for x in o))
    if id(o) in seen:
        return ("<ref>", seen[id(o)][0])
    seen[id(o)] = (len(seen), o)  # holding o keeps its id from being reused by a temporary
    if t is list:
        return ("list", tuple(norm(x, seen) for x in o))
    if t in (set, frozenset):
        return (t.__name__, tuple(sorted((norm(x, seen) for x in o), key=repr)))
    if t is dict:
        return ("dict", tuple((norm(k, seen), norm(v, seen)) for k, v in o.items()))
    if t.__module__.startswith("pandas"):
        return ("pandas", t.__qualname__, pickle.dumps(o, protocol=5))
    if isinstance(o, np.ndarray):
        return ("ndarray", o.dtype.str, o.shape, o.tobytes())
    if isinstance(o, np.generic):
        return ("npscalar", o.dtype.str, o.tobytes())
    if isinstance(o, types.FunctionType):
        mod = sys.modules.get(o.__module__)
        if mod is not None and getattr(mod, o.__qualname__, None) is o:
            return ("func", o.__module__, o.__qualname__)
        names = code_names(o.__code__, set())
        return ("dynfunc", o.__module__, o.__qualname__, norm(o.__code__, seen), norm(o.__defaults__, seen),
                norm(o.__kwdefaults__, seen),
                tuple(norm(c.cell_contents, seen) if c.cell_contents is not None else None
                      for c in (o.__closure__ or ())),
                tuple(sorted(((n, norm(o.__globals__[n], seen)) for n in names if n in o.__globals__),
                             key=repr)))
    if isinstance(o, types.CodeType):
        return ("code", o.co_code, norm(o.co_consts, seen), o.co_names, o.co_varnames, o.co_name)
    if isinstance(o, (type, types.ModuleType, types.BuiltinFunctionType)):
        return ("global", getattr(o, "__module__", None), getattr(o, "__qualname__", getattr(o, "__name__", None)))
    if isinstance(o, functools.partial):
        return ("partial", norm(o.func, seen), norm(o.args, seen), norm(o.keywords, seen))
    if isinstance(o, types.MethodType):
        return ("method", norm(o.__self__, seen), o.__func__.__name__)
    if isinstance(o, BaseException):
        return ("exception", t.__qualname__, str(o))
    rv = o.__reduce_ex__(5)
    if isinstance(rv, str):
        return ("named", t.__module__, t.__qualname__, rv)
    return ("reduce", t.__module__, t.__qualname__, tuple(norm(x, seen) for x in rv))


def execute(tasks, deps):
    """Every key's result, each task run as a worker runs it; errors become exceptions."""
    results, pending = {}, dict(tasks)
    while pending:
        progress = False
        for k, (func, args, kwargs) in list(pending.items()):
            if all(d in results for d in deps[k]):
                data = {d: results[d] for d in deps[k]}
                try:
                    results[k] = func(*pack_data(args, data, key_types=(bytes, str)),
                                      **pack_data(kwargs, data, key_types=(bytes, str)))
                except Exception as e:
                    results[k] = e
                del pending[k]
                progress = True
        if not progress:
            raise RuntimeError(f"unmet dependencies among {list(pending)[:5]}")
    return results


def check_case(d, name):
    msgs = loads(read_frames(os.path.join(d, name + ".bin")), deserialize=False)
    [msg] = [m for m in msgs if isinstance(m, dict) and m.get("op") == "update-graph-hlg"]
    dsk, deps, python_fails = unpack(msg["hlg"])
    [java] = loads(read_frames(os.path.join(d, name + ".java.bin")), deserialize=False)
    failures = []
    jdsk, jdeps = {}, {}
    for t in java:
        spec = {k: t[k] for k in ("function", "args", "kwargs") if t[k] is not None} if t["function"] is not None \
            else t["run_spec"]
        if t["key"] in jdsk:
            failures.append(f"{t['key']!r}: twice in cloudviper's graph")
        jdsk[t["key"]], jdeps[t["key"]] = spec, set(t["deps"])
    if set(jdsk) != set(dsk):
        failures.append(f"keys differ: only Python {sorted(set(dsk) - set(jdsk))[:5]},"
                        f" only cloudviper {sorted(set(jdsk) - set(dsk))[:5]}")
    ptasks, jtasks = {}, {}
    for k in dsk:
        if k not in jdsk:
            continue
        if jdeps[k] != deps.get(k, set()):
            failures.append(f"{k!r}: dependencies {sorted(jdeps[k])} != Python's {sorted(deps.get(k, set()))}")
        ptasks[k], jtasks[k] = on_worker(dsk[k]), on_worker(jdsk[k])
        if norm(ptasks[k]) != norm(jtasks[k]):
            failures.append(f"{k!r}: the worker gets {jtasks[k]!r:.300}, Python's scheduler sends {ptasks[k]!r:.300}")
    executed = 0
    if not failures:
        presults = execute(ptasks, {k: deps.get(k, set()) for k in ptasks})
        jresults = execute(jtasks, {k: jdeps[k] for k in jtasks})
        for k in presults:
            executed += 1
            if norm(presults[k]) != norm(jresults[k]):
                failures.append(f"{k!r}: result {jresults[k]!r:.200} != Python's {presults[k]!r:.200}")
    return len(dsk), executed, python_fails, failures


def main():
    d = sys.argv[1]
    make_layers22.data_dir()
    names = sorted(f[:-len(".java.bin")] for f in os.listdir(d) if f.endswith(".java.bin"))
    tasks = failed = python_fails = 0
    for name in names:
        try:
            n, executed, pf, failures = check_case(d, name)
        except Exception as e:  # a crash in one case is that case's failure
            n, executed, pf, failures = 0, 0, 0, [f"{type(e).__name__}: {e}"]
        tasks += n
        python_fails += pf
        if failures:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(failures[:5]))
        else:
            print(f"OK {name} tasks={n} executed={executed}")
    print(f"SUMMARY cases={len(names)} tasks={tasks} failures={failed} python_fails={python_fails}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
