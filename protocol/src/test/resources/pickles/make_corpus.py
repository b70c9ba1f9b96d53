#!/usr/bin/env python3
"""Writes the update-graph pickle corpus of cloudviper's symbolic pickle slicer.

Run with the Dask 2024.12.1 interpreter of the trixie root (paths are inside the root):

    scripts/dask-trixie.sh ensure
    cp make_corpus.py .cache/dask-trixie/tmp/ && chroot .cache/dask-trixie \
        /usr/bin/python3 /tmp/make_corpus.py OUT [--captured DIR] [--large N] [--only NAME,...]

Every case drives a real in-process Client (LocalCluster, processes=False) through its public
API (submit, map, compute, get), so the graph pickle is produced by distributed's own code path
(Client._graph_to_futures -> serialize(ToPickle(hlg))). The update-graph message is captured in
Client._send_to_scheduler and still forwarded, so the graph also runs for real. Large cases
(--large) are captured without being forwarded.

For each case OUT/<name>/ holds:
  graph.pkl        graph_frames[0], the pickle of ToPickle(HighLevelGraph)
  buf<i>.bin       graph_frames[1 + i], protocol-5 out-of-band buffers (absent for captured
                   graph6, whose 800,000-byte buffer is np.arange(100000.0); the test rebuilds it)
  expected/<n>.pkl pickle.dumps(node) for every key of the graph as Python's scheduler holds it
                   (distributed.scheduler._materialize_graph: ensure_dict + convert_legacy_graph)
  meta.json        name, description, buffers (count), writeable, keys (update-graph "keys"),
                   tasks [{key, deps, type, expected, expected_buffers}], task_count,
                   layers [{name, class, annotations}], expect_error (a substring of the Java
                   error, or null), regenerate_buffers (buffers not stored, as Python expressions)
Keys in JSON: str -> string, int -> number, float -> {"float": repr}, bytes -> {"bytes": hex},
tuple -> array. deps are sorted by repr.

--captured DIR adds DIR/graph*.pkl (+ graph*.buf<i>) captured from a real 2024.12.1 client as
cap24_graph<n>. --large N writes large_map, large_tasks and large_delayed with N tasks each
(not committed, and without expected/: the Java tests generate them at test time to time the
slicer; verify_slices.py computes the expected nodes itself).
"""
import argparse
import glob
import json
import os
import shutil
import sys

import numpy as np

import dask
import dask.array as da
import dask.bag as db
from dask._task_spec import Alias, Task
from distributed import Client, LocalCluster
from distributed.client import Client as _Client
from distributed.protocol import pickle as dask_pickle
from distributed.protocol.serialize import deserialize
from distributed.scheduler import _materialize_graph

CAPTURED = []
FORWARD = [True]
_orig_send = _Client._send_to_scheduler


def _capturing_send(self, msg):
    if msg.get("op") == "update-graph":
        CAPTURED.append(msg)
        if not FORWARD[0]:
            return None
    return _orig_send(self, msg)


_Client._send_to_scheduler = _capturing_send


# Functions defined in __main__ travel by value (cloudpickle), as in a user's script.
def inc(x):
    return x + 1


def add(x, y=0):
    return x + y


def add3(x, y, z=0):
    return x + y + z


def total(*arrays):
    return float(sum(float(np.sum(a)) for a in arrays))


def scale(x, arr=()):
    return x * len(arr)


def combine(items, mapping, pair):
    return sum(items) + sum(mapping.values()) + sum(pair)


def make_mul(factor):
    def mul(x):
        return x * factor
    return mul


def enc(k):
    if isinstance(k, bool) or k is None:
        raise TypeError(f"not a key: {k!r}")
    if isinstance(k, str):
        return k
    if isinstance(k, int):
        return k
    if isinstance(k, float):
        return {"float": repr(k)}
    if isinstance(k, bytes):
        return {"bytes": k.hex()}
    if isinstance(k, tuple):
        return [enc(p) for p in k]
    raise TypeError(f"not a key: {k!r}")


def plain(v):
    """Annotation values as JSON; callables as {"callable": qualname}."""
    if callable(v):
        return {"callable": getattr(v, "__qualname__", repr(v))}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [plain(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return repr(v)


def write_case(out, name, description, header, frames, expect_error=None, keys=None, expected=True):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "expected"))
    with open(os.path.join(d, "graph.pkl"), "wb") as f:
        f.write(bytes(frames[0]))
    for i, b in enumerate(frames[1:]):
        if name == "cap24_graph6" and i == 0:
            assert bytes(b) == np.arange(100000.0).tobytes()
            continue
        with open(os.path.join(d, f"buf{i}.bin"), "wb") as f:
            f.write(bytes(b))
    graph = deserialize(header, list(frames)).data
    layers = []
    for lname, layer in graph.layers.items():
        layers.append({
            "name": enc(lname),
            "class": type(layer).__module__ + "." + type(layer).__qualname__,
            "annotations": plain(layer.annotations) if layer.annotations else None,
        })
    graph_buffers = [bytes(b) for b in frames[1:]]
    dsk, deps, _ = _materialize_graph(graph, {}, False, set(keys or ()))
    tasks = []
    for n, (k, node) in enumerate(dsk.items() if expected else ()):
        rel = f"expected/{n:05d}.pkl"
        # What the scheduler does with a run_spec: distributed's pickle (cloudpickle fallback),
        # protocol 5 with out-of-band buffers. A buffer equal to a graph buffer is stored as a
        # reference to it ("graph:<i>"), any other one next to the pickle.
        buffers = []
        with open(os.path.join(d, rel), "wb") as f:
            f.write(dask_pickle.dumps(node, protocol=5, buffer_callback=buffers.append))
        refs = []
        for j, b in enumerate(buffers):
            raw = bytes(b.raw())
            if raw in graph_buffers:
                refs.append(f"graph:{graph_buffers.index(raw)}")
            else:
                brel = f"expected/{n:05d}.buf{j}.bin"
                with open(os.path.join(d, brel), "wb") as f:
                    f.write(raw)
                refs.append(brel)
        tasks.append({
            "key": enc(k),
            "deps": [enc(x) for x in sorted(deps[k], key=repr)],
            "type": type(node).__name__,
            "expected": rel,
            "expected_buffers": refs,
        })
    meta = {
        "name": name,
        "description": description,
        "buffers": len(frames) - 1,
        "writeable": list(header.get("writeable", ())),
        "keys": [enc(k) for k in sorted(keys or (), key=repr)],
        "layers": layers,
        "tasks": tasks,
        "task_count": len(dsk),
        "expect_error": expect_error,
    }
    if name == "cap24_graph6":
        meta["regenerate_buffers"] = {"0": "numpy.arange(100000.0)"}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


def run_case(out, c, name, description, action, expect_error=None, forward=True, expected=True):
    del CAPTURED[:]
    FORWARD[0] = forward
    try:
        result = action(c)
    finally:
        FORWARD[0] = True
    if not CAPTURED:
        raise RuntimeError(f"{name}: no update-graph was sent")
    msg = CAPTURED[-1]
    write_case(out, name, description, msg["graph_header"], msg["graph_frames"],
               expect_error=expect_error, keys=msg["keys"], expected=expected)
    if forward and result is not None:
        futures = result if isinstance(result, list) else [result]
        try:
            c.gather(futures)
        except Exception as e:  # the corpus is about graphs; a failing task is still a graph
            print(f"{name}: computing raised {type(e).__name__}: {e}", file=sys.stderr)
    print(f"{name}: {len(msg['graph_frames'][0])} bytes, {len(msg['graph_frames']) - 1} buffers")


def cases():
    def readonly(a):
        a = a.copy()
        a.setflags(write=False)
        return a

    arr = np.arange(2000.0)

    def dependent(c):
        fx = c.submit(inc, 1, key=("x", 0, 1))
        return c.submit(add, fx, 2)

    def containers(c):
        fa = c.submit(inc, 1)
        fb = c.submit(inc, 2)
        return c.submit(combine, [fa, fb], {"k": fa, "n": 5}, (fa, 3))

    def map_futures(c):
        futs = c.map(inc, range(3))
        return c.map(inc, futs)

    @dask.delayed(pure=True)
    def dinc(x):
        return x + 1

    @dask.delayed(pure=True)
    def dadd(x, y):
        return x + y

    @dask.delayed(pure=True)
    def dcombine(items, mapping, pair):
        return sum(items) + sum(mapping.values()) + sum(pair)

    def delayed_chain(c):
        z = dinc(dinc(1))
        return c.compute(dadd(z, dinc(2)))

    def delayed_containers(c):
        a, b = dinc(1), dinc(2)
        return c.compute([dcombine([a, b], {"k": a, "n": 5}, (a, 3)), a])

    def array_optimized(c):
        x = da.ones((10, 10), chunks=5)
        return c.compute((x + 1).sum(), optimize_graph=True)

    def array_from_numpy(c):
        x = da.from_array(np.arange(2000.0), chunks=500)
        return c.compute((x * 2).sum(), optimize_graph=True)

    def blockwise(c):
        x = da.ones((10, 10), chunks=5)
        return c.compute((x + 1).sum(), optimize_graph=False)

    def bag_fold(c):
        b = db.from_sequence(range(10), npartitions=3)
        return c.compute(b.fold(lambda a, b: a + b))

    def annotated(c):
        with dask.annotate(priority=3, retries=2, resources={"CPU": 1}):
            z = dinc(dadd(1, 2))
        c.compute(z)
        return None  # no worker offers the "CPU" resource: do not wait for it

    def callable_annotation(c):
        with dask.annotate(priority=lambda k: 7):
            z = dinc(10)
        return c.compute(z)

    def legacy_raw(c):
        dsk = {
            "a": 1,
            "b": (inc, "a"),
            "c": (add, "a", "b"),
            "d": ["a", "b", (inc, "b")],
            "e": "c",
            "f": (add, 1, (inc, "a")),
            1: 10,
            "g": (inc, 1),
            "h": (len, [1, "a", ("a", "b")]),
            "i": (len, {"x": "b", "y": "a"}),
            ("t", 0): (inc, 2),
            "j": (inc, ("t", 0)),
        }
        return c.get(dsk, ["c", "d", "e", "f", "g", "h", "i", "j"], sync=False)

    yield "submit_inc", "client.submit(inc, 1)", lambda c: c.submit(inc, 1), None
    yield "submit_kwargs", "client.submit(add, 1, y=2)", lambda c: c.submit(add, 1, y=2), None
    yield ("submit_tuple_key", "client.submit(inc, 1, key=('x', 0, 1))",
           lambda c: c.submit(inc, 1, key=("x", 0, 1)), None)
    yield ("submit_dependent_alias", "submit(add, future_of_('x',0,1), 2): Alias to an external key",
           dependent, None)
    yield ("submit_containers", "submit with futures inside list/dict/tuple args (List, Dict, Tuple nodes)",
           containers, None)
    yield "map3", "client.map(inc, range(3)): _MapLayer", lambda c: c.map(inc, range(3)), None
    yield "map100", "client.map(inc, range(100)): _MapLayer", lambda c: c.map(inc, range(100)), None
    yield ("map_kwargs", "client.map(add3, range(5), range(5, 10), z=3): two iterables + small kwargs",
           lambda c: c.map(add3, range(5), range(5, 10), z=3), None)
    yield "map_futures", "client.map(inc, futures): Alias args in a _MapLayer", map_futures, None
    yield "map_lambda", "client.map(lambda x: x * 2, range(4))", lambda c: c.map(lambda x: x * 2, range(4)), None
    yield "map_closure", "client.map(make_mul(7), range(3)): a closure", lambda c: c.map(make_mul(7), range(3)), None
    yield ("map_numpy", "client.map(total, [3 arrays]): one out-of-band buffer per task",
           lambda c: c.map(total, [arr[:100], arr[100:300] + 1, readonly(arr[:50])]), None)
    # sizeof([None] * 10000) is 160 kB (> 1e5): _MapLayer makes it a DataNode keyed "arr" + Alias.
    yield ("map_big_kwargs", "client.map(scale, range(3), arr=[None] * 10000): DataNode + ref on the scheduler",
           lambda c: c.map(scale, range(3), arr=[None] * 10000), "DataNode")
    yield ("numpy_arg", "client.submit(total, np.arange(2000.0)): out-of-band buffer",
           lambda c: c.submit(total, arr), None)
    shared = arr[:500]
    yield ("numpy_shared_readonly", "submit(total, a, ro, a): a buffer used twice (memo) and a READONLY_BUFFER",
           lambda c: c.submit(total, shared, readonly(arr[500:700]), shared), None)
    yield "delayed_chain", "dask.delayed graph: legacy tuple tasks with str key references", delayed_chain, None
    yield ("delayed_containers", "delayed with list/dict/tuple args + compute of a list (finalize)",
           delayed_containers, None)
    yield "array_optimized", "dask.array (x + 1).sum(), optimize_graph=True: fused Tasks", array_optimized, None
    yield ("array_from_numpy", "da.from_array(np.arange(2000.0)) * 2 sum: data embedded in the graph",
           array_from_numpy, None)
    yield "bag_fold", "dask.bag fold with a lambda", bag_fold, None
    yield "annotated", "dask.annotate(priority=3, retries=2, resources={'CPU': 1})", annotated, None
    yield "callable_annotation", "dask.annotate(priority=lambda k: 7)", callable_annotation, None
    yield ("legacy_raw", "client.get on a raw dict: data, nested tuple tasks, lists of keys, aliases, int key",
           legacy_raw, None)
    yield ("blockwise_unoptimized", "(x + 1).sum() with optimize_graph=False: Blockwise layers",
           blockwise, None)
    yield from layer_cases()


def part_frame(i):
    """from_map's function: a small deterministic partition."""
    import pandas as pd
    return pd.DataFrame({"a": [i, i + 1, i % 2], "b": [0.5 * i, 1.5, 2.5 * i]})


def layer_cases():
    """Layers Dask's scheduler materializes by running them, expanded by cloudviper (PickledLayers)."""
    import pandas as pd
    import dask.dataframe as dd

    n = 60
    pdf = pd.DataFrame({"a": np.arange(n) % 7, "b": np.arange(n) * 0.5, "c": (np.arange(n) * 7919) % 13})
    small = pd.DataFrame({"a": range(7), "name": list("abcdefg")})
    x = da.arange(144, chunks=30).reshape((12, 12)).rechunk((5, 4))

    def df():
        return dd.from_pandas(pdf, npartitions=4)

    def compute(coll, **kw):
        return lambda c: c.compute(coll(), **kw)

    yield "df_sum", "from_pandas(...).b.sum(): Blockwise + DataFrameTreeReduction", compute(lambda: df().b.sum()), None
    yield ("df_groupby_agg", "groupby().agg(): Blockwise + DataFrameTreeReduction",
           compute(lambda: df().groupby("a").agg({"b": "sum", "c": "max"})), None)
    yield ("df_groupby_split_out", "groupby().sum(split_out=2): tree reduction with splits, SimpleShuffleLayer",
           compute(lambda: df().groupby("a").b.sum(split_out=2)), None)
    yield ("df_merge_hash", "merge on a column: SimpleShuffleLayers (task shuffle) + Blockwise",
           compute(lambda: dd.merge(df(), dd.from_pandas(pdf.iloc[::3], npartitions=3), on="a")), None)
    yield ("df_merge_broadcast", "merge(how='left', broadcast=True): BroadcastJoinLayer with hash splits",
           compute(lambda: dd.merge(df(), dd.from_pandas(small, npartitions=2), on="a", how="left",
                                    broadcast=True)), None)
    yield ("df_merge_broadcast_inner", "merge(broadcast=True): inner BroadcastJoinLayer",
           compute(lambda: dd.merge(df(), dd.from_pandas(small, npartitions=2), on="a", broadcast=True)), None)
    yield "df_set_index", "set_index on a column: the shuffle graph", compute(lambda: df().set_index("c")), None
    yield "df_shuffle", "shuffle on a column: SimpleShuffleLayer", compute(lambda: df().shuffle("a")), None
    yield ("df_shuffle_stages", "shuffle(max_branch=3) of 10 partitions: three ShuffleLayer stages",
           compute(lambda: dd.from_pandas(pdf, npartitions=10).shuffle("c", max_branch=3)), None)
    yield ("df_from_map", "dd.from_map(...) with optimize_graph=False: DataFrameIOLayer with a BlockwiseDepDict",
           compute(lambda: dd.from_map(part_frame, [1, 2, 3]).b.sum(), optimize_graph=False), None)
    yield ("df_unoptimized", "a dataframe expression with optimize_graph=False: unfused Blockwise layers",
           compute(lambda: (df().b + df().c).map_partitions(lambda s: s * 2).sum(), optimize_graph=False), None)
    yield ("array_matmul", "x @ x.T with optimize_graph=False: lists of blocks along the contracted index",
           compute(lambda: x @ x.T, optimize_graph=False), None)
    yield ("array_drop_axis", "map_blocks(drop_axis=1), optimize_graph=False: concatenate=True (nested Task)",
           compute(lambda: x.map_blocks(lambda b: b.sum(axis=1), drop_axis=1, dtype=x.dtype), optimize_graph=False),
           None)
    yield ("array_overlap", "map_overlap(depth=1), optimize_graph=False: ArrayOverlapLayer",
           compute(lambda: x.map_overlap(lambda b: b * 2, depth=1, boundary="none"), optimize_graph=False), None)
    yield ("array_overlap_2d", "map_overlap(depth={0: 1, 1: 2}) on 3x3 blocks: corners and edges",
           compute(lambda: da.ones((9, 9), chunks=3).map_overlap(lambda b: b + 1, depth={0: 1, 1: 2},
                                                                 boundary="none"), optimize_graph=False), None)
    yield ("array_rechunk", "rechunk with optimize_graph=False", compute(lambda: x.rechunk((12, 3)),
                                                                         optimize_graph=False), None)
    yield ("array_from_numpy_unoptimized", "from_array(...).T + 1, optimize_graph=False: ArraySliceDep IO input",
           compute(lambda: da.from_array(np.arange(40.0).reshape(8, 5), chunks=(3, 2)).T + 1, optimize_graph=False),
           None)
    yield ("array_block_info", "map_blocks with block_info: ArrayValuesDep and ArrayChunkShapeDep IO inputs",
           compute(lambda: da.ones((6, 6), chunks=3).map_blocks(
               lambda b, block_info=None: b * block_info[0]["chunk-location"][0], dtype=float),
               optimize_graph=False), None)
    yield ("array_block_id", "map_blocks with block_id: ArrayBlockIdDep IO input",
           compute(lambda: da.ones((6, 6), chunks=3).map_blocks(lambda b, block_id=None: b * block_id[1],
                                                                dtype=float), optimize_graph=False), None)
    yield ("df_groupby_apply", "groupby().apply(): cloudpickled SimpleShuffleLayer, its priority a MethodType",
           compute(lambda: df().groupby("a").apply(lambda g: g.b.sum(), meta=(None, "f8"))), None)
    yield ("df_to_delayed", "to_delayed() (as to_csv computes it): a MaterializedLayer holding a HighLevelGraph",
           lambda c: c.compute(df().b.map_partitions(lambda s: s * 2).to_delayed()), None)
    yield ("array_rechunk_p2p", "rechunk(method='p2p'), optimized: materialized P2P tasks, refused",
           compute(lambda: x.rechunk((12, 2), method="p2p")), "P2PBarrierTask")
    yield ("bag_unoptimized", "bag map + sum with optimize_graph=False",
           compute(lambda: db.from_sequence(range(20), npartitions=4).map(lambda v: v + 1).sum(),
                   optimize_graph=False), None)


def large_cases(n):
    def large_map(c):
        return c.map(inc, range(n))

    def large_tasks(c):
        keys = [f"chain-{i}" for i in range(n)]
        dsk = {keys[0]: Task(keys[0], inc, 0)}
        for i in range(1, n):
            dsk[keys[i]] = Task(keys[i], add, Alias(keys[i - 1]), i)
        c._graph_to_futures(dsk, keys[-1:], span_metadata={"collections": []})
        return None

    def large_delayed(c):
        dsk = {"d-0": (inc, 0)}
        for i in range(1, n):
            dsk[f"d-{i}"] = (add, f"d-{i - 1}", i)
        c.get(dsk, [f"d-{n - 1}"], sync=False)
        return None

    yield "large_map", f"client.map(inc, range({n}))", large_map, None
    yield "large_tasks", f"{n} Task nodes, each an Alias to the previous one", large_tasks, None
    yield "large_delayed", f"{n} legacy tuple tasks in a chain", large_delayed, None


def captured(out, directory):
    for path in sorted(glob.glob(os.path.join(directory, "graph*.pkl"))):
        stem = os.path.splitext(os.path.basename(path))[0]
        frames = [open(path, "rb").read()]
        for b in sorted(glob.glob(os.path.join(directory, stem + ".buf*"))):
            frames.append(open(b, "rb").read())
        header = {"serializer": "pickle", "writeable": tuple(False for _ in frames[1:])}
        graph = deserialize(header, frames).data
        keys = set()
        for layer in graph.layers.values():
            keys.update(layer.get_output_keys())
        write_case(out, "cap24_" + stem, f"captured from a real 2024.12.1 client: {stem}",
                   header, frames, keys=keys)
        print(f"cap24_{stem}: {len(frames[0])} bytes, {len(frames) - 1} buffers")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--captured")
    p.add_argument("--large", type=int, default=0)
    p.add_argument("--only", default="")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = set(filter(None, a.only.split(",")))
    dask.config.set({"distributed.admin.large-graph-warning-threshold": "10GB"})
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster, Client(cluster) as c:
        if not a.large or only:
            for name, description, action, err in cases():
                if only and name not in only:
                    continue
                run_case(a.out, c, name, description, action, err)
        if a.large:
            for name, description, action, err in large_cases(a.large):
                if only and name not in only:
                    continue
                run_case(a.out, c, name, description, action, err, forward=False, expected=False)
    if a.captured:
        captured(a.out, a.captured)


if __name__ == "__main__":
    main()
